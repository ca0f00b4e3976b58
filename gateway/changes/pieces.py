"""Pieces of answers, each kept with what it read: one workload's part of an application graph.

The application graph of a namespace is assembled from one piece per workload (its object graph
flattened, its state, its Services). Each piece is remembered with its own reads in a dependents
index, as whole answers are (`answers.py`), so a change drops only the pieces it concerns: under
churn, a graph of ten thousand VMs rebuilds the few that changed, and recalls the rest. A piece is
the caller's own (keyed by user) and is recalled only while the access decisions it was built on
hold. A recalled piece's reads count as the request's, so the whole answer depends on them too.

The pieces a request lacks are built together (`together`): one read per kind per step for all of
them, as a graph built at once reads, while a `BatchRecorder` records for each piece what it alone
read. A change published while they were built drops exactly the pieces it concerns.
"""

from __future__ import annotations

import gc
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import orjson

from gateway.access.policy import CallerPolicy
from gateway.access.reviews import Check, User
from gateway.catalog import Catalog, Entity
from gateway.changes.cooperation import collector_paused, give_way
from gateway.changes.memory import Remembered
from gateway.changes.reads import BatchRecorder, ReadRecorder
from gateway.follow.policy import Policy
from gateway.graph.appgraph import Piece
from gateway.store import Store
from gateway.store.feed import ChangeFeed

BATCH = 100
"""Workloads whose pieces are built together: enough that reads are per kind and step, not per
piece (1,502 reads for a first graph of 10,000 VMs, against 140,002 one by one); few enough that a
gevent worker gives way (and answers its probes) every few hundredths of a second, and that a change
published meanwhile concerns a short window. 500 was no faster at 10,000 VMs (docs/benchmarks.md 4b)."""


T = TypeVar("T")

FREEZE_AFTER = 2000
"""After building this many pieces at once (a first graph of a large namespace, or one after a
re-list), what they keep (pieces, their reads in the index, the memos behind them: over a million
containers at 10,000 workloads) is moved out of the cyclic collector's generations, as the watch
cache's objects are after a listing (docs/decisions.md, "gc.freeze()"): else the first full
collection after the build walks it all, and every later one again. None of it holds a cycle;
reference counting frees it when dropped."""


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

    def forget_all(self) -> None:
        """Declarations were applied: every piece was built from other links."""
        self._kept.forget_all()

    def holds(self, of: Entity, user: User | None = None) -> bool:
        """Whether the piece of `of` (built for `user`) is kept now."""
        return self._kept.get(_key(of, user)) is not None

    def together(
        self,
        workloads: list[Entity],
        store: Store,
        access: Policy | None,
        build: Callable[[Store, list[Entity]], list[Piece]],
    ) -> list[Piece]:
        """The pieces of these workloads: those kept and still valid recalled, the others built in one
        batch and kept, each with its own reads (`appgraph.KeepsPiecesTogether`)."""
        recorder, policy = _keeping(store, access)
        if recorder is None:
            return build(store, workloads)
        user = policy.user if policy is not None else None
        pieces: list[Piece | None] = []  # in the workloads' order: recalled now, built below
        lacking: list[int] = []
        confirmed: dict[int, bool] = {}  # pieces built together share their decisions: each asked once
        for i, of in enumerate(workloads):
            kept = self._kept.get(_key(of, user))
            if kept is not None and (policy is None or _confirms(policy, kept.decisions, confirmed)):
                recorder.absorb(kept.reads)
                pieces.append(kept.piece)
                continue
            pieces.append(None)
            lacking.append(i)
        with collector_paused():  # the whole build: between batches too, or each full collection walks
            for start in range(0, len(lacking), BATCH):  # all that the batches before kept
                some = lacking[start : start + BATCH]
                built = self._build([workloads[i] for i in some], recorder, policy, build)
                for i, piece in zip(some, built, strict=True):
                    pieces[i] = piece
                give_way()
            if len(lacking) >= FREEZE_AFTER:
                gc.freeze()  # see FREEZE_AFTER
        return [p for p in pieces if p is not None]

    def _build(
        self,
        roots: list[Entity],
        store: ReadRecorder,
        policy: CallerPolicy | None,
        build: Callable[[Store, list[Entity]], list[Piece]],
    ) -> list[Piece]:
        """One batch: built together through a recorder that records each root's reads apart, and
        each piece kept with its own; the request's recorder counts the batch's reads."""
        user = policy.user if policy is not None else None
        with self._kept.collecting() as changed:
            batch = BatchRecorder(self._store, self._feed, roots)
            # a workload that changed after the request listed it, before changes were collected, is
            # described as listed, and not kept
            current = batch.unchanged_roots(roots)
            built, decided = _recorded(policy, lambda: build(batch, roots))
            store.absorb(batch, counted=True)
            # the batch's decisions, shared: a piece stands on all of them
            self._kept.keep_all(
                [(_key(of, user), _Kept(piece, reads, decided, _size(piece)), reads)
                 for of, piece, reads, now in zip(roots, built, batch.parts, current, strict=True) if now],
                changed,
            )  # fmt: skip
        return built

    def __call__(self, of: Entity, store: Store, access: Policy | None, build: Callable[[Store], Piece]) -> Piece:
        recorder, policy = _keeping(store, access)
        if recorder is None:
            return build(store)
        key = _key(of, policy.user if policy is not None else None)
        kept = self._kept.get(key)
        if kept is not None and (policy is None or policy.confirms(kept.decisions)):
            recorder.absorb(kept.reads)
            return kept.piece
        reads = ReadRecorder(self._store, self._feed)
        reads.get(of.ref())  # the piece describes its object: a change to it drops the piece
        piece, decided = _recorded(policy, lambda: build(reads))
        recorder.absorb(reads, counted=True)
        self._kept.keep(key, _Kept(piece, reads, decided, _size(piece)), reads)
        give_way()
        return piece


def _keeping(store: Store, access: Policy | None) -> tuple[ReadRecorder | None, CallerPolicy | None]:
    """The request's recorder if pieces built for it can be kept (None: no recorder to say what they
    read, or a policy whose decisions cannot be recorded), and the caller's policy."""
    policy = access if isinstance(access, CallerPolicy) else None
    if not isinstance(store, ReadRecorder) or (access is not None and policy is None):
        return None, policy
    return store, policy


def _key(of: Entity, user: User | None) -> tuple[Any, ...]:
    return (of.kind.name, of.namespace, of.name, user)


def _recorded(policy: CallerPolicy | None, build: Callable[[], T]) -> tuple[T, tuple[tuple[Check, bool], ...]]:
    """What `build` returns, and the caller's access decisions it was built on."""
    if policy is None:
        return build(), ()
    with policy.recording() as decisions:
        built = build()
    return built, tuple(decisions.items())


def _size(piece: Piece) -> int:
    return len(orjson.dumps(piece.resource))


def _confirms(policy: CallerPolicy, decisions: tuple[tuple[Check, bool], ...], confirmed: dict[int, bool]) -> bool:
    answer = confirmed.get(id(decisions))
    if answer is None:
        answer = confirmed[id(decisions)] = policy.confirms(decisions)
    return answer
