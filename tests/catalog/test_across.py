"""A link that may name an object in another namespace says so (`across`): direct mode searches the
reverse of every other link in its target's namespace only, and would miss an undeclared one."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from gateway.catalog import CATALOG, Entity, Link, Named, ObjectRef, Parts, part_entity
from gateway.store.snapshot import demo_objects
from tests.support.synthetic import synthetic_cluster

ELSEWHERE = "elsewhere"


def everywhere_a_namespace(value: Any, top: bool = True) -> Any:
    """Every map below the object's own metadata gains `namespace: elsewhere` (a `{name, namespace}` reference)."""
    if isinstance(value, dict):
        inner = {k: v if top and k == "metadata" else everywhere_a_namespace(v, False) for k, v in value.items()}
        return inner if top else {**inner, "namespace": ELSEWHERE}
    if isinstance(value, list):
        return [everywhere_a_namespace(v, False) for v in value]
    return value


def every_name_qualified(value: Any, top: bool = True) -> Any:
    """Every string below the object's own metadata becomes `elsewhere/<string>` (a multus `ns/name`)."""
    if isinstance(value, dict):
        return {k: v if top and k == "metadata" else every_name_qualified(v, False) for k, v in value.items()}
    if isinstance(value, list):
        return [every_name_qualified(v, False) for v in value]
    return f"{ELSEWHERE}/{value}" if isinstance(value, str) else value


def named_links(entity: Entity) -> Iterator[tuple[Entity, Link]]:
    """Each `Named` link `Catalog.references` reads, with the entity (or part) it reads it on."""
    for link in CATALOG.all_links(entity.kind.name).values():
        if link.via:
            continue
        if isinstance(link.resolver, Named):
            yield entity, link
        elif isinstance(link.resolver, Parts):
            kind = CATALOG.kind(link.targets[0])
            for part in link.resolver.parts(entity):
                yield from named_links(part_entity(entity, link.rel, kind, part))


def objects() -> list[dict[str, Any]]:
    return [o for _, o in demo_objects(CATALOG)] + synthetic_cluster(2, "bench")


@pytest.mark.parametrize("mutate", [everywhere_a_namespace, every_name_qualified])
def test_a_link_that_may_name_another_namespace_is_declared_across(mutate: Callable[[Any], Any]) -> None:
    crossing: set[tuple[str, str]] = set()
    for obj in objects():
        kind = CATALOG.kind(obj["kind"])
        for entity, link in named_links(Entity.root(kind, mutate(obj))):
            assert isinstance(link.resolver, Named)
            refs: list[ObjectRef] = link.resolver.refs(entity)
            if any(r.namespace not in (entity.namespace, None) for r in refs):
                crossing.add((entity.kind.name, link.rel))
                assert link.resolver.across, f"{entity.kind.name}.{link.rel} names {refs}: declare it across=True"
    assert crossing  # the mutations do reach the links that read a namespace


def test_a_reverse_link_is_searched_where_its_referrers_can_be() -> None:
    pvc = ObjectRef("PersistentVolumeClaim", "demo", "fedora-root")
    nad = ObjectRef("NetworkAttachmentDefinition", "demo", "vlan10")
    cluster_instancetype = ObjectRef("VirtualMachineClusterInstancetype", None, "u1.medium")
    assert CATALOG.referrer_scope("VirtualMachine", pvc) == "demo"
    assert CATALOG.referrer_scope("Pod", pvc) == "demo"
    assert CATALOG.referrer_scope("VirtualMachine", nad) is None  # a multus network may be `demo/vlan10`
    assert CATALOG.referrer_scope("VirtualMachineInstance", nad) is None
    assert CATALOG.referrer_scope("VirtualMachine", cluster_instancetype) is None
    assert "NetworkAttachmentDefinition" in CATALOG.named_across("VirtualMachine")  # through its network parts
