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
        refs = set(self._catalog.references(self._catalog.kind(kind), obj))
        self._references[key] = refs
        for ref in refs:
            self._referrers[ref].add(key)
        for join in self._joins[kind]:
            for join_key in join.candidate(obj):
                self._by_join[(kind, join, join_key)].add(key)

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
        for join in self._joins[kind]:
            for join_key in join.candidate(old):
                self._by_join[(kind, join, join_key)].discard(key)

    def replace_kind(self, kind: str, objects: Iterable[Object]) -> None:
        """Make `kind` exactly `objects` (after a re-list): what is gone was deleted meanwhile."""
        fresh = {key_of(kind, o): o for o in objects}
        for key in [k for k in self._by_kind.get(kind, ()) if k not in fresh]:
            self.remove(kind, self._objects[key])
        for obj in fresh.values():
            self.put(kind, obj)

    def clear_kind(self, kind: str) -> None:
        for key in list(self._by_kind.get(kind, ())):
            self.remove(kind, self._objects[key])

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
        if query.joined is not None and query.joined[0] in self._joins[query.kind]:
            join, keys = query.joined
            return self._objects_at({k for key in keys for k in self._by_join.get((query.kind, join, key), ())})
        equalities = query.selector.equalities()
        if equalities:
            sets = [self._by_label.get((query.kind, k, v), set()) for k, v in equalities.items()]
            return self._objects_at(set.intersection(*sets))
        if query.namespace is not None:
            return list(self._by_namespace.get((query.kind, query.namespace), {}).values())
        return self._objects_at(self._by_kind.get(query.kind, ()))

    def referrers(self, target: ObjectRef, kind: str) -> list[Object]:
        keys = [k for k in self._referrers.get(target, ()) if k[0] == kind]
        return sorted(self._objects_at(keys), key=_sort_key)

    def _objects_at(self, keys: Iterable[Key]) -> list[Object]:
        return [self._objects[k] for k in keys if k in self._objects]
