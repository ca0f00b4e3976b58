"""ReadRecorder: one request's view of a store, counting its reads and recording what they asked.

The count is the `X-Gateway-Store-Reads` header. What was asked (objects by name, searches,
reverse-link searches) is what an answer built from these reads depends on: the dependents index
files it so that a change can find the answers it concerns.
"""

from __future__ import annotations

from collections.abc import Collection

from gateway.catalog import Object, ObjectRef, Query
from gateway.catalog.kinds import meta
from gateway.store import Store
from gateway.store.feed import ChangeFeed


class ReadRecorder:
    """Wraps a store for one request (or one piece of an answer)."""

    def __init__(self, store: Store, feed: ChangeFeed | None = None) -> None:
        self._store = store
        self._feed = feed
        self.reads = 0
        self.objects: set[ObjectRef] = set()
        """Objects it asked for by name, found or not: a change to one changes the answer."""
        self.queries: list[Query] = []
        """Its searches by selector or join: a change to an object one matches, before or after, does."""
        self.referrer_queries: list[tuple[ObjectRef, str]] = []
        """Its reverse-link searches (target, kind): a change to an object that refers to the target does."""
        self.counts: dict[str, int] = {}
        """Each kind's change count on the feed when first read, before reading: while every count
        is the same, no change to what it read was published since."""

    def _read(self, kind: str) -> None:
        self.reads += 1
        if kind not in self.counts:
            self.counts[kind] = self._feed.count(kind) if self._feed is not None else 0

    def unchanged(self) -> bool:
        """Whether no change to a kind it read was published since it first read it."""
        feed = self._feed
        return feed is None or all(feed.count(kind) == count for kind, count in self.counts.items())

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
        return self._store.select(query)

    def referrers(self, target: ObjectRef, kind: str) -> list[Object]:
        self._read(kind)
        self.referrer_queries.append((target, kind))
        return self._store.referrers(target, kind)

    def referrers_many(
        self, kind: str, namespace: str | None, targets: Collection[ObjectRef]
    ) -> dict[ObjectRef, list[Object]]:
        # filed as one search per target, not the listing behind it: an object that comes to refer
        # to one of them concerns the answer, any other change to the namespace's objects does not
        self._read(kind)
        self.referrer_queries.extend((target, kind) for target in targets)
        return self._store.referrers_many(kind, namespace, targets)

    def absorb(self, earlier: ReadRecorder, *, counted: bool = False) -> None:
        """What another recorder read, for a piece of this request's answer, counts as read by this
        one too: `counted` if it was read for this request, else it is a remembered piece's and
        costs no read now. Each kind's count is taken as of now: the piece is valid now."""
        if counted:
            self.reads += earlier.reads
        for kind in earlier.counts:
            if kind not in self.counts:
                self.counts[kind] = self._feed.count(kind) if self._feed is not None else 0
        self.objects |= earlier.objects
        self.queries += earlier.queries
        self.referrer_queries += earlier.referrer_queries

    def readiness(self) -> tuple[bool, str]:
        return self._store.readiness()


def ref_of(kind: str, obj: Object) -> ObjectRef:
    """The name of an object as read: its namespace as it says (None when it has none)."""
    m = meta(obj)
    return ObjectRef(kind, m.get("namespace") or None, str(m.get("name", "")))
