"""CountingStore: one request's view of a store, counting the reads it costs."""

from __future__ import annotations

from collections.abc import Collection

from gateway.catalog import Object, ObjectRef, Query
from gateway.catalog.kinds import meta
from gateway.store import Store, Versioned


class CountingStore:
    """Wraps a store for one request; `reads` becomes the X-Gateway-Store-Reads header."""

    def __init__(self, store: Store, versions: Versioned | None = None) -> None:
        self._store = store
        self._versions = versions
        self.reads = 0
        self.objects: set[ObjectRef] = set()
        """Objects it asked for by name, found or not: a change to one changes the answer."""
        self.found: set[ObjectRef] = set()
        """Objects its searches returned: a change to one, or its deletion, changes the answer."""
        self.queries: list[Query] = []
        """Its searches by selector or join: an object that starts to match one changes the answer."""
        self.referrer_queries: list[tuple[ObjectRef, str]] = []
        """Its reverse-link searches (target, kind): an object that starts to refer to the target does."""
        self.generations: dict[str, int | None] = {}
        """Each kind's generation when first read, before reading: if it still holds, nothing changed since."""

    def _read(self, kind: str) -> None:
        self.reads += 1
        if kind not in self.generations:
            self.generations[kind] = self._versions.generation(kind) if self._versions is not None else None

    def get(self, ref: ObjectRef) -> Object | None:
        self._read(ref.kind)
        self.objects.add(ref)
        return self._store.get(ref)

    def get_many(self, kind: str, namespace: str | None, names: Collection[str]) -> dict[str, Object]:
        self._read(kind)
        self.objects.update(ObjectRef(kind, namespace, n) for n in names)
        return self._store.get_many(kind, namespace, names)

    def select(self, query: Query) -> list[Object]:
        self._read(query.kind)
        self.queries.append(query)
        return self._found(query.kind, self._store.select(query))

    def referrers(self, target: ObjectRef, kind: str) -> list[Object]:
        self._read(kind)
        self.referrer_queries.append((target, kind))
        return self._found(kind, self._store.referrers(target, kind))

    def _found(self, kind: str, objects: list[Object]) -> list[Object]:
        for obj in objects:
            self.found.add(ref_of(kind, obj))
        return objects

    def absorb(self, earlier: CountingStore, *, counted: bool = False) -> None:
        """What another view read, for a piece of this request's answer, counts as read by this one
        too: `counted` if it was read for this request, else it is a remembered piece's and costs no
        read now. Each kind's generation is taken as of now: the piece is valid now."""
        if counted:
            self.reads += earlier.reads
        for kind in earlier.generations:
            if kind not in self.generations:
                self.generations[kind] = self._versions.generation(kind) if self._versions is not None else None
        self.objects |= earlier.objects
        self.found |= earlier.found
        self.queries += earlier.queries
        self.referrer_queries += earlier.referrer_queries

    def readiness(self) -> tuple[bool, str]:
        return self._store.readiness()


def ref_of(kind: str, obj: Object) -> ObjectRef:
    """The name of an object as read: its namespace as it says (None when it has none)."""
    m = meta(obj)
    return ObjectRef(kind, m.get("namespace") or None, str(m.get("name", "")))
