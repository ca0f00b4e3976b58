"""Generic followers: resolve one link for one parent, the naive way (one read per target)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
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
    Query,
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
    """For a missing named target: the object whose state decides `reason` (a collected DataVolume's
    PVC). Followers do not read it: the engine does (`explained`), where the caller may learn the reason."""


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
                targets.append(Target(kind, None, ref, probe=probe))
        return targets
    if isinstance(resolver, Selected):
        query = query_for(resolver, parent)
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


def query_for(resolver: Selected, parent: Entity) -> Query | None:
    """The search `resolver` makes for `parent`, with the parent's join keys (None: it searches nothing)."""
    query = resolver.query(parent)
    join = resolver.join
    if query is None or join is None:
        return query
    # made directly, as `dataclasses.replace` costs a few microseconds a parent (a graph of 10,000 VMs
    # makes 50,000 of them)
    return Query(query.kind, query.namespace, selector=query.selector, where=query.where,
                 joined=(join, frozenset(join.parent(parent))), members=query.members)  # fmt: skip


def ask(store: Store, link: Link, parent: Entity) -> None:
    """Ask `store` what `follow_one` reads for this parent, and nothing else: for a view that records
    the asking (a batch's share for one root, `follow.attribution`), cheaper than following again.
    tests/core/test_batched_pieces.py holds the two to the same reads."""
    resolver = link.resolver
    if isinstance(resolver, Named):
        for ref in named_refs(parent, link):
            store.get(ref)
    elif isinstance(resolver, Selected):
        query = query_for(resolver, parent)
        if query is not None:
            store.select(query)
    elif isinstance(resolver, Referrers):
        store.referrers(parent.ref(), resolver.source)


def selected_targets(
    catalog: Catalog, link: Link, resolver: Selected, parent: Entity, found: list[Object]
) -> list[Target]:
    if resolver.present is not None and not resolver.present(parent):
        return []
    if resolver.pick is not None:
        found = resolver.pick(parent, found)
    kind = catalog.kind(link.targets[0])
    if not link.many and not found:
        # a to-one link with nothing behind it: missing, name unknown (`absent_ok` is the engine's
        # to apply, since a caller who may not search must not learn that nothing matched)
        return [Target(kind)]
    return [Target(kind, obj) for obj in found]


def explained(store: Store, missing: MissingProbe, targets: list[Target]) -> dict[ObjectRef, str]:
    """The reason each of these missing targets is missing, from its probe: one read per (kind, namespace)."""
    evidence = get_all(store, {t.probe for t in targets if t.probe is not None})
    reasons: dict[ObjectRef, str] = {}
    for t in targets:
        if t.probe is not None:
            found = evidence.get(t.probe)
            reasons[t.probe] = missing.reason if found is not None and missing.holds(found) else "NotFound"
    return reasons


def get_all(store: Store, refs: Iterable[ObjectRef]) -> dict[ObjectRef, Object]:
    """These objects, those that exist: one read per (kind, namespace)."""
    groups: dict[tuple[str, str | None], set[str]] = defaultdict(set)
    for ref in refs:
        groups[(ref.kind, ref.namespace)].add(ref.name)
    found: dict[ObjectRef, Object] = {}
    for (kind, namespace), names in sorted(groups.items(), key=str):
        for name, obj in store.get_many(kind, namespace, names).items():
            found[ObjectRef(kind, namespace, name)] = obj
    return found
