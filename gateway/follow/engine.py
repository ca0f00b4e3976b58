"""The follow engine: walks a LinkTree level by level and embeds what each link leads to.

For each level it groups parents by (kind, rel) and resolves each group with the
registered batch handler, or else with the generic follower one parent at a time.
It knows neither Flask nor the Kubernetes client: it reads a `Store`.
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

import orjson

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

    def prefetch(self, wanted: list[tuple[Kind, str | None, str | None]]) -> None:
        """A hint: `may_get` will be asked for these (kind, namespace, name) next; review them together."""


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
        """One link for many parents: the batch handler if registered, else one by one.

        With `access`, a missing target whose reason rests on an object the caller may not read
        (the PVC that tells a collected DataVolume from one never made) is `Forbidden`: the
        reason would otherwise tell them that object exists.
        """
        if isinstance(link.resolver, Computed):
            kind = self.catalog.kind(link.targets[0])
            documents = self.providers[link.resolver.provider](store, parents, access)
            return [[Target(kind, doc, computed=True)] for doc in documents]
        handler = self.handlers.get(parents[0].kind.name, link.rel) if self.handlers else None
        if handler is not None:
            results = handler(store, self.catalog, link, parents)
        else:
            results = [follow_one(store, self.catalog, link, p) for p in parents]
        if access is not None:
            results = [[self._guarded(t, access) for t in targets] for targets in results]
        return results

    def _guarded(self, target: Target, access: Access) -> Target:
        probe = target.probe
        if target.obj is not None or probe is None or target.reason == "Forbidden":
            return target
        if access.may_get(self.catalog.kind(probe.kind), probe.namespace, probe.name):
            return target
        return dataclasses.replace(target, reason="Forbidden")

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
        if access is not None and not target.kind.part and not visible(link, target, access, parent.namespace):
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
        budget = _Budget(self.limits.max_response_bytes)
        for entity, _ in roots if tree else ():
            budget.spend(entity.obj)
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
                # refuse before rendering anything of a level that is already over the limit
                embedded += sum(len(targets) for targets in results)
                if embedded > self.limits.max_embedded:
                    raise FollowError(
                        f"follow would embed more than {self.limits.max_embedded} objects; "
                        "follow fewer links, page the collection with limit, "
                        "or raise the gateway's --max-embedded",
                        reason="RequestEntityTooLarge",
                    )
                if access is not None:
                    access.prefetch([scope_of(t, first.namespace) for targets in results for t in targets
                                     if not t.kind.part and not t.computed])  # fmt: skip
                for (pending, subtree), targets in zip(members, results, strict=True):
                    rendered = [(d, e) for d, e in (self.render(pending.entity, link, t, access) for t in targets) if d]
                    for _, e in rendered:
                        if e is not None and not e.kind.part:
                            budget.spend(e.obj)
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


def scope_of(target: Target, namespace: str | None) -> tuple[Kind, str | None, str | None]:
    """(kind, namespace, name) of a target, found or named; a query that found nothing: the
    parent's namespace and no name."""
    if target.obj is not None:
        m = meta(target.obj)
        return target.kind, m.get("namespace") if target.kind.namespaced else None, str(m.get("name", ""))
    if target.ref is not None:
        return target.kind, target.ref.namespace, target.ref.name
    return target.kind, namespace if target.kind.namespaced else None, None


def visible(link: Link, target: Target, access: Access, namespace: str | None) -> bool:
    """Whether the caller may know of a target: a missing object is as private as a present one.

    A target the parent names needs `get`. One found by a query (a selector, a reverse link)
    also needs `list` of its kind where it was searched: the query's answer is a listing.
    """
    kind, where, name = scope_of(target, namespace)
    if not isinstance(link.resolver, Named) and not access.may_list(kind, where):
        return False
    return access.may_get(kind, where, name)


class _Budget:
    """The bytes an answer will take, counted as objects are embedded, refused past the limit."""

    def __init__(self, limit: int) -> None:
        self.limit, self.spent = limit, 0
        self._sizes: dict[int, int] = {}  # id(object) -> encoded size: the same object often recurs

    def spend(self, obj: dict[str, Any]) -> None:
        size = self._sizes.get(id(obj))
        if size is None:
            size = self._sizes[id(obj)] = len(orjson.dumps(obj, option=orjson.OPT_NON_STR_KEYS))
        self.spent += size
        if self.spent > self.limit:
            raise FollowError(
                f"the answer would be larger than {self.limit} bytes; follow fewer links, page the "
                "collection with limit, or raise the gateway's --max-response-bytes",
                reason="RequestEntityTooLarge",
            )
