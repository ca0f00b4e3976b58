"""The object graph in-process: KubeVirt's filter over nested nodes, and what a caller who may not read
a DataVolume's claim learns of a DataVolume CDI garbage-collected."""

from __future__ import annotations

from typing import Any

from gateway.app import build_documents
from gateway.catalog import CATALOG, Entity, ObjectRef
from gateway.catalog.selectors import parse_selector
from gateway.config import Config
from gateway.graph.objectgraph import GraphOptions, Node, ObjectGraphBuilder
from gateway.store.snapshot import SnapshotStore
from tests.support.policies import ScopedPolicy

NS = "lab"
ROOT_DV = {"apiGroup": "cdi.kubevirt.io", "kind": "DataVolume", "name": "root", "namespace": NS}
ROOT_PVC = {"apiGroup": "", "kind": "PersistentVolumeClaim", "name": "root", "namespace": NS}
STORAGE = {"kubevirt.io/dependency-type": "storage"}


def vm() -> dict[str, Any]:
    """A VM with a DataVolume disk and a Secret for cloud-init: a nested storage subtree and a config node."""
    return {
        "apiVersion": "kubevirt.io/v1", "kind": "VirtualMachine",
        "metadata": {"name": "web", "namespace": NS, "uid": "uid-web"},
        "spec": {"template": {"spec": {"volumes": [
            {"name": "root", "dataVolume": {"name": "root"}},
            {"name": "cloudinit", "cloudInitNoCloud": {"secretRef": {"name": "userdata"}}},
        ]}}},
    }  # fmt: skip


def datavolume(phase: str) -> dict[str, Any]:
    return {
        "apiVersion": "cdi.kubevirt.io/v1beta1", "kind": "DataVolume",
        "metadata": {"name": "root", "namespace": NS, "uid": "uid-dv-root"},
        "spec": {"storage": {"storageClassName": "hostpath-csi"}},
        "status": {"phase": phase, "claimName": "root"},
    }  # fmt: skip


def pvc() -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": "root", "namespace": NS}}


def secret() -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "userdata", "namespace": NS}, "type": "Opaque"}


def children(objects: list[dict[str, Any]], selector: str = "", access: ScopedPolicy | None = None) -> list[Node]:
    store = SnapshotStore.from_objects(CATALOG, objects, "unit")
    obj = store.get(ObjectRef("VirtualMachine", NS, "web"))
    assert obj is not None
    root = Entity.root(CATALOG.kind("VirtualMachine"), obj)
    options = GraphOptions(selector=parse_selector(selector))
    [graph] = ObjectGraphBuilder(build_documents(Config()).engine).build(store, [root], options, access)
    kids: list[Node] = graph.get("children", [])
    return kids


def test_a_selector_keeps_a_matching_node_with_its_matching_children_as_kubevirt_writes_them() -> None:
    assert children([vm(), datavolume("Succeeded"), pvc(), secret()], "kubevirt.io/dependency-type=storage") == [
        {"objectReference": ROOT_DV, "labels": STORAGE,
         "children": [{"objectReference": ROOT_PVC, "labels": STORAGE}]},
    ]  # fmt: skip


def test_a_kept_node_whose_children_are_all_dropped_has_no_children() -> None:
    """A DataVolume whose claim CDI has not made yet: asked for what exists, the DataVolume alone."""
    objects = [vm(), datavolume("Pending"), secret()]
    assert [n["objectReference"]["kind"] for n in children(objects)] == ["DataVolume", "Secret"]
    assert children(objects)[0]["children"][0]["labels"]["kubevirt-gateway.io/missing"] == "true"
    assert children(objects, "!kubevirt-gateway.io/missing") == [
        {"objectReference": ROOT_DV, "labels": STORAGE},
        {"objectReference": {"apiGroup": "", "kind": "Secret", "name": "userdata", "namespace": NS},
         "labels": {"kubevirt.io/dependency-type": "config"}},
    ]  # fmt: skip


def test_a_collected_datavolume_is_its_claim_only_to_a_caller_who_may_read_the_claim() -> None:
    """CDI collected the DataVolume and its claim took its place; one who may not read claims is not told
    so (the claim would tell them): the DataVolume stays, missing, and the claim is no node."""
    objects = [vm(), pvc(), secret()]
    assert [n["objectReference"] for n in children(objects, "kubevirt.io/dependency-type=storage")] == [ROOT_PVC]
    assert children(objects, "kubevirt.io/dependency-type=storage", ScopedPolicy(NS)) == [
        {"objectReference": ROOT_PVC, "labels": STORAGE}
    ]
    hidden = children(objects, "kubevirt.io/dependency-type=storage", ScopedPolicy(NS, kinds={"PersistentVolumeClaim"}))
    assert hidden == [{"objectReference": ROOT_DV, "labels": {**STORAGE, "kubevirt-gateway.io/missing": "true"}}]
