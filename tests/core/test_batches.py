"""Batch handlers against the generic follower, on many small generated clusters (property tests)."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.catalog import CATALOG, Entity
from gateway.follow.followers import follow_one
from gateway.follow.optimized import batch_named, batch_selected
from gateway.store.snapshot import SnapshotStore

NAMESPACES = ("one", "two")
LABELS = st.dictionaries(st.sampled_from(["app", "tier"]), st.sampled_from(["web", "db"]), max_size=2)


@st.composite
def clusters(draw: Any) -> list[dict[str, Any]]:
    """VMs, their VMIs and launcher pods, Services and PVCs, across two namespaces with the same names."""
    objects: list[dict[str, Any]] = []
    for i in range(draw(st.integers(1, 5))):
        ns, name = draw(st.sampled_from(NAMESPACES)), f"vm{i % 3}"
        labels = draw(LABELS)
        claim = draw(st.sampled_from(["disk-a", "disk-b"]))
        objects.append({"apiVersion": "kubevirt.io/v1", "kind": "VirtualMachine",
                        "metadata": {"name": name, "namespace": ns, "uid": f"{ns}-{name}"},
                        "spec": {"template": {"metadata": {"labels": labels}, "spec": {
                            "volumes": [{"name": "root", "persistentVolumeClaim": {"claimName": claim}}]}}},
                        "status": {"created": True}})  # fmt: skip
        objects.append({"apiVersion": "kubevirt.io/v1", "kind": "VirtualMachineInstance",
                        "metadata": {"name": name, "namespace": ns, "uid": f"vmi-{ns}-{name}"}})  # fmt: skip
        if draw(st.booleans()):
            owner = draw(st.sampled_from(NAMESPACES))  # sometimes owned by the VMI of the same name elsewhere
            objects.append({"apiVersion": "v1", "kind": "Pod",
                            "metadata": {"name": f"virt-launcher-{name}-{i}", "namespace": ns,
                                         "labels": {"kubevirt.io": "virt-launcher"},
                                         "ownerReferences": [{"kind": "VirtualMachineInstance", "name": name,
                                                              "uid": f"vmi-{owner}-{name}"}]}})  # fmt: skip
    for j in range(draw(st.integers(0, 3))):
        objects.append({"apiVersion": "v1", "kind": "Service",
                        "metadata": {"name": f"svc{j}", "namespace": draw(st.sampled_from(NAMESPACES))},
                        "spec": {"selector": draw(LABELS)}})  # fmt: skip
    for ns in NAMESPACES:
        objects.append({"apiVersion": "v1", "kind": "PersistentVolumeClaim",
                        "metadata": {"name": "disk-a", "namespace": ns}})  # fmt: skip
    unique = {(o["kind"], o["metadata"]["namespace"], o["metadata"]["name"]): o for o in objects}
    return list(unique.values())


def resolved(targets: list[list[Any]]) -> list[list[tuple[str, Any, Any]]]:
    return [[(t.kind.name, t.obj and (t.obj["metadata"]["namespace"], t.obj["metadata"]["name"]), t.ref)
             for t in group] for group in targets]  # fmt: skip


@settings(max_examples=80, deadline=None)
@given(clusters())
def test_batches_give_the_generic_followers_answer(objects: list[dict[str, Any]]) -> None:
    store = SnapshotStore.from_objects(CATALOG, objects, "generated")
    for kind_name, rel in (("VirtualMachine", "services"), ("VirtualMachineInstance", "pod"),
                           ("VirtualMachine", "vmi"), ("Service", "vms"), ("Service", "pods")):  # fmt: skip
        kind = CATALOG.kind(kind_name)
        link = CATALOG.all_links(kind_name)[rel]
        parents = [Entity.root(kind, o) for o in objects if o["kind"] == kind_name]
        if not parents:
            continue
        batch = batch_selected if rel in ("services", "pod", "vms", "pods") else batch_named
        generic = [follow_one(store, CATALOG, link, p) for p in parents]
        assert resolved(batch(store, CATALOG, link, parents)) == resolved(generic), (kind_name, rel)
    vms = [Entity.root(CATALOG.kind("VirtualMachine"), o) for o in objects if o["kind"] == "VirtualMachine"]
    volumes = [t for vm in vms for t in follow_one(store, CATALOG, CATALOG.all_links("VirtualMachine")["volumes"], vm)]
    assert volumes  # every generated VM has a volume part
