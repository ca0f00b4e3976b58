"""ReadRecorder: one request's view of a store, counting its reads and recording what they asked.

The count is the `X-Gateway-Store-Reads` header. What was asked (objects by name, searches,
reverse-link searches) is what an answer built from these reads depends on: the dependents index
files it so that a change can find the answers it concerns.
"""

from __future__ import annotations

from collections.abc import Collection

from gateway.catalog import Entity, Object, ObjectRef, Query, edition
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
        self.edition = edition()
        """The catalogue's edition it read under: declarations applied since make what it built stale."""

    def _read(self, kind: str) -> None:
        self.reads += 1
        self._note(kind)

    def _note(self, kind: str) -> None:
        """Its count, noted now if this is its first read."""
        if kind not in self.counts:
            self.counts[kind] = self._feed.count(kind) if self._feed is not None else 0

    def unchanged(self) -> bool:
        """Whether no change to a kind it read was published since it first read it, nor did the
        catalogue take other entries."""
        feed = self._feed
        if self.edition != edition():
            return False
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
        one too: `counted` if it was read for this request, each kind's count as of its reading; else
        it is a remembered piece's and costs no read now, each kind's count as of now: the piece is
        valid now."""
        if counted:
            self.reads += earlier.reads
        for kind, count in earlier.counts.items():
            if kind not in self.counts:
                self.counts[kind] = count if counted else self._feed.count(kind) if self._feed is not None else 0
        self.objects |= earlier.objects
        self.queries += earlier.queries
        self.referrer_queries += earlier.referrer_queries

    def readiness(self) -> tuple[bool, str]:
        return self._store.readiness()


class BatchRecorder(ReadRecorder):
    """One batch read on behalf of several roots (the workloads of a graph): it reads and counts as
    any recorder, and also records, in a recorder of each root's own (`parts`), what resolving for
    that root alone would have read (`follow.attribution.Attributing`). A part reads nothing, and
    counts no read: the batch read it. Each part depends on its root too: the piece describes it."""

    def __init__(self, store: Store, feed: ChangeFeed | None, roots: list[Entity]) -> None:
        super().__init__(store, feed)
        self.parts: list[ReadRecorder] = [_Part(self) for _ in roots]
        self._of = {(root.kind.name, root.href): part for root, part in zip(roots, self.parts, strict=True)}
        for root, part in zip(roots, self.parts, strict=True):
            part.get(root.ref())  # the root's kind noted in the batch's counts too, as of now

    def unchanged_roots(self, roots: list[Entity]) -> list[bool]:
        """Reads the roots again (one read per kind and namespace): whether each is still the object
        it was when listed. A store replaces a changed object and never changes one in place."""
        groups: dict[tuple[str, str | None], list[str]] = {}
        for root in roots:
            groups.setdefault((root.kind.name, root.namespace), []).append(root.name)
        found = {
            (kind, namespace): self.get_many(kind, namespace, names) for (kind, namespace), names in groups.items()
        }
        return [found[(root.kind.name, root.namespace)].get(root.name) is root.obj for root in roots]

    def attributed(self, entity: Entity) -> Store | None:
        root = entity
        while root.parent is not None:
            root = root.parent
        return self._of.get((root.kind.name, root.href))


class _Part(ReadRecorder):
    """One root's share of a batch: records what was asked for it, reads nothing, and takes each
    kind's change count from the batch, as noted at the kind's first reading by either (a part that
    asks first notes it for the batch). It holds the batch's counts, not the batch, so that no cycle
    keeps a batch's parts alive after a piece is dropped."""

    def __init__(self, batch: BatchRecorder) -> None:
        super().__init__(_NOTHING, batch._feed)
        self._noted = batch.counts

    def _read(self, kind: str) -> None:
        if kind not in self.counts:
            noted = self._noted
            if kind not in noted:
                noted[kind] = self._feed.count(kind) if self._feed is not None else 0
            self.counts[kind] = noted[kind]


class _Nothing:
    """The store a batch's part records through: the batch has read it all already."""

    def get(self, ref: ObjectRef) -> Object | None:
        return None

    def get_many(self, kind: str, namespace: str | None, names: Collection[str]) -> dict[str, Object]:
        return {}

    def select(self, query: Query) -> list[Object]:
        return []

    def referrers(self, target: ObjectRef, kind: str) -> list[Object]:
        return []

    def referrers_many(
        self, kind: str, namespace: str | None, targets: Collection[ObjectRef]
    ) -> dict[ObjectRef, list[Object]]:
        return {}

    def readiness(self) -> tuple[bool, str]:
        return True, ""


_NOTHING = _Nothing()


def ref_of(kind: str, obj: Object) -> ObjectRef:
    """The name of an object as read: its namespace as it says (None when it has none)."""
    m = meta(obj)
    return ObjectRef(kind, m.get("namespace") or None, str(m.get("name", "")))
