"""The catalogue: every kind the gateway serves and every link between kinds, in one place.

Adding a data-shaped relationship is one entry in `builtin.yaml` (the LinkCatalog format users
declare theirs in); one that computes is a `Link` entry in `core.py` or `kubevirt.py`. Follow,
reverse links, the object graph and GET /catalog all read it from here.
Pure: no I/O (but reading its own packaged builtin.yaml once, as an import reads code), no Flask,
no Kubernetes client.
"""

from collections.abc import Sequence
from importlib.resources import files

from gateway.catalog import core, declared, kubevirt
from gateway.catalog.declared import DeclarationError, Declarations, SourceStatus, parse_link_catalog
from gateway.catalog.kinds import Kind, Object, ObjectRef, href_for
from gateway.catalog.links import (
    Catalog,
    Computed,
    Declared,
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
    edition,
    memo_of,
    named_refs,
    part_entity,
    parts_of,
)

BUILTIN = parse_link_catalog(files("gateway.catalog").joinpath("builtin.yaml").read_text(), "builtin.yaml")


def build(sources: Sequence[Declarations] = ()) -> Catalog:
    """The built-in catalogue with the declarations of `sources` (each source's kinds, then their
    links). A `DeclarationError` names the first problem."""
    catalog = _builtin()
    declared.add_declarations(catalog, sources)
    catalog.freeze()
    return catalog


def build_tolerant(
    files: Sequence[Declarations], documents: Sequence[Declarations | DeclarationError]
) -> tuple[Catalog, list[SourceStatus]]:
    """The catalogue with `files` (each good: they were at startup) and every one of `documents` that
    fits: each is added to those that fit before it, again until none more fits (a document may link a
    kind a later one declares); one that does not is left out, named with its error."""
    errors: dict[str, str] = {d.source: str(d) for d in documents if isinstance(d, DeclarationError)}
    good: list[Declarations] = []
    pending = [d for d in documents if isinstance(d, Declarations)]
    while pending:
        left = []
        for document in pending:
            try:
                build([*files, *good, document])
            except DeclarationError as e:
                errors[document.source] = str(e)
                left.append(document)
            else:
                good.append(document)
                errors.pop(document.source, None)
        if len(left) == len(pending):
            break
        pending = left
    sources = [*(d.source for d in files), *(d.source for d in documents)]
    return build([*files, *good]), [SourceStatus(s, errors.get(s)) for s in dict.fromkeys(sources)]


def _builtin() -> Catalog:
    """Every built-in kind and link, still open for declarations."""
    catalog = Catalog()
    for kind in (*core.KINDS, *kubevirt.KINDS):
        catalog.add_kind(kind)
    placed: set[str] = set()

    def declared_here(kind: str) -> None:
        placed.add(kind)
        declared.add_links(catalog, BUILTIN, only=kind, builtin=True)

    core.add_links(catalog, declared_here)
    kubevirt.add_links(catalog, declared_here)
    for name in dict.fromkeys(link.source_kind for link in BUILTIN.links):
        if name not in placed:
            declared.add_links(catalog, BUILTIN, only=name, builtin=True)
    kubevirt.add_graphs(catalog)
    return catalog


CATALOG = build()

__all__ = [
    "BUILTIN",
    "CATALOG",
    "Catalog",
    "Computed",
    "DeclarationError",
    "Declarations",
    "Declared",
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
    "SourceStatus",
    "build",
    "build_tolerant",
    "edition",
    "href_for",
    "memo_of",
    "named_refs",
    "parse_link_catalog",
    "part_entity",
    "parts_of",
]
