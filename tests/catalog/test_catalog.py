"""The catalogue and the handler registry check themselves: nothing dangles, nothing changes late."""

from __future__ import annotations

import pytest

from gateway.app import build_documents
from gateway.catalog import CATALOG, Catalog, Kind, Link, Named, Referrers
from gateway.config import Config
from gateway.follow.optimized import batch_named
from gateway.follow.registry import HandlerRegistry

DESIGN_COLLECTIONS = {
    "vms", "vmis", "datavolumes", "pvcs", "pvs", "storageclasses", "configmaps", "secrets",
    "serviceaccounts", "pods", "services", "controllerrevisions", "instancetypes",
    "clusterinstancetypes", "preferences", "clusterpreferences", "networkattachmentdefinitions",
    "ipamclaims", "vmsnapshots", "vmexports", "migrations", "datasources", "nodes",
    "dataimportcrons", "namespaces", "pools", "clones", "vmrestores", "vmsnapshotcontents", "vmireplicasets",
    "migrationpolicies", "volumesnapshots",
}  # fmt: skip


def test_every_collection_of_the_design_is_served() -> None:
    assert {k.collection for k in CATALOG.collections()} == DESIGN_COLLECTIONS


def test_every_link_targets_a_declared_kind_and_every_reverse_link_has_forward_links() -> None:
    for kind in CATALOG.kinds():
        for link in CATALOG.all_links(kind.name).values():
            assert link.targets and all(CATALOG.kind(t) for t in link.targets)
            assert link.doc
            if isinstance(link.resolver, Referrers):
                source = link.resolver.source
                assert any(isinstance(lk.resolver, Named) for lk in CATALOG.all_links(source).values())


def test_every_registered_handler_is_for_a_catalogue_link() -> None:
    handlers = build_documents(Config()).engine.handlers
    assert handlers is not None
    for kind, rel in handlers.registered():
        assert rel in CATALOG.all_links(kind)
    assert {("VirtualMachine", "vmi"), ("VirtualMachine", "instancetype"), ("Volume", "pvc"),
            ("VirtualMachineInstance", "pod")} <= set(handlers.registered())  # fmt: skip


def test_registration_is_closed_once_the_app_is_built() -> None:
    handlers = build_documents(Config()).engine.handlers
    assert handlers is not None
    with pytest.raises(RuntimeError, match="frozen"):
        handlers.register("VirtualMachine", "vmi", batch_named)
    with pytest.raises(RuntimeError, match="frozen"):
        CATALOG.add_kind(Kind("Late", "", "v1", "lates", "lates", True))


def test_a_link_is_declared_once() -> None:
    catalog = Catalog()
    catalog.add_kind(Kind("A", "", "v1", "as", "as", True))
    link = Link("self", ("A",), False, Named(lambda e: []), "nothing")
    catalog.add_link("A", link)
    with pytest.raises(ValueError, match="declared twice"):
        catalog.add_link("A", link)
    with pytest.raises(ValueError, match="unknown kinds"):
        catalog.add_link("A", Link("b", ("B",), False, Named(lambda e: []), "nothing"))


def test_unoptimized_config_registers_nothing() -> None:
    assert build_documents(Config(optimize=False)).engine.handlers is None
    assert HandlerRegistry().get("VirtualMachine", "vmi") is None


def test_the_emulator_serves_every_catalogue_kind_as_the_catalogue_declares_it() -> None:
    from tests.support.emulator.resources import RESOURCES

    served = {r.kind: r for r in RESOURCES}
    for kind in (k for k in CATALOG.kinds() if not k.part):
        resource = served[kind.name]
        assert (resource.group, resource.version, resource.plural, resource.namespaced) == (
            kind.group, kind.version, kind.plural, kind.namespaced,
        ), kind.name  # fmt: skip
        assert resource.short_names == kind.short_names, kind.name
