"""Entities as the gateway serves them (DESIGN section 3): the object plus `href` and `links`.

Pure: builds dicts from catalogue links; reads no store.
"""

from __future__ import annotations

from typing import Any

from gateway.catalog import Catalog, Computed, Entity, Named, ObjectRef, Parts, Selected, href_for


def via_of(entity: Entity) -> tuple[str, str] | None:
    """(parent kind, rel) that reached this entity: what path-dependent links look at."""
    if entity.parent is None or entity.rel is None:
        return None
    return entity.parent.kind.name, entity.rel


def represent(entity: Entity, catalog: Catalog) -> dict[str, Any]:
    # a shallow copy: embedding adds keys at the top level only, the object stays shared
    doc = dict(entity.obj)
    doc["href"] = entity.href
    doc["links"] = links_of(entity, catalog)
    return doc


def links_of(entity: Entity, catalog: Catalog) -> dict[str, dict[str, str]]:
    links: dict[str, dict[str, str]] = {}
    for rel, link in catalog.links(entity.kind.name, via_of(entity)).items():
        resolver, sub = link.resolver, f"{entity.href}/{rel}"
        if isinstance(resolver, Named):
            refs = resolver.refs(entity)
            if not refs:
                continue
            links[rel] = {"href": sub} if link.many else ref_link(catalog, refs[0])
        elif isinstance(resolver, Selected):
            if resolver.present is not None and not resolver.present(entity):
                continue
            links[rel] = {"href": sub} if link.many else {"href": sub, "kind": link.targets[0]}
        elif isinstance(resolver, Parts):
            if resolver.parts(entity):
                links[rel] = {"href": sub}
        elif isinstance(resolver, Computed):
            links[rel] = {"href": sub, "kind": link.targets[0]}
        else:
            links[rel] = {"href": sub}
    return links


def ref_link(catalog: Catalog, ref: ObjectRef) -> dict[str, str]:
    return {
        "href": href_for(catalog.kind(ref.kind), ref.namespace, ref.name),
        "kind": ref.kind,
        "name": ref.name,
    }


def missing(catalog: Catalog, ref: ObjectRef | None, kind: str, href: str, reason: str) -> dict[str, Any]:
    """The marker for a to-one target that is not there: data, not an error."""
    if ref is not None:
        return {**ref_link(catalog, ref), "missing": True, "reason": reason}
    return {"href": href, "kind": kind, "name": None, "missing": True, "reason": reason}
