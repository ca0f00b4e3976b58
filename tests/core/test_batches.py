"""Batch handlers against the generic follower, on many small generated clusters (property tests)."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.catalog import CATALOG, Entity, ObjectRef, Query
from gateway.follow.followers import follow_one
from gateway.follow.optimized import batch_named, batch_referrers, batch_selected
from gateway.store.snapshot import SnapshotStore

NAMESPACES = ("one", "two")
NETWORK_NAMES = ("vlan", "one/vlan", "two/vlan")
LABELS = st.dictionaries(st.sampled_from(["app", "tier"]), st.sampled_from(["web", "db"]), max_size=2)


@st.composite
def clusters(draw: Any) -> list[dict[str, Any]]:
    """VMs, their VMIs and launcher pods, Services and PVCs, across two namespaces with the same names."""
    objects: list[dict[str, Any]] = []
    for i in range(draw(st.integers(1, 5))):
        ns, name = draw(st.sampled_from(NAMESPACES)), f"vm{i % 3}"
        labels = draw(LABELS)
        claims = draw(st.lists(st.sampled_from(["disk-a", "disk-b"]), min_size=1, max_size=2))  # maybe one twice
        volumes = [{"name": f"v{n}", "persistentVolumeClaim": {"claimName": c}} for n, c in enumerate(claims)]
        # a multus network in its own namespace or, as `ns/name`, in either
        networks = [{"name": "net", "multus": {"networkName": draw(st.sampled_from(NETWORK_NAMES))}}]
        objects.append({"apiVersion": "kubevirt.io/v1", "kind": "VirtualMachine",
                        "metadata": {"name": name, "namespace": ns, "uid": f"{ns}-{name}"},
                        "spec": {"template": {"metadata": {"labels": labels}, "spec": {
                            "volumes": volumes, "networks": networks}}},
                        "status": {"created": True}})  # fmt: skip
        objects.append({"apiVersion": "kubevirt.io/v1", "kind": "VirtualMachineInstance",
                        "metadata": {"name": name, "namespace": ns, "uid": f"vmi-{ns}-{name}"},
                        "spec": {"volumes": volumes}})  # fmt: skip
        if draw(st.booleans()):
            owner = draw(st.sampled_from(NAMESPACES))  # sometimes owned by the VMI of the same name elsewhere
            objects.append({"apiVersion": "v1", "kind": "Pod",
                            "metadata": {"name": f"virt-launcher-{name}-{i}", "namespace": ns,
                                         "labels": {"kubevirt.io": "virt-launcher"},
                                         "ownerReferences": [{"kind": "VirtualMachineInstance", "name": name,
                                                              "uid": f"vmi-{owner}-{name}"}]},
                            "spec": {"volumes": volumes}})  # fmt: skip
    for j in range(draw(st.integers(0, 3))):
        objects.append({"apiVersion": "v1", "kind": "Service",
                        "metadata": {"name": f"svc{j}", "namespace": draw(st.sampled_from(NAMESPACES))},
                        "spec": {"selector": draw(LABELS)}})  # fmt: skip
    for ns in NAMESPACES:
        objects.append({"apiVersion": "v1", "kind": "PersistentVolumeClaim",
                        "metadata": {"name": "disk-a", "namespace": ns}})  # fmt: skip
        objects.append({"apiVersion": "k8s.cni.cncf.io/v1", "kind": "NetworkAttachmentDefinition",
                        "metadata": {"name": "vlan", "namespace": ns}})  # fmt: skip
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


REVERSE_LINKS = (("PersistentVolumeClaim", "vms"), ("PersistentVolumeClaim", "vmis"),
                 ("PersistentVolumeClaim", "pods"), ("NetworkAttachmentDefinition", "vms"))  # fmt: skip


@settings(max_examples=80, deadline=None)
@given(clusters())
def test_reverse_links_in_a_batch_give_the_generic_followers_answer(objects: list[dict[str, Any]]) -> None:
    store = SnapshotStore.from_objects(CATALOG, objects, "generated")
    for kind_name, rel in REVERSE_LINKS:
        kind, link = CATALOG.kind(kind_name), CATALOG.all_links(kind_name)[rel]
        parents = [Entity.root(kind, o) for o in objects if o["kind"] == kind_name]
        generic = [follow_one(store, CATALOG, link, p) for p in parents]
        assert resolved(batch_referrers(store, CATALOG, link, parents)) == resolved(generic), (kind_name, rel)


@settings(max_examples=80, deadline=None)
@given(clusters())
def test_referrers_joined_from_one_listing_are_the_reverse_index(objects: list[dict[str, Any]]) -> None:
    """What direct mode computes from one list per (kind, namespace) is what the index answers."""
    store = SnapshotStore.from_objects(CATALOG, objects, "generated")
    targets = [ObjectRef(o["kind"], o["metadata"]["namespace"], o["metadata"]["name"]) for o in objects]
    for source in ("VirtualMachine", "VirtualMachineInstance", "Pod"):
        kind = CATALOG.kind(source)
        for target in targets:
            where = CATALOG.referrer_scope(source, target)
            listed = store.select(Query(source, where))  # all of `where`, in the order a list gives them
            (joined,) = CATALOG.referrers_among(kind, listed, [target]).values()
            assert joined == store.referrers(target, source), (source, target)
            assert store.referrers_many(source, where, [target]) == {target: joined}
