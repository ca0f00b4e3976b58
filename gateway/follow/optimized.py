"""Batch handlers: one read per (kind, namespace) for a whole level, not one per parent.

oVirt's generic follower re-entered its REST layer per link and per parent and
became the bottleneck of `/vms?follow=...`; these resolve N parents with one list
(or one multi-get) per namespace and give exactly the generic follower's answer.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Hashable

from gateway.catalog import Catalog, Entity, Link, Named, Object, ObjectRef, Query, Referrers, Selected, named_refs
from gateway.catalog.selectors import LabelSelector
from gateway.follow.followers import Target, get_all, query_for, selected_targets
from gateway.follow.registry import HandlerRegistry
from gateway.store import Store


def batch_named(store: Store, catalog: Catalog, link: Link, parents: list[Entity]) -> list[list[Target]]:
    resolver = link.resolver
    assert isinstance(resolver, Named)
    wanted = [named_refs(p, link) for p in parents]
    found = get_all(store, {r for refs in wanted for r in refs})
    results = []
    for refs in wanted:
        targets = []
        for ref in refs:
            kind = catalog.kind(ref.kind)
            if ref in found:
                targets.append(Target(kind, found[ref]))
            else:  # why it is missing is the engine's to read, where the caller may learn it
                probe = resolver.missing.probe(ref) if resolver.missing is not None else None
                targets.append(Target(kind, None, ref, probe=probe))
        results.append(targets)
    return results


def batch_selected(store: Store, catalog: Catalog, link: Link, parents: list[Entity]) -> list[list[Target]]:
    resolver = link.resolver
    assert isinstance(resolver, Selected)
    queries = [query_for(resolver, p) for p in parents]  # each with its parent's join keys (what may match it)
    hint = None
    if resolver.join is not None:  # all parents' join keys, for the read
        hint = (resolver.join, frozenset(k for q in queries if q is not None and q.joined for k in q.joined[1]))
    groups: dict[tuple[str, str | None], list[Query]] = defaultdict(list)
    for q in queries:
        if q is not None:
            groups[(q.kind, q.namespace)].append(q)
    candidates: dict[tuple[str, str | None], list[Object]] = {}
    for (kind, namespace), members in groups.items():
        # one read per namespace, narrowed by a label selector every query shares
        first = members[0].selector
        shared = first if all(q.selector == first for q in members) else LabelSelector()
        candidates[(kind, namespace)] = store.select(
            Query(kind, namespace, shared, joined=hint, members=tuple(members))
        )
    joined = {where: _by_key(resolver, objs) for where, objs in candidates.items()} if resolver.join else {}
    results = []
    for parent, q in zip(parents, queries, strict=True):
        found: list[Object] = []
        if q is not None:
            where = (q.kind, q.namespace)
            if q.joined is not None:
                keyed, order = joined[where]
                pool = {id(o): o for k in q.joined[1] for o in keyed.get(k, ())}
                found = sorted((o for o in pool.values() if q.matches(o)), key=lambda o: order[id(o)])
            else:
                found = [o for o in candidates[where] if q.matches(o)]
        results.append(selected_targets(catalog, link, resolver, parent, found))
    return results


def _by_key(resolver: Selected, objects: list[Object]) -> tuple[dict[Hashable, list[Object]], dict[int, int]]:
    """Candidates by join key, and each candidate's position (to keep the store's order)."""
    assert resolver.join is not None
    index: dict[Hashable, list[Object]] = defaultdict(list)
    for obj in objects:
        for key in resolver.join.candidate(obj):
            index[key].append(obj)
    return index, {id(o): i for i, o in enumerate(objects)}


def batch_referrers(store: Store, catalog: Catalog, link: Link, parents: list[Entity]) -> list[list[Target]]:
    """A reverse link for a level: one read per namespace its referrers can be in (every namespace,
    once, for a cluster-scoped target or one named across namespaces), not one per parent."""
    resolver = link.resolver
    assert isinstance(resolver, Referrers)
    kind = catalog.kind(resolver.source)
    targets = [p.ref() for p in parents]
    scopes: dict[str | None, set[ObjectRef]] = defaultdict(set)
    for target in targets:
        scopes[catalog.referrer_scope(resolver.source, target)].add(target)
    found: dict[ObjectRef, list[Object]] = {}
    for namespace, wanted in sorted(scopes.items(), key=str):
        found.update(store.referrers_many(resolver.source, namespace, wanted))
    return [[Target(kind, obj) for obj in found.get(target, ())] for target in targets]


def register_batches(registry: HandlerRegistry, catalog: Catalog) -> None:
    """A batch handler for every link that reads the store by name, by query or by reference."""
    for kind in catalog.kinds():
        for rel, link in catalog.all_links(kind.name).items():
            if isinstance(link.resolver, Named):
                registry.register(kind.name, rel, batch_named)
            elif isinstance(link.resolver, Selected):
                registry.register(kind.name, rel, batch_selected)
            elif isinstance(link.resolver, Referrers):
                registry.register(kind.name, rel, batch_referrers)
