"""Short constructors for catalogue entries, so that one link reads as one line."""

from __future__ import annotations

from collections.abc import Callable

from gateway.catalog import refs
from gateway.catalog.kinds import Object, ObjectRef
from gateway.catalog.links import Entity, Join, Link, MissingProbe, Named, Parts, Query, Referrers, Selected

RefsOf = Callable[[Entity], list[ObjectRef]]


def _targets(target: str | tuple[str, ...]) -> tuple[str, ...]:
    return (target,) if isinstance(target, str) else target


def named(
    rel: str,
    target: str | tuple[str, ...],
    find: RefsOf,
    doc: str,
    *,
    many: bool = False,
    missing: MissingProbe | None = None,
    via: tuple[str, str] | None = None,
    optional: bool = False,
    across: bool = False,
) -> Link:
    """Targets the entity names; `across`: maybe in another namespace than its own."""
    return Link(
        rel,
        _targets(target),
        many,
        Named(find, missing, across),
        doc,
        frozenset([via]) if via else frozenset(),
        optional,
    )


def selected(
    rel: str,
    target: str,
    query: Callable[[Entity], Query | None],
    doc: str,
    *,
    many: bool = True,
    join: Join | None = None,
    pick: Callable[[Entity, list[Object]], list[Object]] | None = None,
    present: Callable[[Entity], bool] | None = None,
    absent_ok: bool = False,
) -> Link:
    """Targets found by a query in the entity's namespace."""
    return Link(rel, (target,), many, Selected(query, pick, present, absent_ok, join), doc)


def parts(rel: str, target: str, carve: Callable[[Entity], list[Object]], doc: str) -> Link:
    return Link(rel, (target,), True, Parts(carve), doc)


def referrers(rel: str, source: str, doc: str) -> Link:
    return Link(rel, (source,), True, Referrers(source), doc)


def field(kind: str, *path: str, cluster: bool = False) -> RefsOf:
    """The object named at `path`, in the entity's namespace (or cluster-scoped)."""
    return lambda e: refs.ref(kind, None if cluster else e.namespace, refs.dig(e.obj, *path))


def namespaced_field(kind: str, *path: str) -> RefsOf:
    """The object named by `{name, namespace}` at `path`; the namespace defaults to the entity's."""
    return lambda e: refs.ref(
        kind,
        refs.text(refs.dig(e.obj, *path, "namespace")) or e.namespace,
        refs.dig(e.obj, *path, "name"),
    )


def owner(kind: str) -> RefsOf:
    """The first owner of `kind` in metadata.ownerReferences."""
    return lambda e: refs.ref(kind, e.namespace, refs.owner(e.obj, kind))


def by_name(candidate: Callable[[Object], object]) -> Join:
    """Batch join: candidates whose `candidate(obj)` is the parent's name."""
    return Join(parent=lambda e: [e.name], candidate=lambda o: [candidate(o)])


def label_items(labels: object) -> list[tuple[object, object]]:
    """A label map as join keys; anything else has none."""
    return list(labels.items()) if isinstance(labels, dict) else []
