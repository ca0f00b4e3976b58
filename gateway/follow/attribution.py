"""Attribution: one batch read on behalf of several holders, each holder's own reads recorded apart.

The application graph builds the pieces of many workloads together (one read per kind per step)
and keeps each piece with what *it* read, so that a change drops only the pieces it concerns. The
store view of such a batch says, for an entity of the batch, which view records the reads made on
behalf of the workload it was reached from; the engine records there what resolving the link for
that entity alone would have read (the follower run over that view, which reads nothing itself).
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from gateway.catalog import Entity
from gateway.store import Store


@runtime_checkable
class Attributing(Protocol):
    """A store view for a batch built on behalf of several roots (the workloads of a graph)."""

    def attributed(self, entity: Entity) -> Store | None:
        """Where the reads made for `entity` are recorded besides the batch: the view of the root it
        was reached from (None: a root the batch is not keeping apart). That view reads nothing."""
