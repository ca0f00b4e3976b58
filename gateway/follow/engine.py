"""The follow engine: walks a LinkTree level by level and resolves what each link leads to.

It returns data, not documents: each followed entity with, per rel, the entities it led to
and `Missing` values for targets that are not there or that the caller may not know of.
Rendering is the documents layer's; authorizing is the `Policy`'s it is given. For each
level it groups parents by (kind, rel) and resolves each group with the registered batch
handler, or else with the generic follower one parent at a time. It knows neither Flask
nor the Kubernetes client: it reads a `Store`.
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeAlias

import orjson

from gateway.catalog import Catalog, Computed, Entity, Link, Named, ObjectRef, Selected, href_for, part_entity
from gateway.catalog.kinds import meta
from gateway.follow.followers import Target, ask, explained, follow_one, get_all
from gateway.follow.paths import DEFAULT_LIMITS, FollowLimits, TooLarge
from gateway.follow.policy import Policy, scope_of
from gateway.follow.registry import HandlerRegistry
from gateway.follow.tree import LinkTree
from gateway.store import Store


@dataclass(frozen=True, slots=True)
class Missing:
    """A target that is not there, or that the caller may not know of: data, not an error."""

    kind: str
    ref: ObjectRef | None
    """Its name when the parent names it; None when a query found nothing or the name is private."""
    href: str
    """Where the link's answer lives (the parent's href and the rel)."""
    reason: str
    """NotFound, GarbageCollected, Forbidden."""


@dataclass(slots=True)
class Resolved:
    """An entity and what its followed links led to, by rel: a list for a to-many link."""

    entity: Entity
    followed: dict[str, Item | list[Item]] = field(default_factory=dict)


Document: TypeAlias = dict[str, Any]
"""A computed link's answer (an object graph): embedded as it is, followed no further."""
Item: TypeAlias = Resolved | Missing | Document
Provider: TypeAlias = Callable[[Store, list[Entity], Policy | None], list[Document]]


class FollowEngine:
    def __init__(
        self,
        catalog: Catalog,
        handlers: HandlerRegistry | None,
        limits: FollowLimits = DEFAULT_LIMITS,
    ) -> None:
        self.catalog = catalog
        self.handlers = handlers
        self.limits = limits
        self.providers: dict[str, Provider] = {}
        """Computed links' providers, by name: registered by the layers above at startup."""

    def resolve(
        self, store: Store, link: Link, parents: list[Entity], policy: Policy | None = None
    ) -> list[list[Target]]:
        """One link for many parents: the batch handler if registered, else one by one.

        With a policy, a missing target's reason is the one the caller may learn.
        """
        if not parents:  # a namespace of standalone VMIs has no VMs to find Services for
            return []
        if isinstance(link.resolver, Computed):
            kind = self.catalog.kind(link.targets[0])
            documents = self.providers[link.resolver.provider](store, parents, policy)
            return [[Target(kind, doc, computed=True)] for doc in documents]
        handler = self.handlers.get(parents[0].kind.name, link.rel) if self.handlers else None
        if handler is not None:
            results = handler(store, self.catalog, link, parents)
        else:
            results = [follow_one(store, self.catalog, link, p) for p in parents]
        views = None
        # a view that is `follow.attribution.Attributing`, found without isinstance(): a runtime-checkable
        # Protocol's check costs ~15 us, a fifth of a built page at 13 links (docs/benchmarks.md section 10)
        attributed: Callable[[Entity], Store | None] | None = getattr(store, "attributed", None)
        if attributed is not None:
            views = [attributed(p) for p in parents]
            # a path-dependent link's names are derived anew each time (not kept in the memo): its
            # targets say them, one per name it asked for, found or not
            by_targets = isinstance(link.resolver, Named) and bool(link.via)
            for parent, view, targets in zip(parents, views, results, strict=True):
                if view is None:
                    continue
                if by_targets:
                    for target in targets:
                        view.get(target.ref if target.obj is None and target.ref is not None else _ref(target))
                else:  # what this parent alone reads, recorded for its root
                    ask(view, link, parent)
        return self._reasoned(store, link, parents, results, policy, views)

    def _reasoned(
        self,
        store: Store,
        link: Link,
        parents: list[Entity],
        results: list[list[Target]],
        policy: Policy | None,
        views: list[Store | None] | None = None,
    ) -> list[list[Target]]:
        """Each missing named target with its reason, read from its probe only where the caller may
        know of the target and read the probe; else Forbidden, unread. Read for a target the caller may
        not know of, the probe would tell one that exists from one that does not by the reads it costs."""
        resolver = link.resolver
        if not isinstance(resolver, Named) or resolver.missing is None:
            return results
        if policy is not None:
            policy.prefetch([scope_of(t, p.namespace) for p, targets in zip(parents, results, strict=True)
                             for t in targets if t.obj is None and t.probe is not None])  # fmt: skip
        told = [
            [t.obj is None and t.probe is not None
             and (policy is None or (policy.knows(link, t, p.namespace) and policy.may_learn_why(t))) for t in targets]
            for p, targets in zip(parents, results, strict=True)
        ]  # fmt: skip
        asked = [
            t for targets, tell in zip(results, told, strict=True) for t, ok in zip(targets, tell, strict=True) if ok
        ]
        reasons = explained(store, resolver.missing, asked)
        for view, targets, tell in zip(views or (), results, told, strict=False):
            if view is not None:  # the probes read for this parent's targets, recorded for its root
                get_all(view, {t.probe for t, ok in zip(targets, tell, strict=True) if ok and t.probe is not None})
        return [
            [_explained(t, reasons, ok) for t, ok in zip(targets, tell, strict=True)]
            for targets, tell in zip(results, told, strict=True)
        ]

    def items(
        self, link: Link, parents: list[Entity], results: list[list[Target]], policy: Policy | None = None
    ) -> list[list[Item]]:
        """Each parent's targets as the caller may know them: entities, missing values, documents."""
        if policy is not None:
            policy.prefetch([scope_of(t, _looked_in(link, p, t)) for p, targets in zip(parents, results, strict=True)
                             for t in targets if not t.kind.part and not t.computed])  # fmt: skip
        return [
            [item for t in targets if (item := self.item(parent, link, t, policy)) is not None]
            for parent, targets in zip(parents, results, strict=True)
        ]

    def item(self, parent: Entity, link: Link, target: Target, policy: Policy | None = None) -> Item | None:
        """One target as the caller may know it; None: they may not learn that it exists."""
        if target.computed:
            assert target.obj is not None
            return target.obj
        here = f"{parent.href}/{link.rel}"
        if (
            policy is not None
            and not target.kind.part
            and not policy.knows(link, target, _looked_in(link, parent, target))
        ):
            if isinstance(link.resolver, Named):  # its name is in the parent the caller can see
                return Missing(target.kind.name, target.ref or _ref(target), here, "Forbidden")
            if not link.many:  # a to-one search: the same marker whether it found something or not
                return Missing(target.kind.name, None, here, "Forbidden")
            return None  # found by a query: not even its name
        if target.obj is None:
            if isinstance(link.resolver, Selected) and link.resolver.absent_ok:
                return None  # a search that may find nothing found nothing, and the caller may know it
            return Missing(target.kind.name, target.ref, here, target.reason)
        return Resolved(self.target_entity(parent, link.rel, target))

    def target_entity(self, parent: Entity, rel: str, target: Target) -> Entity:
        assert target.obj is not None
        if target.kind.part:
            return part_entity(parent, rel, target.kind, target.obj)
        m = meta(target.obj)
        ns = m.get("namespace") if target.kind.namespaced else None
        name = str(m.get("name", ""))
        return Entity(target.kind, target.obj, ns, href_for(target.kind, ns, name), parent, rel)

    def follow(self, store: Store, nodes: list[Resolved], tree: LinkTree, policy: Policy | None = None) -> int:
        """Follow `tree` from each node, filling in what it led to, level by level.

        Returns the number of objects resolved; raises TooLarge past the limits.
        """
        if not tree:
            return 0
        embedded = 0
        budget = _Budget(self.limits.max_response_bytes)
        for n in nodes:
            budget.spend(n.entity)
        level = [(n, tree) for n in nodes]
        while level:
            groups: dict[tuple[str, str], list[tuple[Resolved, LinkTree]]] = defaultdict(list)
            for node, subtree in level:
                for rel, below in self._wanted(node.entity, subtree).items():
                    groups[(node.entity.kind.name, rel)].append((node, below))
            next_level: list[tuple[Resolved, LinkTree]] = []
            for (kind, rel), members in groups.items():
                link = self.catalog.link(kind, rel)
                parents = [n.entity for n, _ in members]
                results = self.resolve(store, link, parents, policy)
                # refuse before reviewing or keeping anything of a level that is already over the limit
                embedded += sum(len(targets) for targets in results)
                if embedded > self.limits.max_embedded:
                    raise TooLarge(
                        f"follow would embed more than {self.limits.max_embedded} objects; "
                        "follow fewer links, page the collection with limit, "
                        "or raise the gateway's --max-embedded"
                    )
                for (node, below), found in zip(members, self.items(link, parents, results, policy), strict=True):
                    for item in found:
                        if isinstance(item, Resolved) and not item.entity.kind.part:
                            budget.spend(item.entity)
                    if link.many:
                        node.followed[rel] = found
                    elif found:
                        node.followed[rel] = found[0]
                    if below:
                        next_level.extend((item, below) for item in found if isinstance(item, Resolved))
            level = next_level
        return embedded

    def _wanted(self, entity: Entity, tree: LinkTree) -> dict[str, LinkTree]:
        """The rels to follow on this entity: `*` expanded, rels it lacks dropped."""
        links = self.catalog.links(entity.kind.name, entity.via)
        wanted: dict[str, LinkTree] = {}
        star = tree.get("*")
        if star is not None:
            wanted = dict.fromkeys(links, star)
        for rel, subtree in tree.items():
            if rel in links:
                wanted[rel] = wanted[rel].merge(subtree) if rel in wanted else subtree
        return wanted


def _looked_in(link: Link, parent: Entity, target: Target) -> str | None:
    """Where the caller must be allowed to look to know of `target`: for a search that found nothing,
    where it searched (None: every namespace, as a golden image's DataSource is looked for), since
    "nothing there" is a listing of it; else the parent's namespace (a found or named target has its own)."""
    if target.obj is None and target.ref is None and isinstance(link.resolver, Selected):
        query = link.resolver.query(parent)
        if query is not None:
            return query.namespace
    return parent.namespace


def _explained(target: Target, reasons: dict[ObjectRef, str], told: bool) -> Target:
    if target.obj is not None or target.probe is None:
        return target
    return dataclasses.replace(target, reason=reasons[target.probe] if told else "Forbidden")


def _ref(target: Target) -> ObjectRef:
    assert target.obj is not None
    m = meta(target.obj)
    ns = m.get("namespace") if target.kind.namespaced else None
    return ObjectRef(target.kind.name, ns, str(m.get("name", "")))


class _Budget:
    """The bytes an answer will take, counted as objects are embedded, refused past the limit."""

    def __init__(self, limit: int) -> None:
        self.limit, self.spent = limit, 0

    def spend(self, entity: Entity) -> None:
        memo = entity.memo()  # an object's encoded size, measured once per version
        size = memo.size
        if size is None:
            size = memo.size = len(orjson.dumps(entity.obj, option=orjson.OPT_NON_STR_KEYS))
        self.spent += size
        if self.spent > self.limit:
            raise TooLarge(
                f"the answer would be larger than {self.limit} bytes; follow fewer links, page the "
                "collection with limit, or raise the gateway's --max-response-bytes"
            )
