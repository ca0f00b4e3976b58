"""Pieces of answers, each kept with what it read: one workload's part of an application graph.

The application graph of a namespace is assembled from one piece per workload (its object graph
flattened, its state, its Services). Each piece is remembered with its own reads in a dependents
index, as whole answers are (`answers.py`), so a change drops only the pieces it concerns: under
churn, a graph of ten thousand VMs rebuilds the few that changed, and recalls the rest. A piece is
the caller's own (keyed by user) and is recalled only while the access decisions it was built on
hold. A recalled piece's reads count as the request's, so the whole answer depends on them too.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import orjson

from gateway.access.policy import CallerPolicy
from gateway.access.reviews import Check
from gateway.catalog import Catalog, Entity
from gateway.changes.cooperation import give_way
from gateway.changes.memory import Remembered
from gateway.changes.reads import ReadRecorder
from gateway.follow.policy import Policy
from gateway.graph.appgraph import Piece
from gateway.store import Store
from gateway.store.feed import ChangeFeed


@dataclass(frozen=True, slots=True)
class _Kept:
    piece: Piece
    reads: ReadRecorder
    decisions: tuple[tuple[Check, bool], ...]
    size: int


class PieceMemory:
    """The application graph's kept pieces (`appgraph.KeepsPieces`), over a store that publishes its changes."""

    def __init__(self, store: Store, feed: ChangeFeed, catalog: Catalog, max_bytes: int) -> None:
        self._store = store
        self._feed = feed
        self._kept: Remembered[tuple[Any, ...], _Kept] = Remembered(max_bytes, lambda k: k.size, catalog, feed)

    def __len__(self) -> int:
        return len(self._kept)

    def __call__(self, of: Entity, store: Store, access: Policy | None, build: Callable[[Store], Piece]) -> Piece:
        policy = access if isinstance(access, CallerPolicy) else None
        if not isinstance(store, ReadRecorder) or (access is not None and policy is None):
            return build(store)  # no recorder to say what it read, or decisions it cannot record: not kept
        key = (of.kind.name, of.namespace, of.name, policy.user if policy is not None else None)
        kept = self._kept.get(key)
        if kept is not None and (policy is None or policy.confirms(kept.decisions)):
            store.absorb(kept.reads)
            return kept.piece
        reads = ReadRecorder(self._store, self._feed)
        reads.get(of.ref())  # the piece describes its object: a change to it drops the piece
        decisions: dict[Check, bool] = {}
        if policy is not None:
            with policy.recording() as decisions:
                piece = build(reads)
        else:
            piece = build(reads)
        store.absorb(reads, counted=True)
        size = len(orjson.dumps(piece.resource))
        self._kept.keep(key, _Kept(piece, reads, tuple(decisions.items()), size), reads)
        give_way()
        return piece
