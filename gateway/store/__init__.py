"""Stores: where objects come from. The engine and the HTTP layer see only `Store`.

- `snapshot.SnapshotStore`: the demo cluster and `--manifests`, all in memory.
- `counting.CountingStore`: wraps any store for one request and counts its reads,
  reported as `X-Gateway-Store-Reads`.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Protocol

from gateway.catalog import Object, ObjectRef, Query


class Store(Protocol):
    """Read access to one cluster's objects. Every method is one read."""

    def get(self, ref: ObjectRef) -> Object | None:
        """One object, or None when it does not exist."""

    def get_many(self, kind: str, namespace: str | None, names: Collection[str]) -> dict[str, Object]:
        """Those of `names` that exist, by name: one read however many names."""

    def select(self, query: Query) -> list[Object]:
        """Objects matching the query, sorted by (namespace, name)."""

    def referrers(self, target: ObjectRef, kind: str) -> list[Object]:
        """Objects of `kind` that name `target` through a catalogue link, sorted by name."""

    def readiness(self) -> tuple[bool, str]:
        """(ready, reason): whether answers reflect the cluster yet."""
