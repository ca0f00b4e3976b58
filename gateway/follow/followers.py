"""Generic followers: resolve one link for one parent, the naive way (one read per target)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from gateway.catalog import (
    Catalog,
    Computed,
    Entity,
    Kind,
    Link,
    MissingProbe,
    Named,
    Object,
    ObjectRef,
    Parts,
    Referrers,
    Selected,
    named_refs,
    parts_of,
)
from gateway.store import Store


@dataclass(frozen=True, slots=True)
class Target:
    """What a link led to: an object or part, or a named object that is not there."""

    kind: Kind
    obj: Object | None = None
    ref: ObjectRef | None = None
    reason: str = "NotFound"
    computed: bool = False
    """A computed document (an object graph): embedded as is, followed no further."""
    probe: ObjectRef | None = None
    """For a missing target: the object whose state decided `reason` (a collected DataVolume's PVC)."""


def follow_one(store: Store, catalog: Catalog, link: Link, parent: Entity) -> list[Target]:
    resolver = link.resolver
    if isinstance(resolver, Named):
        targets = []
        for ref in named_refs(parent, link):
            obj = store.get(ref)
            kind = catalog.kind(ref.kind)
            if obj is not None:
                targets.append(Target(kind, obj))
            else:
                probe = resolver.missing.probe(ref) if resolver.missing is not None else None
                targets.append(Target(kind, None, ref, missing_reason(store, resolver.missing, ref), probe=probe))
        return targets
    if isinstance(resolver, Selected):
        query = resolver.query(parent)
        if query is not None and resolver.join is not None:
            query = dataclasses.replace(query, joined=(resolver.join, frozenset(resolver.join.parent(parent))))
        found = store.select(query) if query is not None else []
        return selected_targets(catalog, link, resolver, parent, found)
    if isinstance(resolver, Parts):
        kind = catalog.kind(link.targets[0])
        return [Target(kind, part) for part in parts_of(parent, link)]
    if isinstance(resolver, Computed):
        raise TypeError(f"{link.rel} is computed: the engine resolves it through its providers")
    if isinstance(resolver, Referrers):
        kind = catalog.kind(resolver.source)
        return [Target(kind, obj) for obj in store.referrers(parent.ref(), resolver.source)]
    raise TypeError(f"unknown resolver {resolver!r}")


def selected_targets(
    catalog: Catalog, link: Link, resolver: Selected, parent: Entity, found: list[Object]
) -> list[Target]:
    if resolver.present is not None and not resolver.present(parent):
        return []
    if resolver.pick is not None:
        found = resolver.pick(parent, found)
    kind = catalog.kind(link.targets[0])
    if not link.many and not found and not resolver.absent_ok:
        return [Target(kind)]  # a to-one link with nothing behind it: missing, name unknown
    return [Target(kind, obj) for obj in found]


def missing_reason(store: Store, probe: MissingProbe | None, ref: ObjectRef) -> str:
    if probe is None:
        return "NotFound"
    evidence = store.get(probe.probe(ref))
    return probe.reason if evidence is not None and probe.holds(evidence) else "NotFound"
