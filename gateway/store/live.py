"""WatchCache: the live store, answering from memory kept current by one watch per kind.

Each kind has a `Reflector` in the style of client-go's: LIST (paged) then WATCH from the
list's resourceVersion with bookmarks; on 410 Gone it lists again and reconciles (objects
that vanished meanwhile are removed, none is duplicated); on a cut stream it resumes from
the last resourceVersion; on errors it backs off with jitter. A kind's reflector starts the
first time a request needs it and stops after `idle_seconds` without use, unless pinned (a live
stream reads it). Kinds the cluster does not serve (a CRD not installed) are empty, not errors.

Every change the cache makes to what it holds is published on its `ChangeFeed`, one `Change` per
object: a watch event; a re-list, as the difference it made; a watch stopped, or a kind no longer
served, as the deletion of each object it held.
"""

from __future__ import annotations

import gc
import logging
import os
import random
import threading
import time
from collections import Counter
from collections.abc import Collection, Iterator
from dataclasses import dataclass, field
from typing import Any

from gateway.catalog import Catalog, Held, Kind, Object, ObjectRef, Query
from gateway.store.errors import StoreTimeout, StoreUnavailable
from gateway.store.feed import Change, ChangeFeed
from gateway.store.indexes import ObjectIndex
from gateway.store.kube import ApiError, KubeApi, Served
from gateway.store.normalize import normalize, problems

log = logging.getLogger(__name__)


class Gone(Exception):
    """The watch's resourceVersion is too old: list again."""


# guards adopting a process after a fork; made anew in the child, where a copy could be held
_ADOPT_LOCK = threading.Lock()


def _new_adopt_lock() -> None:
    global _ADOPT_LOCK
    _ADOPT_LOCK = threading.Lock()


os.register_at_fork(after_in_child=_new_adopt_lock)


@dataclass
class KindStats:
    objects: int = 0
    relists: int = 0
    restarts: int = 0
    malformed: int = 0
    bookmarks: int = 0
    synced: bool = False
    watching: bool = False
    last_error: str = ""
    failing_since: float = 0.0
    """Wall-clock time of the first error since the watch last worked; 0 while it works."""

    def failed(self, error: str) -> None:
        self.last_error = error
        self.restarts += 1
        self.failing_since = self.failing_since or time.time()

    def working(self) -> None:
        self.last_error, self.failing_since = "", 0.0


_JITTER = random.Random()
"""The backoff's own generator: the module's shared one is the application's (and a test's seed)."""


@dataclass
class Backoff:
    """Exponential backoff with full jitter, so replicas do not retry in step."""

    base: float = 0.2
    cap: float = 10.0
    attempt: int = 0

    def next(self) -> float:
        self.attempt += 1
        return _JITTER.uniform(0, min(self.cap, self.base * 2**self.attempt))

    def reset(self) -> None:
        self.attempt = 0


def utc_text(seconds: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(seconds))


def complete(obj: Object, kind: Kind, served: Served) -> Object:
    """apiVersion and kind first, always: list items of built-in kinds come without them, and a GET
    answers them in another order (kind first) than a list, so one object read two ways would
    otherwise give two byte strings, and two ETags, for one answer."""
    keys = list(obj)
    if keys[:2] == ["apiVersion", "kind"]:
        return obj
    api_version = obj.get("apiVersion") or (f"{served.group}/{served.version}" if served.group else served.version)
    rest = {k: v for k, v in obj.items() if k not in ("apiVersion", "kind")}
    return {"apiVersion": api_version, "kind": obj.get("kind") or kind.name, **rest}


@dataclass(frozen=True, slots=True)
class Watching:
    """The watch is open: the API server answers."""


@dataclass(frozen=True, slots=True)
class Page:
    """One page of a list: its objects as the API server sent them."""

    objects: list[Any]


@dataclass(frozen=True, slots=True)
class Listed:
    """The list is whole (its pages all given): what they held replaces the cache's objects."""

    resource_version: str


def list_then_watch(
    api: KubeApi,
    served: Served,
    since: str | None,
    page_size: int,
    watch_seconds: float,
    *,
    namespace: str | None = None,
    selector: str = "",
) -> Iterator[Page | Listed | Watching | dict[str, Any]]:
    """One kind's objects, in the style of kopf's `continuous_watch`: each `Page` of a list and then
    `Listed` (unless resuming `since` a resourceVersion), `Watching` once the watch is open, then
    each watch event (a dict with `type` and `object`), until the watch ends (its timeout, or cut:
    the caller resumes from the last resourceVersion it saw). Pages are given one by one, so a
    page's raw objects are let go once the caller has taken what it keeps of them.
    A 410 Gone raises `Gone` (list again); other errors are the API's. `namespace` and `selector`
    (a label selector) narrow what is listed and watched: the declared links' ConfigMaps."""
    path, narrowed = served.path(namespace), {"labelSelector": selector} if selector else {}
    if since is None:
        query: dict[str, Any] = {"limit": page_size, **narrowed}
        while True:
            page = api.get_json(path, query)
            meta = page.get("metadata") or {}
            yield Page(page.get("items") or [])
            del page
            if not meta.get("continue"):
                break
            query = {"limit": page_size, "continue": meta["continue"], **narrowed}
        since = str(meta.get("resourceVersion") or "")
        yield Listed(since)
    query = {"resourceVersion": since, "allowWatchBookmarks": "true", "timeoutSeconds": int(watch_seconds), **narrowed}
    events = api.watch(path, query, watch_seconds + 30)
    yield Watching()
    opened, seen = time.monotonic(), 0
    for event in events:
        obj = event.get("object")
        if event.get("type") == "ERROR" and isinstance(obj, dict):
            if obj.get("code") == 410:
                raise Gone()
            raise ApiError.of(int(obj.get("code") or 500), str(obj.get("reason")), str(obj.get("message")))
        seen += 1
        yield event
    if not seen and time.monotonic() - opened < min(1.0, watch_seconds / 2):
        # ended at once with nothing in it: not the server's timeout, so wait before the next one
        # rather than reconnecting in a tight loop
        raise ApiError(0, "Disconnected", f"the watch of {path} ended as soon as it opened")


class Reflector:
    """Keeps one kind of the cache current from `list_then_watch`. Runs on its own daemon thread."""

    def __init__(self, cache: WatchCache, kind: Kind, served: Served) -> None:
        self.cache, self.kind, self.served = cache, kind, served
        self.stats = cache.stats_of(kind.name)
        self.synced = threading.Event()
        self.stopping = threading.Event()
        self.resource_version: str | None = None
        self.last_used = time.monotonic()
        self.thread = threading.Thread(target=self.run, name=f"watch-{kind.name}", daemon=True)

    def run(self) -> None:
        backoff = Backoff()
        while not self.stopping.is_set():
            try:
                self.follow()
                backoff.reset()
            except Gone:
                log.info("%s: resourceVersion expired, listing again", self.kind.name)
                self.resource_version = None
            except ApiError as e:
                self.stats.failed(str(e))
                if e.status == 404:  # the kind is no longer served (a CRD removed or upgraded)
                    self.cache.rediscover()
                delay = backoff.next()
                # an API server that does not answer is logged once for every watch, by KubeApi's Outage
                (log.debug if e.unanswered else log.warning)("%s: %s; retrying in %.1fs", self.kind.name, e, delay)
                self.stopping.wait(delay)
            except Exception:  # a bug must not kill the watch for good
                log.exception("%s: unexpected error in the watch loop", self.kind.name)
                self.stats.failed("unexpected error in the watch loop (logged)")
                self.resource_version = None
                self.stopping.wait(backoff.next())
        self.stats.watching = False

    def follow(self) -> None:
        """One pass of `list_then_watch`, from where the last one left off."""
        cache = self.cache
        stream = list_then_watch(cache.api, self.served, self.resource_version, cache.page_size, cache.watch_seconds)
        self.stats.watching = True
        listing: list[Object] | None = None  # None: no list under way
        for item in stream:
            if self.stopping.is_set():
                return
            if isinstance(item, Page):
                if listing is None:  # a list's first page: its malformed objects are counted afresh
                    listing, self.stats.malformed = [], 0
                listing += [o for o in map(self.accepted, item.objects) if o is not None]
            elif isinstance(item, Listed):
                self.listed(listing or [], item.resource_version)
                listing = None
            elif isinstance(item, dict):
                self.apply(item)
            self.stats.working()

    def accepted(self, obj: Any) -> Object | None:
        """The object to keep, normalized; None (counted, logged without content) if it has no name."""
        found = problems(obj) if isinstance(obj, dict) else ["not an object"]
        if found:
            self.stats.malformed += 1
            log.warning("%s: malformed object (%s)", self.kind.name, "; ".join(found))
        if not isinstance(obj, dict) or "metadata.name is missing" in found or "metadata is not a map" in found:
            return None
        return Held(normalize(complete(obj, self.kind, self.served)))  # kept with what links derive from it

    def listed(self, objects: list[Object], resource_version: str) -> None:
        self.cache.replace(self, objects)
        self.resource_version = resource_version
        # The cache's objects live long and hold no cycles (refcounting frees them when replaced):
        # out of the cyclic collector's generations, a full collection no longer walks the whole
        # cache each time a big answer allocates (docs/decisions.md, "gc.freeze").
        gc.freeze()
        self.stats.relists += 1
        self.stats.synced = True
        self.synced.set()

    def apply(self, event: dict[str, Any]) -> None:
        kind, obj = event.get("type"), event.get("object")
        if not isinstance(obj, dict):
            log.warning("%s: watch event without an object, skipped", self.kind.name)
            return
        rv = (obj.get("metadata") or {}).get("resourceVersion")
        if kind == "BOOKMARK":
            self.stats.bookmarks += 1
            self.resource_version = rv or self.resource_version
            return
        if kind not in ("ADDED", "MODIFIED", "DELETED"):
            log.warning("%s: unknown watch event type %r, skipped", self.kind.name, kind)
            return
        accepted = self.accepted(obj)
        if accepted is not None:
            self.cache.put(self, accepted, deleted=kind == "DELETED")
        self.resource_version = rv or self.resource_version


@dataclass
class WatchCache:
    catalog: Catalog
    api: KubeApi
    idle_seconds: float = 600.0
    watch_seconds: float = 300.0
    page_size: int = 500
    discovery_seconds: float = 300.0
    index: ObjectIndex = field(init=False)
    lock: threading.RLock = field(init=False, default_factory=threading.RLock)
    _served: dict[str, Served] | None = field(init=False, default=None)
    _discovery_error: str = field(init=False, default="discovery has not run yet")
    _reflectors: dict[str, Reflector] = field(init=False, default_factory=dict)
    _stats: dict[str, KindStats] = field(init=False, default_factory=dict)
    _start_lock: threading.Lock = field(init=False, default_factory=threading.Lock)
    _closing: threading.Event = field(init=False, default_factory=threading.Event)
    changes: ChangeFeed = field(init=False, default_factory=ChangeFeed)
    """Every change the cache makes to what it holds (`Observable`)."""
    _pins: Counter[str] = field(init=False, default_factory=Counter)
    """Kinds in use by live streams: never reaped while pinned."""
    _pid: int | None = field(init=False, default=None)
    """The process whose threads keep this cache: gunicorn builds the app, then forks its worker."""
    _first_discovery: threading.Event = field(init=False, default_factory=threading.Event)
    _rediscover: threading.Event = field(init=False, default_factory=threading.Event)

    def __post_init__(self) -> None:
        self.index = ObjectIndex(self.catalog)

    # --- lifecycle ----------------------------------------------------------------------

    def start(self) -> WatchCache:
        """Discover in the background (retrying until the API server answers, then every
        `discovery_seconds`); reap idle watches.

        Runs in the process that serves: every read calls it, and after a fork (gunicorn builds
        the app in its master, then forks the worker) the child starts threads of its own,
        since none of the parent's survive the fork.
        """
        if self._pid == os.getpid():  # the usual case: one comparison, no lock
            return self
        with _ADOPT_LOCK:
            if self._pid != os.getpid():
                self._adopt_process()
        return self

    def _adopt_process(self) -> None:
        if self._pid is not None:  # forked: the parent's threads, and what they kept current, are gone
            self.lock = threading.RLock()
            self._start_lock = threading.Lock()
            self._reflectors = {}
            for kind in list(self._stats):
                self._publish(kind, [(obj, None) for obj in self.index.clear_kind(kind)])
            self._stats = {kind: KindStats() for kind in self._stats}
            self._closing, self._rediscover = threading.Event(), threading.Event()
            self._first_discovery = threading.Event()
            if self._served is not None:
                self._first_discovery.set()
        self._pid = os.getpid()
        threading.Thread(target=self._discover, name="discovery", daemon=True).start()
        threading.Thread(target=self._reap_idle, name="watch-reaper", daemon=True).start()

    def close(self) -> None:
        self._closing.set()
        self._rediscover.set()
        for reflector in list(self._reflectors.values()):
            reflector.stopping.set()

    def rediscover(self) -> None:
        """Ask the API server again which kinds it serves, now (a served kind answered 404)."""
        self._rediscover.set()

    def _discover(self) -> None:
        backoff = Backoff(cap=5.0)
        while not self._closing.is_set():
            kinds = [k for k in self.catalog.kinds() if not k.part]  # declared kinds come and go
            try:
                self._adopt_discovery(self.api.discover(kinds))
                backoff.reset()
                wait = self.discovery_seconds
            except ApiError as e:
                self._discovery_error = str(e)
                wait = backoff.next()
            finally:
                self._first_discovery.set()
            self._rediscover.wait(wait)
            self._rediscover.clear()

    def _adopt_discovery(self, served: dict[str, Served]) -> None:
        """Kinds appear and disappear without a restart: a kind no longer served is emptied."""
        previous, self._served = self._served, served
        if previous is None:
            absent = sorted(k.name for k in self.catalog.kinds() if not k.part and k.name not in served)
            if absent:
                log.info("not served by this cluster (treated as empty): %s", ", ".join(absent))
            return
        for kind in sorted(set(previous) | set(served)):
            if previous.get(kind) == served.get(kind):
                continue
            log.info("%s: now %s", kind, f"served at {served[kind].version}" if kind in served else "not served")
            self._stop_watch(kind)
            if kind in served and self._pins[kind]:  # a live stream reads it: it hears of its objects now
                self._watch(kind, served[kind])

    def served_kinds(self) -> Collection[str] | None:
        served = self._served
        return None if served is None else set(served)

    def catalogue_changed(self) -> None:
        """Declared kinds or links were applied: a kind the catalogue no longer has is no longer watched
        (its objects go, as deletions), what every held object names is indexed again, and the API
        server is asked now which kinds it serves (a new declared kind is watched on first use)."""
        known = {k.name for k in self.catalog.kinds()}
        for kind in [k for k in list(self._stats) if k not in known]:
            self._stop_watch(kind)
            self._stats.pop(kind, None)
        with self.lock:
            self.index.reindex()
        try:
            self._adopt_discovery(self.api.discover([k for k in self.catalog.kinds() if not k.part]))
        except ApiError:
            self.rediscover()  # the discovery thread retries with its backoff

    def _stop_watch(self, kind: str) -> None:
        with self._start_lock:
            reflector = self._reflectors.pop(kind, None)
            if reflector is not None:
                reflector.stopping.set()
            with self.lock:
                removed = self.index.clear_kind(kind)
            self._stats[kind] = KindStats()
        self._publish(kind, [(obj, None) for obj in removed])

    def _reap_idle(self) -> None:
        while not self._closing.wait(min(self.idle_seconds / 4, 30.0)):
            now = time.monotonic()
            idle = [name for name, r in list(self._reflectors.items())
                    if now - r.last_used > self.idle_seconds and not self._pins[name]]  # fmt: skip
            for name in idle:
                log.info("%s: idle for more than %.0fs, stopping its watch", name, self.idle_seconds)
                self._stop_watch(name)

    def pin(self, kinds: Collection[str]) -> None:
        """A live stream reads `kinds`: keep watching them however long no request does."""
        with self.lock:
            self._pins.update(kinds)

    def unpin(self, kinds: Collection[str]) -> None:
        with self.lock:
            self._pins.subtract(kinds)
            for kind in kinds:
                if self._pins[kind] <= 0:
                    del self._pins[kind]

    # --- changing (from the reflectors) -------------------------------------------------

    def replace(self, reflector: Reflector, objects: list[Object]) -> None:
        """A re-list: the kind becomes `objects`; the difference it made is published."""
        kind = reflector.kind.name
        with self.lock:
            if reflector.stopping.is_set():
                return  # stopped meanwhile: its objects were taken out, and must stay out
            made = self.index.replace_kind(kind, objects)
            reflector.stats.objects = self.index.count(kind)
        self._publish(kind, made)

    def put(self, reflector: Reflector, obj: Object, *, deleted: bool = False) -> None:
        """A watch event: `obj` added or modified, or deleted."""
        kind = reflector.kind.name
        with self.lock:
            if reflector.stopping.is_set():
                return
            old = self.index.get_key(kind, obj)
            if deleted:
                self.index.remove(kind, obj)
            else:
                self.index.put(kind, obj)
            reflector.stats.objects = self.index.count(kind)
        self._publish(kind, [(old, None if deleted else obj)])

    def _publish(self, kind: str, made: list[tuple[Object | None, Object | None]]) -> None:
        # outside the index's lock: subscribers take their own, and requests read meanwhile
        for old, new in made:
            if old is not None or new is not None:
                self.changes.publish(Change(kind, old, new))

    def stats_of(self, kind: str) -> KindStats:
        return self._stats.setdefault(kind, KindStats())

    def stats(self) -> dict[str, KindStats]:
        return dict(self._stats)

    def failing_watches(self) -> dict[str, tuple[float, str]]:
        return {k: (s.failing_since, s.last_error) for k, s in list(self._stats.items()) if s.failing_since}

    def watched_kinds(self) -> list[str]:
        return sorted(self._reflectors)

    # --- reading ------------------------------------------------------------------------

    def _served_kind(self, kind: str) -> Served | None:
        if self._served is not None:  # the usual case: discovered, no waiting, no lock
            return self._served.get(kind)
        self.start()
        self._first_discovery.wait(self.api.timeout)  # the first request waits for discovery, once
        if self._served is None:
            raise StoreUnavailable(f"the API server is not reachable yet: {self._discovery_error}")
        return self._served.get(kind)

    def _ensure(self, kind: str) -> bool:
        """Start `kind`'s watch if needed and wait until it has listed; False if not served."""
        reflector = self._reflectors.get(kind)
        if reflector is not None and reflector.synced.is_set():  # the usual case: no waiting, no lock
            reflector.last_used = time.monotonic()
            return True
        self.start()
        served = self._served_kind(kind)
        if served is None:
            return False
        reflector = self._watch(kind, served)
        if not reflector.synced.wait(self.api.timeout):
            error = self._stats[kind].last_error
            if error:
                raise StoreUnavailable(f"cannot list {kind}: {error}")
            raise StoreTimeout(f"{kind} has not finished listing after {self.api.timeout:.0f}s")
        return True

    def _watch(self, kind: str, served: Served) -> Reflector:
        """`kind`'s reflector, started if it is not running (one watch per kind per process)."""
        reflector = self._reflectors.get(kind)
        if reflector is None:
            with self._start_lock:
                reflector = self._reflectors.get(kind)
                if reflector is None:
                    reflector = Reflector(self, self.catalog.kind(kind), served)
                    self._reflectors[kind] = reflector
                    reflector.thread.start()
        reflector.last_used = time.monotonic()
        return reflector

    def get(self, ref: ObjectRef) -> Object | None:
        if not self._ensure(ref.kind):
            return None
        with self.lock:
            return self.index.get(ref)

    def get_many(self, kind: str, namespace: str | None, names: Collection[str]) -> dict[str, Object]:
        if not self._ensure(kind):
            return {}
        with self.lock:
            return self.index.get_many(kind, namespace, names)

    def select(self, query: Query) -> list[Object]:
        if not self._ensure(query.kind):
            return []
        with self.lock:
            return self.index.select(query)

    def referrers(self, target: ObjectRef, kind: str) -> list[Object]:
        if not self._ensure(kind):
            return []
        with self.lock:
            return self.index.referrers(target, kind)

    def referrers_many(
        self, kind: str, namespace: str | None, targets: Collection[ObjectRef]
    ) -> dict[ObjectRef, list[Object]]:
        if not self._ensure(kind):
            return {target: [] for target in targets}
        with self.lock:
            return self.index.referrers_many(kind, namespace, targets)

    def readiness(self) -> tuple[bool, str]:
        self.start()
        self._first_discovery.wait(self.api.timeout)
        if self._served is None:
            return False, f"the API server is not reachable: {self._discovery_error}"
        pending = sorted(k for k, r in self._reflectors.items() if not r.synced.is_set())
        if pending:
            return False, f"still listing: {', '.join(pending)}"
        watching = len(self._reflectors)
        ready = f"API server {self.api.host}: {watching} kinds watched, {len(self.index)} objects cached"
        # Once listed, a failing watch leaves the replica ready: every replica would fail together,
        # and a Service with no endpoints serves nobody; the answers say they may be stale instead.
        failing = sorted(f"{k} since {utc_text(s.failing_since)}: {s.last_error}" for k, s in self._stats.items()
                         if s.failing_since)  # fmt: skip
        if failing:
            return True, f"{ready}; serving from the cache while watches fail: {'; '.join(failing)}"
        return True, ready
