"""ObjectIndex: objects by key, namespace, label, join key, and who references whom.

Pure and single-threaded: callers that mutate it from several threads hold a lock.
The reverse index is fed by the catalogue's `references()`, so a new `Named` link
is indexed without a change here.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Hashable, Iterable

from gateway.catalog import Catalog, Join, Object, ObjectRef, Query
from gateway.catalog.kinds import labels_of, meta

Key = tuple[str, str | None, str]  # kind, namespace, name


def key_of(kind: str, obj: Object) -> Key:
    m = meta(obj)
    ns = m.get("namespace")
    return kind, str(ns) if ns else None, str(m.get("name", ""))


def _version(obj: Object) -> tuple[str, str]:
    m = meta(obj)
    return str(m.get("uid") or ""), str(m.get("resourceVersion") or "")


def _sort_key(obj: Object) -> tuple[str, str]:
    m = meta(obj)
    return str(m.get("namespace") or ""), str(m.get("name", ""))


class ObjectIndex:
    def __init__(self, catalog: Catalog) -> None:
        self._catalog = catalog
        self._objects: dict[Key, Object] = {}
        self._by_namespace: dict[tuple[str, str | None], dict[str, Object]] = defaultdict(dict)
        self._by_kind: dict[str, set[Key]] = defaultdict(set)
        self._by_label: dict[tuple[str, str, str], set[Key]] = defaultdict(set)
        self._referrers: dict[ObjectRef, set[Key]] = defaultdict(set)
        self._references: dict[Key, set[ObjectRef]] = {}
        self._by_join: dict[tuple[str, Join, Hashable], set[Key]] = defaultdict(set)
        self._joins = {k.name: catalog.joins(k.name) for k in catalog.kinds()}

    def __len__(self) -> int:
        return len(self._objects)

    def count(self, kind: str) -> int:
        return len(self._by_kind.get(kind, ()))

    def put(self, kind: str, obj: Object) -> None:
        key = key_of(kind, obj)
        if key in self._objects:
            self.remove(kind, obj)
        self._objects[key] = obj
        self._by_kind[kind].add(key)
        self._by_namespace[(kind, key[1])][key[2]] = obj
        for label, value in labels_of(obj).items():
            self._by_label[(kind, str(label), str(value))].add(key)
        self._index_links(key, obj)

    def _index_links(self, key: Key, obj: Object) -> None:
        kind = key[0]
        known = self._catalog.known(kind)
        refs = set(self._catalog.references(known, obj)) if known is not None else set()
        self._references[key] = refs
        for ref in refs:
            self._referrers[ref].add(key)
        for join in self._joins.get(kind, ()):
            for join_key in join.candidate(obj):
                self._by_join[(kind, join, join_key)].add(key)

    def reindex(self) -> None:
        """The catalogue took other entries (declared links applied at run time): what each object
        names, and its join keys, indexed again from them."""
        self._joins = {k.name: self._catalog.joins(k.name) for k in self._catalog.kinds()}
        self._referrers, self._references, self._by_join = defaultdict(set), {}, defaultdict(set)
        for key, obj in self._objects.items():
            self._index_links(key, obj)

    def remove(self, kind: str, obj: Object) -> None:
        key = key_of(kind, obj)
        old = self._objects.pop(key, None)
        if old is None:
            return
        self._by_kind[kind].discard(key)
        self._by_namespace[(kind, key[1])].pop(key[2], None)
        for label, value in labels_of(old).items():
            self._by_label[(kind, str(label), str(value))].discard(key)
        for ref in self._references.pop(key, ()):
            self._referrers[ref].discard(key)
        for join in self._joins.get(kind, ()):
            for join_key in join.candidate(old):
                self._by_join[(kind, join, join_key)].discard(key)

    def replace_kind(self, kind: str, objects: Iterable[Object]) -> list[tuple[Object | None, Object | None]]:
        """Make `kind` exactly `objects` (after a re-list): what is gone was deleted meanwhile. Returns
        the difference it made, (old, new) per object added, changed or removed; an object whose
        resourceVersion did not change is kept as it was (with what was derived from it)."""
        fresh = {key_of(kind, o): o for o in objects}
        made: list[tuple[Object | None, Object | None]] = []
        for key in [k for k in self._by_kind.get(kind, ()) if k not in fresh]:
            made.append((self._objects[key], None))
            self.remove(kind, self._objects[key])
        for key, obj in fresh.items():
            old = self._objects.get(key)
            if old is not None and _version(obj)[1] and _version(old) == _version(obj):
                continue
            made.append((old, obj))
            self.put(kind, obj)
        return made

    def clear_kind(self, kind: str) -> list[Object]:
        """Forget every object of `kind`; returns them."""
        removed = [self._objects[key] for key in self._by_kind.get(kind, ())]
        for obj in removed:
            self.remove(kind, obj)
        return removed

    def get_key(self, kind: str, obj: Object) -> Object | None:
        """The stored object with `obj`'s kind, namespace and name (its previous version)."""
        return self._objects.get(key_of(kind, obj))

    def get(self, ref: ObjectRef) -> Object | None:
        return self._objects.get((ref.kind, ref.namespace, ref.name))

    def get_many(self, kind: str, namespace: str | None, names: Collection[str]) -> dict[str, Object]:
        objects = self._by_namespace.get((kind, namespace), {})
        return {n: objects[n] for n in names if n in objects}

    def select(self, query: Query) -> list[Object]:
        candidates = self._candidates(query)
        return sorted((o for o in candidates if query.matches(o)), key=_sort_key)

    def _candidates(self, query: Query) -> Iterable[Object]:
        # narrow by the most selective index at hand, then let query.matches decide
        if query.joined is not None and query.joined[0] in self._joins.get(query.kind, ()):
            join, keys = query.joined
            return self._objects_at({k for key in keys for k in self._by_join.get((query.kind, join, key), ())})
        equalities = query.selector.equalities()
        if equalities:
            sets = [self._by_label.get((query.kind, k, v), set()) for k, v in equalities.items()]
            return self._objects_at(set.intersection(*sets))
        if query.namespace is not None:
            return list(self._by_namespace.get((query.kind, query.namespace), {}).values())
        return self._objects_at(self._by_kind.get(query.kind, ()))

    def referrers(self, target: ObjectRef, kind: str, namespace: str | None = None) -> list[Object]:
        """Objects of `kind` (in `namespace`; None: any) that name `target`."""
        keys = [k for k in self._referrers.get(target, ()) if k[0] == kind and namespace in (None, k[1])]
        return sorted(self._objects_at(keys), key=_sort_key)

    def referrers_many(
        self, kind: str, namespace: str | None, targets: Collection[ObjectRef]
    ) -> dict[ObjectRef, list[Object]]:
        return {target: self.referrers(target, kind, namespace) for target in targets}

    def _objects_at(self, keys: Iterable[Key]) -> list[Object]:
        return [self._objects[k] for k in keys if k in self._objects]
