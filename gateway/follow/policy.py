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
        parent in `namespace`; for a search that found nothing, `namespace` is where it searched
        (None: every namespace)."""

    def may_learn_why(self, target: Target) -> bool:
        """Whether the caller may learn why a missing target is missing: the reason rests on an object
        (`target.probe`, the PVC that tells a collected DataVolume from one never made) they must be
        able to read. Asked before that object is read, which happens only if they may."""


def scope_of(target: Target, namespace: str | None) -> tuple[Kind, str | None, str | None]:
    """(kind, namespace, name) of a target, found or named; a query that found nothing: `namespace`
    (where it searched) and no name."""
    if target.obj is not None:
        m = meta(target.obj)
        return target.kind, m.get("namespace") if target.kind.namespaced else None, str(m.get("name", ""))
    if target.ref is not None:
        return target.kind, target.ref.namespace, target.ref.name
    return target.kind, namespace if target.kind.namespaced else None, None
