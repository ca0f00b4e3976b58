"""The follow engine: walks a LinkTree level by level and embeds what each link leads to.

For each level it groups parents by (kind, rel) and resolves each group with the
registered batch handler, or else with the generic follower one parent at a time.
It knows neither Flask nor the Kubernetes client: it reads a `Store`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from gateway.catalog import Catalog, Computed, Entity, Kind, Link, Named, ObjectRef, href_for, part_entity
from gateway.catalog.kinds import meta
from gateway.follow.followers import Target, follow_one
from gateway.follow.paths import DEFAULT_LIMITS, FollowError, FollowLimits
from gateway.follow.registry import HandlerRegistry
from gateway.follow.tree import LinkTree
from gateway.represent import missing, represent, via_of
from gateway.store import Store


@dataclass(slots=True)
class _Pending:
    entity: Entity
    doc: dict[str, Any]
    tree: LinkTree


class Access(Protocol):
    """What the caller may see (`--auth kubernetes`); None everywhere means no per-caller checks."""

    def may_get(self, kind: Kind, namespace: str | None, name: str | None) -> bool: ...

    def may_list(self, kind: Kind, namespace: str | None) -> bool: ...


Provider = Callable[[Store, list[Entity], "Access | None"], list[dict[str, Any]]]


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

    def document(self, entity: Entity) -> dict[str, Any]:
        return represent(entity, self.catalog)

    def resolve(
        self, store: Store, link: Link, parents: list[Entity], access: Access | None = None
    ) -> list[list[Target]]:
        """One link for many parents: the batch handler if registered, else one by one."""
        if isinstance(link.resolver, Computed):
            kind = self.catalog.kind(link.targets[0])
            documents = self.providers[link.resolver.provider](store, parents, access)
            return [[Target(kind, doc, computed=True)] for doc in documents]
        handler = self.handlers.get(parents[0].kind.name, link.rel) if self.handlers else None
        if handler is not None:
            return handler(store, self.catalog, link, parents)
        return [follow_one(store, self.catalog, link, p) for p in parents]

    def target_entity(self, parent: Entity, rel: str, target: Target) -> Entity:
        assert target.obj is not None
        if target.kind.part:
            return part_entity(parent, rel, target.kind, target.obj)
        m = meta(target.obj)
        ns = m.get("namespace") if target.kind.namespaced else None
        name = str(m.get("name", ""))
        return Entity(target.kind, target.obj, ns, href_for(target.kind, ns, name), parent, rel)

    def render(
        self, parent: Entity, link: Link, target: Target, access: Access | None = None
    ) -> tuple[dict[str, Any] | None, Entity | None]:
        """The document for a target (None: the caller may not know it exists), and its entity."""
        rel, here = link.rel, f"{parent.href}/{link.rel}"
        if target.computed:
            return target.obj, None
        if access is not None and not target.kind.part and not visible(target, access, parent.namespace):
            if isinstance(link.resolver, Named):  # its name is in the parent the caller can see
                return missing(self.catalog, target.ref or self._ref(target), target.kind.name, here, "Forbidden"), None
            if not link.many:
                return missing(self.catalog, None, target.kind.name, here, "Forbidden"), None
            return None, None  # found by a query: not even its name
        if target.obj is None:
            return missing(self.catalog, target.ref, target.kind.name, here, target.reason), None
        entity = self.target_entity(parent, rel, target)
        return represent(entity, self.catalog), entity

    def _ref(self, target: Target) -> ObjectRef:
        assert target.obj is not None
        m = meta(target.obj)
        ns = m.get("namespace") if target.kind.namespaced else None
        return ObjectRef(target.kind.name, ns, str(m.get("name", "")))

    def embed(
        self,
        store: Store,
        roots: list[tuple[Entity, dict[str, Any]]],
        tree: LinkTree,
        access: Access | None = None,
    ) -> int:
        """Follow `tree` from each root, adding one key per followed rel to its document.

        Returns the number of embedded objects; raises FollowError past the limit.
        """
        level = [_Pending(e, d, tree) for e, d in roots] if tree else []
        embedded = 0
        while level:
            groups: dict[tuple[str, str], list[tuple[_Pending, LinkTree]]] = defaultdict(list)
            for pending in level:
                for rel, subtree in self._wanted(pending).items():
                    groups[(pending.entity.kind.name, rel)].append((pending, subtree))
            next_level: list[_Pending] = []
            for (_, rel), members in groups.items():
                first = members[0][0].entity
                link = self.catalog.all_links(first.kind.name)[rel]
                results = self.resolve(store, link, [p.entity for p, _ in members], access)
                for (pending, subtree), targets in zip(members, results, strict=True):
                    embedded += len(targets)
                    if embedded > self.limits.max_embedded:
                        raise FollowError(
                            f"follow would embed more than {self.limits.max_embedded} objects; "
                            "follow fewer links, page the collection with limit, "
                            "or raise the gateway's --max-embedded",
                            reason="RequestEntityTooLarge",
                        )
                    rendered = [(d, e) for d, e in (self.render(pending.entity, link, t, access) for t in targets) if d]
                    if link.many:
                        pending.doc[rel] = [doc for doc, _ in rendered]
                    elif rendered:
                        pending.doc[rel] = rendered[0][0]
                    if subtree:
                        next_level.extend(_Pending(e, d, subtree) for d, e in rendered if e is not None)
            level = next_level
        return embedded

    def _wanted(self, pending: _Pending) -> dict[str, LinkTree]:
        """The rels to follow on this entity: `*` expanded, rels it lacks dropped."""
        links = self.catalog.links(pending.entity.kind.name, via_of(pending.entity))
        wanted: dict[str, LinkTree] = {}
        star = pending.tree.get("*")
        if star is not None:
            wanted = dict.fromkeys(links, star)
        for rel, subtree in pending.tree.items():
            if rel in links:
                wanted[rel] = wanted[rel].merge(subtree) if rel in wanted else subtree
        return wanted


def visible(target: Target, access: Access, namespace: str | None) -> bool:
    """Whether the caller may get a target, found or named: a missing object is as private as a present one."""
    if target.obj is not None:
        m = meta(target.obj)
        namespace = m.get("namespace") if target.kind.namespaced else None
        return access.may_get(target.kind, namespace, str(m.get("name", "")))
    if target.ref is not None:
        return access.may_get(target.kind, target.ref.namespace, target.ref.name)
    # a query found nothing: whether the caller may know that is a question about the namespace
    return access.may_get(target.kind, namespace if target.kind.namespaced else None, None)
