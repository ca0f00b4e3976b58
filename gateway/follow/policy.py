"""The access policy the engine and the graphs are given: what one caller may know of.

The engine does not authorize: it asks these questions and writes the answers down as data
(a target the caller may not know of is dropped, or a `Missing` with reason Forbidden). The
answers come from `gateway.access`, which asks the cluster; None means no per-caller checks.
"""

from __future__ import annotations

from typing import Protocol

from gateway.catalog import Kind, Link
from gateway.catalog.kinds import meta
from gateway.follow.followers import Target


class Policy(Protocol):
    def may_get(self, kind: Kind, namespace: str | None, name: str | None) -> bool: ...

    def may_list(self, kind: Kind, namespace: str | None) -> bool: ...

    def prefetch(self, wanted: list[tuple[Kind, str | None, str | None]]) -> None:
        """A hint: `may_get` will be asked for these (kind, namespace, name) next; review them together."""

    def knows(self, link: Link, target: Target, namespace: str | None) -> bool:
        """Whether the caller may know the target exists (or that it is missing), reached from a
        parent in `namespace`."""

    def missing_reason(self, target: Target) -> str:
        """A missing target's reason as the caller may learn it: one resting on an object they may
        not read (the PVC that tells a collected DataVolume from one never made) is Forbidden."""


def scope_of(target: Target, namespace: str | None) -> tuple[Kind, str | None, str | None]:
    """(kind, namespace, name) of a target, found or named; a query that found nothing: the
    parent's namespace and no name."""
    if target.obj is not None:
        m = meta(target.obj)
        return target.kind, m.get("namespace") if target.kind.namespaced else None, str(m.get("name", ""))
    if target.ref is not None:
        return target.kind, target.ref.namespace, target.ref.name
    return target.kind, namespace if target.kind.namespaced else None, None
