"""Stores: where objects come from. The engine and the HTTP layer see only `Store`.

- `snapshot.SnapshotStore`: the demo cluster and `--manifests`, all in memory.
- `counting.CountingStore`: wraps any store for one request and counts its reads,
  reported as `X-Gateway-Store-Reads`.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from typing import Any, Protocol, runtime_checkable

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


# Capabilities some stores have beyond reading: each checked once, where the app is built.

ChangeListener = Callable[[str, "Object | None", "Object | None"], None]


@runtime_checkable
class Versioned(Protocol):
    """Can tell whether a kind changed: a number that grows with every change to it."""

    def generation(self, kind: str) -> int: ...


@runtime_checkable
class Epoched(Protocol):
    """Tells when a kind's objects were last replaced wholesale (a re-list after 410 Gone, a watch
    stopped): changes no per-object event reports. A number that only grows, per kind."""

    def epoch(self, kind: str) -> int: ...


@runtime_checkable
class Observable(Protocol):
    """Calls a listener after every change, with the object before and after (None: absent)."""

    def on_change(self, listener: ChangeListener) -> None: ...


@runtime_checkable
class WithStats(Protocol):
    """Counts per kind for /metrics: objects, re-lists, restarts, malformed objects."""

    def stats(self) -> dict[str, Any]: ...


@runtime_checkable
class Lagging(Protocol):
    """May be behind the cluster: the kinds it cannot watch now, each with since when (epoch seconds) and why."""

    def failing_watches(self) -> dict[str, tuple[float, str]]: ...


@runtime_checkable
class PerRequest(Protocol):
    """Gives each request a view of its own over the request's counted reads (direct mode: a memo)."""

    def for_request(self, counted: Store) -> Store: ...
