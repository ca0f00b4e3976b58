"""Pieces of answers, each kept with what it read: one workload's part of an application graph.

The application graph of a namespace is assembled from one piece per workload (its object graph
flattened, its state, its Services). Each piece is remembered with its own reads in a dependents
index, as whole answers are (`caching.py`), so a change drops only the pieces it concerns: under
churn, a graph of ten thousand VMs rebuilds the few that changed, and recalls the rest. A piece is
the caller's own (keyed by user) and is recalled only while the access decisions it was built on
hold. A recalled piece's reads count as the request's, so the whole answer depends on them too.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import gevent
import gevent.monkey
import orjson

from gateway.access.policy import Viewer
from gateway.access.reviews import Check
from gateway.api.dependents import Remembered
from gateway.catalog import Catalog, Entity
from gateway.follow.policy import Policy
from gateway.graph.appgraph import Piece
from gateway.store import Epoched, Observable, Store, Versioned
from gateway.store.counting import CountingStore

INDEX_BYTES = 256
"""A rough cost, in bytes, of each object or search a piece is filed under in the dependents index."""


@dataclass(frozen=True, slots=True)
class _Kept:
    piece: Piece
    reads: CountingStore
    epochs: tuple[tuple[str, int], ...]
    decisions: tuple[tuple[Check, bool], ...]
    size: int


class PieceMemory:
    """The application graph's memo (`appgraph.Memo`), over a store that reports each change."""

    def __init__(self, store: Store, catalog: Catalog, max_bytes: int) -> None:
        self._store = store
        # what `over` checked, spelled out so the types narrow
        assert isinstance(store, Observable) and isinstance(store, Epoched) and isinstance(store, Versioned)
        self._versions: Versioned = store
        self._epochs: Epoched = store
        self._kept: Remembered[tuple[Any, ...], _Kept] = Remembered(max_bytes, lambda k: k.size, catalog, store)

    @classmethod
    def over(cls, store: Store, catalog: Catalog, max_bytes: int) -> PieceMemory | None:
        """A memory for pieces, if `store` can say what changed and there is room for any."""
        return cls(store, catalog, max_bytes) if _reports_changes(store) and max_bytes > 0 else None

    def __len__(self) -> int:
        return len(self._kept)

    def __call__(self, of: Entity, store: Store, access: Policy | None, build: Callable[[Store], Piece]) -> Piece:
        viewer = access if isinstance(access, Viewer) else None
        if not isinstance(store, CountingStore) or (access is not None and viewer is None):
            return build(store)  # no view to count what it read, or decisions it cannot record: not kept
        key = (of.kind.name, of.namespace, of.name, viewer.user if viewer is not None else None)
        kept = self._kept.get(key)
        if kept is not None and self._still_valid(kept, viewer):
            store.absorb(kept.reads)
            return kept.piece
        reads = CountingStore(self._store, self._versions)
        reads.get(of.ref())  # the piece describes its object: a change to it drops the piece
        decisions: dict[Check, bool] = {}
        if viewer is not None:
            with viewer.recording() as decisions:
                piece = build(reads)
        else:
            piece = build(reads)
        store.absorb(reads, counted=True)
        self._keep(key, piece, reads, decisions)
        _give_way()
        return piece

    def _still_valid(self, kept: _Kept, viewer: Viewer | None) -> bool:
        if any(self._epochs.epoch(kind) != epoch for kind, epoch in kept.epochs):
            return False  # listed again since: changes no event reported
        return viewer is None or viewer.confirms(kept.decisions)

    def _keep(self, key: tuple[Any, ...], piece: Piece, reads: CountingStore, decisions: dict[Check, bool]) -> None:
        generations = dict(reads.generations)
        epochs = tuple((kind, self._epochs.epoch(kind)) for kind in generations)
        filed = len(reads.objects) + len(reads.found) + len(reads.queries) + len(reads.referrer_queries)
        size = len(orjson.dumps(piece.resource)) + INDEX_BYTES * filed
        kept = _Kept(piece, reads, epochs, tuple(decisions.items()), size)
        versions = self._versions
        self._kept.keep(key, kept, reads, lambda: all(versions.generation(k) == g for k, g in generations.items()))


def _reports_changes(store: Store) -> bool:
    """Whether `store` says what changed (each event, each re-list, each kind's generation)."""
    return isinstance(store, Observable) and isinstance(store, Epoched) and isinstance(store, Versioned)


def _give_way() -> None:
    """A first graph of many workloads builds for seconds: between its pieces, let the other
    requests on this worker run (probes above all). A greenlet must give way by itself (a switch,
    a few microseconds); threads are switched by the interpreter, and a real sleep(0) would cost a
    timer's slack (50 µs or more) per piece, so they are left alone."""
    if gevent.monkey.is_module_patched("time"):
        gevent.sleep(0)
