"""Stores: where objects come from. The engine and the HTTP layer see only `Store`.

- `snapshot.SnapshotStore`: the demo cluster and `--manifests`, all in memory.
- `live.WatchCache`: a live cluster, kept in memory by one watch per kind (`--cache watch`).
- `direct.DirectStore`: a live cluster, read on every request (`--cache none`), with a
  per-request `direct.MemoStore`.
- `feed.ChangeFeed`: what the stores that can tell publish of every change they make.

Who reads what for one request, and who must know when it changes, is `gateway.changes`.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any, Protocol, runtime_checkable

from gateway.catalog import Object, ObjectRef, Query
from gateway.store.feed import ChangeFeed


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

    def referrers_many(
        self, kind: str, namespace: str | None, targets: Collection[ObjectRef]
    ) -> dict[ObjectRef, list[Object]]:
        """For each of `targets`, the objects of `kind` in `namespace` (None: every namespace) that
        name it, sorted as `referrers` sorts them: one read however many targets. Where they can be
        is the catalogue's to say (`Catalog.referrer_scope`)."""

    def readiness(self) -> tuple[bool, str]:
        """(ready, reason): whether answers reflect the cluster yet."""


# Capabilities some stores have beyond reading: each checked once, where the app is built.


@runtime_checkable
class Observable(Protocol):
    """Publishes every change it makes to what it holds (a snapshot's feed never publishes)."""

    @property
    def changes(self) -> ChangeFeed: ...


@runtime_checkable
class Pinnable(Protocol):
    """Stops watching kinds nobody uses; a pinned kind is in use (a live stream reads it) however
    long no request reads it. Pins are counted: each `pin` is undone by one `unpin`."""

    def pin(self, kinds: Collection[str]) -> None: ...

    def unpin(self, kinds: Collection[str]) -> None: ...


@runtime_checkable
class WithStats(Protocol):
    """Counts per kind for /metrics: objects, re-lists, restarts, malformed objects."""

    def stats(self) -> dict[str, Any]: ...


@runtime_checkable
class Lagging(Protocol):
    """May be behind the cluster: the kinds it cannot watch now, each with since when (epoch seconds) and why."""

    def failing_watches(self) -> dict[str, tuple[float, str]]: ...


@runtime_checkable
class Recatalogued(Protocol):
    """Indexes what objects name by the catalogue's links: told when declared links are applied."""

    def catalogue_changed(self) -> None: ...


@runtime_checkable
class Discovering(Protocol):
    """Asks the cluster which kinds it serves: the kinds it served when last asked (None: not yet asked)."""

    def served_kinds(self) -> Collection[str] | None: ...


@runtime_checkable
class PerRequest(Protocol):
    """Gives each request a view of its own over the request's counted reads (direct mode: a memo)."""

    def for_request(self, counted: Store) -> Store: ...
