"""Batch handlers: one read per (kind, namespace) for a whole level, not one per parent.

oVirt's generic follower re-entered its REST layer per link and per parent and
became the bottleneck of `/vms?follow=...`; these resolve N parents with one list
(or one multi-get) per namespace and give exactly the generic follower's answer.
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from collections.abc import Hashable

from gateway.catalog import Catalog, Entity, Link, Named, Object, ObjectRef, Query, Selected, named_refs
from gateway.catalog.selectors import LabelSelector
from gateway.follow.followers import Target, selected_targets
from gateway.follow.registry import HandlerRegistry
from gateway.store import Store


def batch_named(store: Store, catalog: Catalog, link: Link, parents: list[Entity]) -> list[list[Target]]:
    resolver = link.resolver
    assert isinstance(resolver, Named)
    wanted = [named_refs(p, link) for p in parents]
    found = _get_all(store, {r for refs in wanted for r in refs})
    evidence: dict[ObjectRef, Object] = {}
    if resolver.missing is not None:
        probes = {resolver.missing.probe(r) for refs in wanted for r in refs if r not in found}
        evidence = _get_all(store, probes)
    results = []
    for refs in wanted:
        targets = []
        for ref in refs:
            kind = catalog.kind(ref.kind)
            if ref in found:
                targets.append(Target(kind, found[ref]))
                continue
            reason, probe = "NotFound", None
            if resolver.missing is not None:
                probe = resolver.missing.probe(ref)
                ev = evidence.get(probe)
                if ev is not None and resolver.missing.holds(ev):
                    reason = resolver.missing.reason
            targets.append(Target(kind, None, ref, reason, probe=probe))
        results.append(targets)
    return results


def _get_all(store: Store, refs: set[ObjectRef]) -> dict[ObjectRef, Object]:
    groups: dict[tuple[str, str | None], set[str]] = defaultdict(set)
    for ref in refs:
        groups[(ref.kind, ref.namespace)].add(ref.name)
    found: dict[ObjectRef, Object] = {}
    for (kind, namespace), names in sorted(groups.items(), key=str):
        for name, obj in store.get_many(kind, namespace, names).items():
            found[ObjectRef(kind, namespace, name)] = obj
    return found


def batch_selected(store: Store, catalog: Catalog, link: Link, parents: list[Entity]) -> list[list[Target]]:
    resolver = link.resolver
    assert isinstance(resolver, Selected)
    queries = [resolver.query(p) for p in parents]
    hint = None
    if resolver.join is not None:  # each parent's join keys (what may match it), and all of them for the read
        join = resolver.join
        queries = [
            dataclasses.replace(q, joined=(join, frozenset(join.parent(p)))) if q is not None else None
            for p, q in zip(parents, queries, strict=True)
        ]
        hint = (join, frozenset(k for q in queries if q is not None and q.joined for k in q.joined[1]))
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


def register_batches(registry: HandlerRegistry, catalog: Catalog) -> None:
    """A batch handler for every link that reads the store by name or by query."""
    for kind in catalog.kinds():
        for rel, link in catalog.all_links(kind.name).items():
            if isinstance(link.resolver, Named):
                registry.register(kind.name, rel, batch_named)
            elif isinstance(link.resolver, Selected):
                registry.register(kind.name, rel, batch_selected)
