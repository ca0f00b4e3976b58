"""Entities as the gateway serves them (DESIGN section 3): the object plus `href` and `links`,
with what the engine resolved embedded under each followed rel.

Pure: builds dicts from catalogue links and the engine's resolved values; reads no store.
"""

from __future__ import annotations

from typing import Any

from gateway.catalog import (
    Catalog,
    Computed,
    Entity,
    Link,
    Named,
    ObjectRef,
    Parts,
    Selected,
    href_for,
    named_refs,
    parts_of,
)
from gateway.documents.sparse import NO_FIELDS, Fields
from gateway.follow.engine import Item, Missing, Resolved


def render(node: Resolved, catalog: Catalog, fields: Fields = NO_FIELDS) -> dict[str, Any]:
    """The document of a resolved entity, with everything followed from it embedded; with `fields`,
    each entity keeps only the paths they name (its followed rels stay)."""
    doc = represent(node.entity, catalog)
    if fields:
        doc = fields.trim(doc, node.entity.kind.collection, node.entity.kind.part)
    for rel, found in node.followed.items():
        if isinstance(found, list):
            doc[rel] = [rendered(i, catalog, fields) for i in found]
        else:
            doc[rel] = rendered(found, catalog, fields)
    return doc


def rendered(item: Item, catalog: Catalog, fields: Fields = NO_FIELDS) -> dict[str, Any]:
    if isinstance(item, Resolved):
        return render(item, catalog, fields)
    if isinstance(item, Missing):
        return marker(item, catalog)
    return item  # a computed document


def represent(entity: Entity, catalog: Catalog) -> dict[str, Any]:
    # a shallow copy: embedding adds keys at the top level only, the object stays shared
    doc = dict(entity.obj)
    doc["href"] = entity.href
    doc["links"] = links_of(entity, catalog)
    return doc


def links_of(entity: Entity, catalog: Catalog) -> dict[str, dict[str, str]]:
    """The entity's `links` map; shared (never changed) by every document of the same object version
    unless one of its links depends on the path that reached it."""
    applicable = catalog.links(entity.kind.name, entity.via)
    if catalog.path_dependent(entity.kind.name, entity.via):
        return _links(entity, catalog, applicable)
    kept = entity.memo().links
    links = kept.get(entity.via)
    if links is None:
        links = kept[entity.via] = _links(entity, catalog, applicable)
    return links


def _links(entity: Entity, catalog: Catalog, applicable: dict[str, Link]) -> dict[str, dict[str, str]]:
    links: dict[str, dict[str, str]] = {}
    for rel, link in applicable.items():
        resolver, sub = link.resolver, f"{entity.href}/{rel}"
        if isinstance(resolver, Named):
            refs = named_refs(entity, link)
            if not refs:
                continue
            links[rel] = {"href": sub} if link.many else ref_link(catalog, refs[0])
        elif isinstance(resolver, Selected):
            if resolver.present is not None and not resolver.present(entity):
                continue
            links[rel] = {"href": sub} if link.many else {"href": sub, "kind": link.targets[0]}
        elif isinstance(resolver, Parts):
            if parts_of(entity, link):
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


def marker(missing: Missing, catalog: Catalog) -> dict[str, Any]:
    """The marker for a target that is not there: with its name and href when the parent names it."""
    if missing.ref is not None:
        return {**ref_link(catalog, missing.ref), "missing": True, "reason": missing.reason}
    return {"href": missing.href, "kind": missing.kind, "name": None, "missing": True, "reason": missing.reason}
