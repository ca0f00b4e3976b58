"""The ConfigMaps that declare links (`--kube`): one list and watch, kept current, handed on whole.

Every ConfigMap labelled `kubevirt-gateway.io/links=true` in one namespace (`--links-namespace`)
holds LinkCatalog documents, one per data key. `LinkConfigMaps` lists them, then watches that one
labelled list (in both cache modes: a handful of small objects, and an edit takes effect at once
rather than at the next poll), and after every change that alters a document hands the whole
current set to `apply` (the catalogue's, which parses, leaves out the bad ones and swaps the
catalogue). Each document's error is logged once, when it first appears, not on every change.

It reads through the gateway's own identity: deploy/ grants it a Role on configmaps in its namespace.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol

from gateway.store.kube import ApiError, KubeApi, Served
from gateway.store.live import Backoff, Gone, Listed, Page, list_then_watch, utc_text

log = logging.getLogger(__name__)

LABEL = "kubevirt-gateway.io/links"
SELECTOR = f"{LABEL}=true"
SERVICE_ACCOUNT_NAMESPACE = Path("/var/run/secrets/kubernetes.io/serviceaccount/namespace")
_CONFIGMAPS = Served("", "v1", "configmaps")
_MAX_ERROR = 300
"""What of one document's error /readyz repeats: its source, line, field and message, never the text."""


def pod_namespace(env: Mapping[str, str] | None = None, path: Path = SERVICE_ACCOUNT_NAMESPACE) -> str:
    """The namespace the gateway runs in, found as client-go's in-cluster config finds it:
    $POD_NAMESPACE (the Deployment sets it from the downward API), else the service account's
    namespace file, else `default`."""
    env = os.environ if env is None else env
    if env.get("POD_NAMESPACE"):
        return env["POD_NAMESPACE"]
    try:
        namespace = path.read_text().strip()
    except OSError:
        namespace = ""
    return namespace or "default"


def source_name(namespace: str, name: str, key: str) -> str:
    """One document's name in errors, logs and /catalog: a data key cannot hold `/`."""
    return f"configmap/{namespace}/{name}/{key}"


class SourceStatus(Protocol):
    """What `apply` says of one document (the catalogue's `SourceStatus`)."""

    @property
    def source(self) -> str: ...

    @property
    def error(self) -> str | None: ...


Apply = Callable[[Mapping[str, str]], Sequence[SourceStatus]]


class LinkConfigMaps:
    """Keeps the declared links of one namespace's labelled ConfigMaps applied. Its thread runs in
    the serving process: `start` is called before each request (gunicorn builds the app, then forks)."""

    def __init__(self, api: KubeApi, namespace: str, apply: Apply, *, watch_seconds: float = 300.0) -> None:
        self.api, self.namespace, self.apply = api, namespace or pod_namespace(), apply
        self.watch_seconds = watch_seconds
        self._maps: dict[str, dict[str, str]] = {}
        """Each labelled ConfigMap's data, by name."""
        self._documents: dict[str, str] | None = None
        """What was last handed to `apply`; None: nothing yet."""
        self._logged: dict[str, str] = {}
        """Each document's error as last logged: logged again only when it changes."""
        self._errors: list[str] = []
        self._resource_version: str | None = None
        self._failing_since, self._last_error = 0.0, ""
        self._pid: int | None = None
        self._lock = threading.Lock()
        self._attempted = threading.Event()
        self._listed = threading.Event()
        self._stopping = threading.Event()

    # --- lifecycle ---------------------------------------------------------------------

    def start(self, wait: bool = True) -> None:
        """Start the watch in this process if it is not running; unless told not to `wait` (liveness), the
        first calls wait (up to the API timeout) for the first list, so no request is answered without the
        declared links."""
        if self._pid == os.getpid() and self._attempted.is_set():  # the usual case: no lock, no wait
            return
        with self._lock:
            if self._pid != os.getpid():
                self._pid = os.getpid()
                self._attempted, self._listed = threading.Event(), threading.Event()
                self._resource_version = None
                threading.Thread(target=self._run, name="declared-links", daemon=True).start()
        if wait:
            self._attempted.wait(self.api.timeout)

    def close(self) -> None:
        self._stopping.set()

    def _run(self) -> None:
        backoff = Backoff()
        while not self._stopping.is_set():
            try:
                self._follow()
                backoff.reset()
            except Gone:
                self._resource_version = None
            except ApiError as e:
                self._failed(str(e))
                delay = backoff.next()
                (log.debug if e.unanswered else log.warning)(
                    "declared links: ConfigMaps in %s: %s; retrying in %.1fs", self.namespace, e, delay
                )
                self._stopping.wait(delay)
            except Exception:  # a bug must not end the watch for good
                log.exception("declared links: unexpected error watching ConfigMaps in %s", self.namespace)
                self._failed("unexpected error (logged)")
                self._resource_version = None
                self._stopping.wait(backoff.next())

    def _failed(self, error: str) -> None:
        self._last_error, self._failing_since = error, self._failing_since or time.time()
        self._attempted.set()

    def _follow(self) -> None:
        listing: dict[str, dict[str, str]] | None = None
        stream = list_then_watch(
            self.api, _CONFIGMAPS, self._resource_version, 500, self.watch_seconds,
            namespace=self.namespace, selector=SELECTOR,
        )  # fmt: skip
        for item in stream:
            if self._stopping.is_set():
                return
            if isinstance(item, Page):
                listing = listing or {}
                listing.update(_named_data(o) for o in item.objects if isinstance(o, dict))
            elif isinstance(item, Listed):
                self._maps, listing = listing or {}, None
                self._resource_version = item.resource_version
                self._changed()
                self._listed.set()
                self._attempted.set()
            elif isinstance(item, dict):
                self._event(item)
            self._last_error, self._failing_since = "", 0.0

    def _event(self, event: dict[str, Any]) -> None:
        obj = event.get("object")
        if not isinstance(obj, dict):
            return
        version = (obj.get("metadata") or {}).get("resourceVersion")
        if event.get("type") in ("ADDED", "MODIFIED"):
            name, data = _named_data(obj)
            self._maps[name] = data
            self._changed()
        elif event.get("type") == "DELETED":  # deleted, or its label taken off
            self._maps.pop(_named_data(obj)[0], None)
            self._changed()
        self._resource_version = version or self._resource_version

    # --- applying ----------------------------------------------------------------------

    def _changed(self) -> None:
        """Hand the whole set to `apply` if a document changed (a status-only edit changes none)."""
        documents = {
            source_name(self.namespace, name, key): text
            for name, data in sorted(self._maps.items())
            for key, text in sorted(data.items())
        }
        if documents == self._documents:
            return
        try:
            statuses = self.apply(documents)
        except Exception:  # the catalogue's bug: the previous declarations stay, the watch goes on
            log.exception("declared links: applying the ConfigMaps of %s failed", self.namespace)
            return
        self._documents = documents
        errors = {s.source: s.error for s in statuses if s.error and s.source in documents}
        for source, error in sorted(errors.items()):
            if self._logged.get(source) != error:
                log.warning("declared links: %s left out: %s", source, error)
        for source in sorted(set(self._logged) - set(errors)):
            if source in documents:
                log.info("declared links: %s applied", source)
        self._logged = errors
        self._errors = [_brief(f"{e}" if e.startswith(s) else f"{s}: {e}") for s, e in sorted(errors.items())]
        log.info(
            "declared links: %d documents from ConfigMaps in %s, %d left out",
            len(documents), self.namespace, len(errors),
        )  # fmt: skip

    # --- reading -----------------------------------------------------------------------

    def documents(self) -> dict[str, str]:
        return dict(self._documents or {})

    def readiness(self) -> tuple[bool, str]:
        """Unready until the labelled ConfigMaps were listed once; after that a failing watch keeps the
        declarations it had (every replica would fail together), and a bad document is named, not fatal."""
        self.start()
        where = f"ConfigMaps labelled {SELECTOR} in {self.namespace}"
        if not self._listed.is_set():
            return False, f"cannot list the {where} yet: {self._last_error or 'listing'}"
        count = len(self._documents or {})
        reason = f"declared links: {count} document{'' if count == 1 else 's'} from {where}"
        if self._errors:
            reason += f"; left out: {'; '.join(self._errors)}"
        if self._failing_since:
            reason += f"; their watch has been failing since {utc_text(self._failing_since)}: {self._last_error}"
        return True, reason


def _named_data(obj: dict[str, Any]) -> tuple[str, dict[str, str]]:
    """A ConfigMap's name and its text documents (binaryData holds no YAML, and is passed over)."""
    name = str((obj.get("metadata") or {}).get("name") or "")
    data = obj.get("data")
    return name, {str(k): v for k, v in data.items() if isinstance(v, str)} if isinstance(data, dict) else {}


def _brief(error: str) -> str:
    first = error.splitlines()[0] if error else error
    return first if len(first) <= _MAX_ERROR else first[: _MAX_ERROR - 1] + "…"
