"""The catalogue: every kind the gateway serves and every link between kinds, in one place.

Adding a relationship is one `Link` entry in `core.py` or `kubevirt.py`; follow,
reverse links, the object graph and GET /catalog all read it from here.
Pure: no I/O, no Flask, no Kubernetes client.
"""

from gateway.catalog import core, kubevirt
from gateway.catalog.kinds import Kind, Object, ObjectRef, href_for
from gateway.catalog.links import (
    Catalog,
    Computed,
    Entity,
    GraphStep,
    Held,
    Join,
    Link,
    MissingProbe,
    Named,
    Parts,
    Query,
    Referrers,
    Selected,
    memo_of,
    named_refs,
    part_entity,
    parts_of,
)


def build() -> Catalog:
    catalog = Catalog()
    for kind in (*core.KINDS, *kubevirt.KINDS):
        catalog.add_kind(kind)
    core.add_links(catalog)
    kubevirt.add_links(catalog)
    kubevirt.add_graphs(catalog)
    catalog.freeze()
    return catalog


CATALOG = build()

__all__ = [
    "CATALOG",
    "Catalog",
    "Computed",
    "Entity",
    "GraphStep",
    "Held",
    "Join",
    "Kind",
    "Link",
    "MissingProbe",
    "Named",
    "Object",
    "ObjectRef",
    "Parts",
    "Query",
    "Referrers",
    "Selected",
    "href_for",
    "memo_of",
    "named_refs",
    "part_entity",
    "parts_of",
]
