"""Check a LinkTree against the catalogue before anything is fetched."""

from __future__ import annotations

from dataclasses import dataclass

from gateway.catalog import Catalog
from gateway.follow.paths import FollowError
from gateway.follow.tree import LinkTree, RelPath


@dataclass(frozen=True, slots=True)
class Context:
    """A kind as reached at one point of the tree, and the (parent kind, rel) that reached it."""

    kind: str
    via: tuple[str, str] | None = None


def validate(tree: LinkTree, contexts: set[Context], catalog: Catalog, path: RelPath = ()) -> None:
    """Every rel must exist on at least one kind reachable at its place in the tree.

    Kinds reached through a multi-kind link (an instancetype, namespaced or cluster)
    each get the rels they have; `*` is every link there.
    """
    for rel, subtree in tree.items():
        here = (*path, rel)
        next_contexts: set[Context] = set()
        for ctx in contexts:
            links = catalog.links(ctx.kind, ctx.via)
            chosen = links.values() if rel == "*" else [links[rel]] if rel in links else []
            for link in chosen:
                next_contexts.update(Context(t, (ctx.kind, link.rel)) for t in link.targets)
        if rel != "*" and not next_contexts:
            raise FollowError(_unknown(rel, here, contexts, catalog))
        if subtree:
            validate(subtree, next_contexts, catalog, here)


def _unknown(rel: str, path: RelPath, contexts: set[Context], catalog: Catalog) -> str:
    kinds = sorted({c.kind for c in contexts})
    valid = sorted({r for c in contexts for r in catalog.links(c.kind, c.via)})
    message = (
        f"unknown rel {rel!r} in follow path {'.'.join(path)!r}: "
        f"{' or '.join(kinds) or 'nothing'} has no link {rel!r}; "
        f"valid rels there: {', '.join(valid) or '(none)'}"
    )
    # the rel exists, but only when reached another way (an instancetype's pinned revision)
    elsewhere = sorted(
        f"{parent}.{via_rel}"
        for c in contexts
        if (link := catalog.all_links(c.kind).get(rel)) is not None
        for parent, via_rel in link.via
    )
    if elsewhere:
        message += f" ({rel!r} is reachable only through {', '.join(elsewhere)})"
    return message
