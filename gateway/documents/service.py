"""Response documents: an object, a collection, a link's targets, each with follow applied.

This is the layer the HTTP views call. It turns collection names and query values
into catalogue lookups and store reads; it knows nothing of Flask.
"""

from __future__ import annotations

import functools
from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any

from gateway.catalog import Catalog, Entity, Kind, Link, ObjectRef, Query, Referrers, Selected, href_for
from gateway.catalog.kinds import meta
from gateway.catalog.names import NameRule, name_problem
from gateway.catalog.selectors import LabelSelector
from gateway.documents.declared import DeclaredLinks
from gateway.documents.pages import paginate
from gateway.documents.representation import render, rendered
from gateway.documents.sparse import NO_FIELDS, Fields, parse_fields
from gateway.errors import BadRequest, Forbidden, NotFound
from gateway.follow.engine import FollowEngine, Resolved
from gateway.follow.paths import parse_follow
from gateway.follow.policy import Policy
from gateway.follow.tree import LinkTree
from gateway.follow.validate import Context, validate
from gateway.store import Store


@dataclass(frozen=True, slots=True)
class ListParams:
    selector: LabelSelector = field(default_factory=LabelSelector)
    limit: int | None = None
    token: str | None = None


FOLLOW_TREES = 1024
"""Parsed and checked follow parameters remembered (a UI asks the same few again and again)."""


class Documents:
    def __init__(self, catalog: Catalog, engine: FollowEngine) -> None:
        self.catalog = catalog
        self.engine = engine
        # the catalogue and the limits are fixed for the life of the app: a tree depends on its text
        # and the kinds it starts from only; a refused one raises again each time (errors are not kept)
        self._follow_tree = functools.lru_cache(maxsize=FOLLOW_TREES)(self._checked_tree)
        self.declared: DeclaredLinks | None = None
        """Where declared links come from, and what became of each source (GET /catalog's `declared`)."""

    def catalogue_changed(self) -> None:
        """Declarations were applied: a follow tree was checked against the old links."""
        self._follow_tree.cache_clear()

    # --- lookups -------------------------------------------------------------------------

    def kind(self, collection: str, namespaced: bool | None = None) -> Kind:
        kind = self.catalog.by_collection(collection)
        if kind is None:
            raise NotFound(
                f"unknown collection {collection!r}; GET / lists the collections",
                reason="NotFound",
            )
        if namespaced is True and not kind.namespaced:
            raise NotFound(f"{collection} are cluster-scoped: GET /{collection}")
        return kind

    def entity(
        self, store: Store, kind: Kind, namespace: str | None, name: str, access: Policy | None = None
    ) -> Entity:
        """The object a request is about; 400 for a name the API server would refuse, then 403
        before any read if the caller may not get it."""
        ns = self.namespace(namespace) if kind.namespaced else None
        checked_name(name, kind.names, "name", f"a {kind.name} name")
        if access is not None and not access.may_get(kind, ns, name):
            where = f" in namespace {ns!r}" if ns else ""
            raise Forbidden(f'{kind.plural} "{name}" is forbidden: you may not get it{where}')
        obj = store.get(ObjectRef(kind.name, ns, name))
        if obj is None:
            where = f" in namespace {ns!r}" if ns else ""
            raise NotFound(f'{kind.plural} "{name}" not found{where}')
        return Entity.root(kind, obj)

    def namespace(self, namespace: str | None) -> str | None:
        """A namespace from a request (None: all namespaces), checked as the API server checks it."""
        if namespace is not None:
            checked_name(namespace, "label", "namespace", "a namespace")
        return namespace

    def fields(self, every: str | None, by_collection: dict[str, str]) -> Fields:
        """`fields=` and `fields[<collection>]=`, checked against the catalogue (a 400 naming the parameter)."""
        return parse_fields(every, by_collection, self.catalog)

    def follow_tree(self, text: str | None, kinds: set[Context]) -> LinkTree:
        return self._follow_tree(text, frozenset(kinds))

    def _checked_tree(self, text: str | None, kinds: frozenset[Context]) -> LinkTree:
        tree = parse_follow(text, self.engine.limits)
        validate(tree, set(kinds), self.catalog)
        return tree

    # --- documents -----------------------------------------------------------------------

    def object(
        self,
        store: Store,
        kind: Kind,
        namespace: str | None,
        name: str,
        follow: str | None,
        access: Policy | None = None,
        fields: Fields = NO_FIELDS,
    ) -> dict[str, Any]:
        tree = self.follow_tree(follow, {Context(kind.name)})
        node = Resolved(self.entity(store, kind, namespace, name, access))
        self.engine.follow(store, [node], tree, access)
        return render(node, self.catalog, fields)

    def collection(
        self,
        store: Store,
        kind: Kind,
        namespace: str | None,
        params: ListParams,
        follow: str | None,
        access: Policy | None = None,
        fields: Fields = NO_FIELDS,
    ) -> dict[str, Any]:
        tree = self.follow_tree(follow, {Context(kind.name)})
        namespace = self.namespace(namespace) if kind.namespaced else None
        if access is not None and not access.may_list(kind, namespace if kind.namespaced else None):
            where = f" in namespace {namespace!r}" if namespace and kind.namespaced else ""
            raise Forbidden(f"{kind.plural} is forbidden: you may not list them{where}")
        objects = store.select(Query(kind.name, namespace if kind.namespaced else None, params.selector))
        positions = [(str(meta(o).get("namespace") or ""), str(meta(o).get("name", ""))) for o in objects]
        page, token = paginate(objects, positions, params.limit, params.token)
        roots = [Resolved(Entity.root(kind, o)) for o in page]
        self.engine.follow(store, roots, tree, access)
        envelope: dict[str, Any] = {
            "kind": f"{kind.name}List",
            "href": href_for(kind, namespace) if namespace or not kind.namespaced else f"/{kind.collection}",
            "metadata": {"continue": token} if token else {},
            "items": [render(node, self.catalog, fields) for node in roots],
        }
        return envelope

    def related(
        self,
        store: Store,
        kind: Kind,
        namespace: str | None,
        name: str,
        rel: str,
        follow: str | None,
        access: Policy | None = None,
        fields: Fields = NO_FIELDS,
    ) -> dict[str, Any]:
        """GET {object}/{rel}: a to-many link as a collection, a to-one link as its target."""
        link = self._link(kind, rel)
        tree, parent = self._below(store, kind, namespace, name, rel, link.targets, follow, access)
        if access is not None and isinstance(link.resolver, Selected | Referrers):
            target = self.catalog.kind(link.targets[0])
            scope = parent.namespace if target.namespaced else None
            if not access.may_list(target, scope):  # a query's answer is a listing
                where = f" in namespace {scope!r}" if scope else ""
                raise Forbidden(f"{target.plural} is forbidden: you may not list them{where}")
        (targets,) = self.engine.resolve(store, link, [parent], access)
        (items,) = self.engine.items(link, [parent], [targets], access)
        self.engine.follow(store, [i for i in items if isinstance(i, Resolved)], tree, access)
        if link.many:
            target_kind = link.targets[0] if len(link.targets) == 1 else "Object"
            return {
                "kind": f"{target_kind}List",
                "href": f"{parent.href}/{rel}",
                "metadata": {},
                "items": [rendered(i, self.catalog, fields) for i in items],
            }
        if not items:
            raise NotFound(f"{kind.name} {name!r} has no {rel!r}")
        return rendered(items[0], self.catalog, fields)

    def part(
        self,
        store: Store,
        kind: Kind,
        namespace: str | None,
        name: str,
        rel: str,
        part: str,
        follow: str | None,
        access: Policy | None = None,
        fields: Fields = NO_FIELDS,
    ) -> dict[str, Any]:
        """GET {object}/{rel}/{name}: one sub-entity, such as a VM's volume."""
        link = self._link(kind, rel)
        part_kind = self.catalog.kind(link.targets[0])
        if not part_kind.part:
            raise NotFound(f"{rel} of a {kind.name} are objects with their own href; follow their links")
        tree, parent = self._below(store, kind, namespace, name, rel, (part_kind.name,), follow, access)
        (targets,) = self.engine.resolve(store, link, [parent])
        for target in targets:
            if target.obj is not None and target.obj.get("name") == part:
                node = Resolved(self.engine.target_entity(parent, rel, target))
                self.engine.follow(store, [node], tree, access)
                return render(node, self.catalog, fields)
        raise NotFound(f"{kind.name} {name!r} has no {rel.removesuffix('s')} {part!r}")

    def _below(
        self,
        store: Store,
        kind: Kind,
        namespace: str | None,
        name: str,
        rel: str,
        targets: tuple[str, ...],
        follow: str | None,
        access: Policy | None,
    ) -> tuple[LinkTree, Entity]:
        """What is followed from the targets of `rel`, and the object they hang from (read, and authorized)."""
        tree = self.follow_tree(follow, {Context(t, (kind.name, rel)) for t in targets})
        return tree, self.entity(store, kind, namespace, name, access)

    def _link(self, kind: Kind, rel: str) -> Link:
        link = self.catalog.links(kind.name).get(rel)
        if link is None:
            through = self.catalog.all_links(kind.name).get(rel)
            if through is not None:  # a link that depends on the path that reached the object
                paths = " or ".join(f"{parent}.{via}" for parent, via in sorted(through.via))
                raise NotFound(
                    f"{rel} of a {kind.name} is reached through {paths}: follow it from there, "
                    f"e.g. GET /namespaces/NS/vms/NAME?follow={sorted(through.via)[0][1]}.{rel}"
                )
            valid = ", ".join(sorted(self.catalog.links(kind.name))) or "none"
            raise NotFound(f"{kind.name} has no link {rel!r}; its links: {valid}")
        return link

    # --- discovery -----------------------------------------------------------------------

    def index(self) -> dict[str, Any]:
        return {
            "kind": "Index",
            "links": {
                k.collection: {
                    "href": f"/namespaces/{{namespace}}/{k.collection}" if k.namespaced else f"/{k.collection}",
                    "kind": k.name,
                    "namespaced": k.namespaced,
                }
                for k in self.catalog.collections()
            }
            | {
                "catalog": {"href": "/catalog"},
                "healthz": {"href": "/healthz"},
                "readyz": {"href": "/readyz"},
            },
        }

    def catalog_document(self, served: Collection[str] | None = None) -> dict[str, Any]:
        """Every kind and its links; a kind the cluster does not serve says so (`served`: the kinds it
        serves, None where everything loaded is served), and so does each source of declared links."""
        kinds = []
        for k in self.catalog.kinds():
            kinds.append(
                {
                    "kind": k.name,
                    "apiVersion": k.api_version if not k.part else None,
                    "collection": k.collection,
                    "namespaced": k.namespaced,
                    "subEntity": k.part,
                    "shortNames": list(k.short_names),
                    "links": [
                        {
                            "rel": link.rel,
                            "targets": list(link.targets),
                            "cardinality": "many" if link.many else "one",
                            "resolvedFrom": link.doc,
                            "resolver": type(link.resolver).__name__,
                            **({"onlyVia": sorted(f"{p}.{r}" for p, r in link.via)} if link.via else {}),
                        }
                        for link in self.catalog.all_links(k.name).values()
                    ],
                }
            )
            if served is not None and not k.part and k.name not in served:
                kinds[-1]["served"] = False
        statuses = self.declared.statuses() if self.declared is not None else []
        declared = {"declared": [status.document() for status in statuses]} if statuses else {}
        return {"kind": "Catalog", "href": "/catalog", "kinds": kinds, **declared}


def checked_name(value: str, rule: NameRule, parameter: str, what: str) -> str:
    """`value`, or a 400 naming the parameter: such a name cannot exist, and is never sent to the API."""
    problem = name_problem(value, rule)
    if problem is not None:
        shown = value[:64] + ("..." if len(value) > 64 else "")
        raise BadRequest(f"{parameter} {shown!r} is not {what}: it {problem}", field=parameter)
    return value
