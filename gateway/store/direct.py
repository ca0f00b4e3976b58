"""DirectStore: read the API on every request (`--cache none`), through a per-request memo.

No watch and no cache between requests: each answer is as fresh as the API server's. The
batch handlers matter most here, since every store read is an API call: one list per
(kind, namespace) instead of a get per object.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Collection
from typing import Any

from gateway.catalog import Catalog, Kind, Object, ObjectRef, Query
from gateway.catalog.selectors import LabelSelector
from gateway.store import Store
from gateway.store.errors import StoreUnavailable
from gateway.store.kube import ApiError, KubeApi, Served
from gateway.store.live import complete
from gateway.store.normalize import normalize


class DirectStore:
    def __init__(self, catalog: Catalog, api: KubeApi, page_size: int = 500, discovery_seconds: float = 300.0) -> None:
        self.catalog, self.api, self.page_size = catalog, api, page_size
        self.discovery_seconds = discovery_seconds
        self._served: dict[str, Served] | None = None
        self._discovered_at = 0.0
        self._lock = threading.Lock()

    def served_kinds(self) -> Collection[str] | None:
        served = self._served
        return None if served is None else set(served)

    def catalogue_changed(self) -> None:
        """Declared kinds or links were applied: the next read asks which kinds the cluster serves."""
        self._served = None

    def _kind(self, name: str) -> tuple[Kind, Served | None]:
        """The kind and where the cluster serves it; discovery is asked again every
        `discovery_seconds`, and at once after a list of a kind believed served answers 404."""
        if self._served is None or time.monotonic() - self._discovered_at > self.discovery_seconds:
            with self._lock:
                if self._served is None or time.monotonic() - self._discovered_at > self.discovery_seconds:
                    self._served = self.api.discover([k for k in self.catalog.kinds() if not k.part])
                    self._discovered_at = time.monotonic()
        return self.catalog.kind(name), self._served.get(name)

    def _list(self, kind: Kind, served: Served, namespace: str | None, selector: LabelSelector) -> list[Object]:
        query: dict[str, Any] = {"limit": self.page_size}
        if selector:
            query["labelSelector"] = str(selector)
        items: list[Object] = []
        while True:
            try:
                page = self.api.get_json(served.path(namespace if kind.namespaced else None), query)
            except ApiError as e:
                if e.status != 404:
                    raise
                self._discovered_at = float("-inf")  # no longer served: the next read asks discovery
                return []
            items += [normalize(complete(o, kind, served)) for o in page.get("items") or []]
            token = (page.get("metadata") or {}).get("continue")
            if not token:
                return items
            query = {**query, "continue": token}

    def get(self, ref: ObjectRef) -> Object | None:
        kind, served = self._kind(ref.kind)
        if served is None:
            return None
        try:
            obj = self.api.get_json(served.path(ref.namespace if kind.namespaced else None, ref.name))
        except ApiError as e:
            if e.status == 404:
                return None
            raise
        if obj.get("kind", kind.name) != kind.name:  # a get answered by anything else is never served
            raise StoreUnavailable(f"the API server answered a get of a {kind.name} with a {obj.get('kind')}")
        return normalize(complete(obj, kind, served))

    def get_many(self, kind: str, namespace: str | None, names: Collection[str]) -> dict[str, Object]:
        if len(names) == 1:
            (name,) = names
            obj = self.get(ObjectRef(kind, namespace, name))
            return {name: obj} if obj is not None else {}
        k, served = self._kind(kind)
        if served is None or not names:
            return {}
        wanted = set(names)
        return {n: o for o in self._list(k, served, namespace, LabelSelector()) if (n := _key(o)[1]) in wanted}

    def select(self, query: Query) -> list[Object]:
        kind, served = self._kind(query.kind)
        if served is None:
            return []
        return [o for o in self._list(kind, served, query.namespace, query.selector) if query.matches(o)]

    def referrers(self, target: ObjectRef, kind: str) -> list[Object]:
        # where they can be: every namespace when a reference may cross one (a multus network `ns/name`)
        return self.referrers_many(kind, self.catalog.referrer_scope(kind, target), [target])[target]

    def referrers_many(
        self, kind: str, namespace: str | None, targets: Collection[ObjectRef]
    ) -> dict[ObjectRef, list[Object]]:
        k, served = self._kind(kind)
        if served is None:
            return {target: [] for target in targets}
        return self.catalog.referrers_among(k, self._list(k, served, namespace, LabelSelector()), targets)

    def for_request(self, counted: Store) -> Store:
        """One request's memo over its counted reads: nothing is read from the API twice in it."""
        return MemoStore(counted)

    def readiness(self) -> tuple[bool, str]:
        try:
            self._kind("VirtualMachine")
        except ApiError as e:
            return False, f"the API server is not reachable: {e.detail}"
        return True, f"API server {self.api.host}: reading directly, no cache"


class MemoStore:
    """One request's memo over a store: nothing is read from the API twice in one request.

    Once a request has listed a (kind, namespace), later gets and multi-gets there are
    answered from that list, so links of different kinds that land on the same kind at
    one level (an instancetype's and a preference's pinned revisions) cost one list.
    """

    def __init__(self, store: Store) -> None:
        self._store = store
        self._memo: dict[tuple[Any, ...], Any] = {}
        self._listings: dict[tuple[str, str | None], dict[tuple[str | None, str], Object]] = {}

    def _once(self, key: tuple[Any, ...], read: Any) -> Any:
        if key not in self._memo:
            self._memo[key] = read()
        return self._memo[key]

    def _listing(self, kind: str, namespace: str | None) -> dict[tuple[str | None, str], Object]:
        """A listing by (namespace, name): across all namespaces, two objects may share a name."""
        if (kind, namespace) not in self._listings:
            listed = self._store.select(Query(kind, namespace))
            self._listings[(kind, namespace)] = {_key(o): o for o in listed}
        return self._listings[(kind, namespace)]

    def get(self, ref: ObjectRef) -> Object | None:
        listing = self._listings.get((ref.kind, ref.namespace))
        if listing is not None:
            return listing.get((ref.namespace, ref.name))
        result: Object | None = self._once(("get", ref), lambda: self._store.get(ref))
        return result

    def get_many(self, kind: str, namespace: str | None, names: Collection[str]) -> dict[str, Object]:
        if len(names) == 1 and (kind, namespace) not in self._listings:
            (name,) = names
            obj = self.get(ObjectRef(kind, namespace, name))
            return {name: obj} if obj is not None else {}
        listing = self._listing(kind, namespace)
        return {n: listing[(namespace, n)] for n in names if (namespace, n) in listing}

    def select(self, query: Query) -> list[Object]:
        # memoize what the API returns; the predicate (a closure per call) runs on it after.
        # The API has no join index: a join hint is dropped, and the whole scope read once.
        if not query.selector:
            listed = list(self._listing(query.kind, query.namespace).values())
        else:
            base = Query(query.kind, query.namespace, query.selector)
            listed = self._once(("select", base), lambda: self._store.select(base))
        return [o for o in listed if query.matches(o)]

    def referrers(self, target: ObjectRef, kind: str) -> list[Object]:
        result: list[Object] = self._once(("referrers", target, kind), lambda: self._store.referrers(target, kind))
        return result

    def referrers_many(
        self, kind: str, namespace: str | None, targets: Collection[ObjectRef]
    ) -> dict[ObjectRef, list[Object]]:
        wanted = frozenset(targets)
        result: dict[ObjectRef, list[Object]] = self._once(
            ("referrers_many", kind, namespace, wanted), lambda: self._store.referrers_many(kind, namespace, wanted)
        )
        return result

    def readiness(self) -> tuple[bool, str]:
        return self._store.readiness()


def _key(obj: Object) -> tuple[str | None, str]:
    meta = obj.get("metadata")
    if not isinstance(meta, dict):
        return None, ""
    namespace = meta.get("namespace")
    return (str(namespace) if namespace else None), str(meta.get("name", ""))
