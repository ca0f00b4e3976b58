"""Which remembered answers a change concerns (unit tests): objects read or found, searches that would
find a new object, reverse links that a new reference joins; nothing else."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from gateway.app import build_documents
from gateway.catalog import CATALOG, Join, ObjectRef, Query
from gateway.catalog.selectors import LabelSelector
from gateway.changes.dependents import MATCHERS_BEFORE_GIVING_WAY, Dependents
from gateway.changes.reads import ReadRecorder
from gateway.config import Config
from gateway.store.feed import Change
from gateway.store.snapshot import SnapshotStore, demo_objects

DEMO = [obj for _, obj in demo_objects(CATALOG)]


def demo(kind: str, name: str) -> dict[str, Any]:
    return copy.deepcopy(next(o for o in DEMO if o["kind"] == kind and o["metadata"]["name"] == name))


def page_reads(path_follow: str, vm: str = "fedora") -> ReadRecorder:
    """What building fedora's page with `follow` read, through the optimized batch handlers."""
    documents = build_documents(Config())
    reads = ReadRecorder(SnapshotStore.from_objects(CATALOG, DEMO, "demo"))
    kind = documents.kind("vms", namespaced=True)
    documents.object(reads, kind, "demo", vm, path_follow)
    return reads


def test_a_status_change_of_another_vms_vmi_or_pod_concerns_no_page() -> None:
    dependents: Dependents[str] = Dependents(CATALOG)
    dependents.depend("fedora page", page_reads("vmi.pod,volumes.pvc,instancetype.revision"))
    for kind, name in (("VirtualMachineInstance", "rhel9"), ("Pod", "virt-launcher-rhel9-7dxqn")):
        other = next((o for o in DEMO if o["kind"] == kind and o["metadata"]["name"].startswith(name[:20])), None)
        assert other is not None, name
        changed = copy.deepcopy(other)
        changed.setdefault("status", {})["phase"] = "Failed"
        assert dependents.affected(Change(kind, other, changed)) == set(), name


def test_a_change_to_an_object_the_page_read_or_found_concerns_it() -> None:
    dependents: Dependents[str] = Dependents(CATALOG)
    dependents.depend("fedora page", page_reads("vmi.pod"))
    vmi = demo("VirtualMachineInstance", "fedora")
    pods = [o for o in DEMO if o["kind"] == "Pod" and o["metadata"]["name"].startswith("virt-launcher-fedora")]
    assert dependents.affected(Change("VirtualMachineInstance", vmi, {**vmi, "status": {}})) == {"fedora page"}
    assert dependents.affected(Change("Pod", pods[0], None)) == {"fedora page"}  # deleted


def test_a_new_object_a_search_would_find_concerns_the_page() -> None:
    dependents: Dependents[str] = Dependents(CATALOG)
    reads = ReadRecorder(SnapshotStore.from_objects(CATALOG, DEMO, "demo"))
    reads.select(Query("IPAMClaim", "demo", LabelSelector.from_labels({"vm.kubevirt.io/name": "win11"})))
    dependents.depend("win11 claims", reads)
    claim = {"apiVersion": "k8s.cni.cncf.io/v1alpha1", "kind": "IPAMClaim",
             "metadata": {"name": "win11.vlan10", "namespace": "demo", "labels": {"vm.kubevirt.io/name": "win11"}},
             "spec": {"network": "vlan10-net", "interface": "pod0a1b2c3d4e5"}}  # fmt: skip
    assert dependents.affected(Change("IPAMClaim", None, claim)) == {"win11 claims"}
    elsewhere = copy.deepcopy(claim)
    elsewhere["metadata"]["namespace"] = "lab"
    assert dependents.affected(Change("IPAMClaim", None, elsewhere)) == set()  # the same labels, another namespace
    other_vm = copy.deepcopy(claim)
    other_vm["metadata"]["labels"] = {"vm.kubevirt.io/name": "cirros"}
    assert dependents.affected(Change("IPAMClaim", None, other_vm)) == set()


def test_an_object_that_comes_to_refer_to_a_target_concerns_its_reverse_link() -> None:
    dependents: Dependents[str] = Dependents(CATALOG)
    reads = ReadRecorder(SnapshotStore.from_objects(CATALOG, DEMO, "demo"))
    target = ObjectRef("PersistentVolumeClaim", "demo", "fedora-root")
    reads.referrers(target, "VirtualMachine")
    dependents.depend("fedora-root's vms", reads)
    newcomer = demo("VirtualMachine", "cirros")
    assert dependents.affected(Change("VirtualMachine", None, newcomer)) == set()  # cirros mounts its own disk
    newcomer["spec"]["template"]["spec"]["volumes"].append(
        {"name": "shared", "persistentVolumeClaim": {"claimName": "fedora-root"}})  # fmt: skip
    assert dependents.affected(Change("VirtualMachine", None, newcomer)) == {"fedora-root's vms"}
    dependents.forget("fedora-root's vms")
    assert dependents.affected(Change("VirtualMachine", None, newcomer)) == set() and len(dependents) == 0


def by_key(key: str) -> list[str]:
    return [key] if key else []


OWNER = Join(parent=lambda e: [e.name], candidate=lambda o: by_key(o["metadata"]["labels"]["owner"]))


def test_a_new_object_is_matched_only_against_the_searches_that_share_one_of_its_join_keys() -> None:
    """A thousand remembered searches with join keys: a new pod runs the matchers of its key only."""
    dependents: Dependents[int] = Dependents(CATALOG)
    ran: list[int] = []

    def owned_by(i: int) -> Callable[[dict[str, Any]], bool]:
        return lambda pod: ran.append(i) is None and pod["metadata"]["labels"]["owner"] == f"vmi-{i}"

    for i in range(1000):
        reads = ReadRecorder(SnapshotStore.from_objects(CATALOG, [], "unit"))
        reads.select(Query("Pod", "bench", where=owned_by(i), joined=(OWNER, frozenset({f"vmi-{i}"}))))
        dependents.depend(i, reads)
    pod = {"metadata": {"name": "virt-launcher-7", "namespace": "bench", "labels": {"owner": "vmi-7"}}}
    assert dependents.affected(Change("Pod", None, pod)) == {7}
    assert ran == [7]
    ran.clear()
    elsewhere = copy.deepcopy(pod)
    elsewhere["metadata"]["namespace"] = "other"
    assert dependents.affected(Change("Pod", None, elsewhere)) == set() and ran == []
    ran.clear()
    unowned = {"metadata": {"name": "x", "namespace": "bench", "labels": {"owner": ""}}}
    assert dependents.affected(Change("Pod", None, unowned)) == set() and ran == []  # no key: no search can find it
    dependents.forget(7)
    assert dependents.affected(Change("Pod", None, pod)) == set() and ran == []


def test_an_object_whose_join_keys_cannot_be_read_is_asked_of_every_search_of_the_join() -> None:
    dependents: Dependents[int] = Dependents(CATALOG)
    for i in range(3):
        reads = ReadRecorder(SnapshotStore.from_objects(CATALOG, [], "unit"))
        reads.select(Query("Pod", "bench", where=lambda pod: "labels" not in pod["metadata"],
                           joined=(OWNER, frozenset({f"vmi-{i}"}))))  # fmt: skip
        dependents.depend(i, reads)
    malformed = {"metadata": {"name": "x", "namespace": "bench"}}  # no labels: OWNER's candidate raises
    assert dependents.affected(Change("Pod", None, malformed)) == {0, 1, 2}


def selected(i: int, ran: list[int]) -> ReadRecorder:
    """What a page searching the VMs labelled `app=shop-<i>` read (its matcher counts its runs)."""
    reads = ReadRecorder(SnapshotStore.from_objects(CATALOG, [], "unit"))
    shop = LabelSelector.from_labels({"app": f"shop-{i}"})
    reads.select(Query("VirtualMachine", "bench", shop, where=lambda vm: ran.append(i) is None))
    return reads


def vm(labels: dict[str, str], namespace: str = "bench") -> dict[str, Any]:
    return {"metadata": {"name": "web", "namespace": namespace, "labels": labels}}


def test_a_change_runs_only_the_searches_that_require_one_of_its_labels() -> None:
    """Two thousand remembered searches by label in one namespace: a change runs the matchers of the
    searches that require one of the labels its object has, before or after, and no others."""
    dependents: Dependents[int] = Dependents(CATALOG)
    ran: list[int] = []
    for i in range(2000):
        assert dependents.depend(i, selected(i, ran)) == 1  # filed once, under the label it requires
    assert dependents.entries() == 2000
    assert dependents.affected(Change("VirtualMachine", None, vm({"app": "shop-7", "tier": "x"}))) == {7}
    assert ran == [7]
    ran.clear()
    relabelled = Change("VirtualMachine", vm({"app": "shop-7"}), vm({"app": "shop-9"}))
    assert dependents.affected(relabelled) == {7, 9}  # it left one search's answer and joined another's
    assert sorted(ran) == [7, 9]
    ran.clear()
    assert dependents.affected(Change("VirtualMachine", None, vm({"app": "shop-7"}, "other"))) == set()
    assert dependents.affected(Change("VirtualMachine", vm({"tier": "x"}), None)) == set() and ran == []


def test_an_object_that_stops_matching_a_search_concerns_it() -> None:
    """A search is not filed under what it found: the object as it was before a change is matched too."""
    dependents: Dependents[str] = Dependents(CATALOG)
    reads = ReadRecorder(SnapshotStore.from_objects(CATALOG, DEMO, "demo"))
    found = reads.select(Query("VirtualMachine", "demo"))
    assert found and dependents.depend("demo vms", reads) == 1
    gone = Change("VirtualMachine", found[0], None)
    moved = Change("VirtualMachine", found[0], {**found[0], "metadata": {**found[0]["metadata"], "namespace": "x"}})
    assert dependents.affected(gone) == {"demo vms"} and dependents.affected(moved) == {"demo vms"}
    assert dependents.affected(Change("VirtualMachine", None, {"metadata": {"name": "a", "namespace": "x"}})) == set()


def test_a_holder_filed_again_replaces_what_it_was_filed_under() -> None:
    dependents: Dependents[int] = Dependents(CATALOG)
    ran: list[int] = []
    dependents.depend(1, selected(1, ran))
    dependents.depend(1, selected(2, ran))  # the same holder, built again from other reads
    assert dependents.entries() == 1 and len(dependents) == 1
    assert dependents.affected(Change("VirtualMachine", None, vm({"app": "shop-1"}))) == set()
    assert dependents.affected(Change("VirtualMachine", None, vm({"app": "shop-2"}))) == {1}
    dependents.forget(1)
    assert dependents.entries() == 0


def every_kind_of_read(i: int) -> ReadRecorder:
    """One holder's reads of every kind the index files: by name, a search by scope, by label,
    joined, and a reverse-link search."""
    reads = ReadRecorder(SnapshotStore.from_objects(CATALOG, [], "unit"))
    reads.get(ObjectRef("ConfigMap", "bench", f"config-{i}"))
    reads.select(Query("Service", "bench"))
    reads.select(Query("VirtualMachine", "bench", LabelSelector.from_labels({"app": f"shop-{i}"})))
    reads.select(Query("Pod", "bench", joined=(OWNER, frozenset({f"vmi-{i}"}))))
    reads.referrers(ObjectRef("PersistentVolumeClaim", "bench", f"disk-{i}"), "VirtualMachine")
    return reads


def pod_of(i: int) -> dict[str, Any]:
    return {"metadata": {"name": f"virt-launcher-{i}", "namespace": "bench", "labels": {"owner": f"vmi-{i}"}}}


def vm_using(claim: str) -> dict[str, Any]:
    return {"apiVersion": "kubevirt.io/v1", "kind": "VirtualMachine", "metadata": {"name": "x", "namespace": "bench"},
            "spec": {"template": {"spec": {"volumes": [
                {"name": "d", "persistentVolumeClaim": {"claimName": claim}}]}}}}  # fmt: skip


def test_forgetting_every_holder_leaves_nothing_filed() -> None:
    dependents: Dependents[int] = Dependents(CATALOG)
    for i in range(3):
        assert dependents.depend(i, every_kind_of_read(i)) == 5
    dependents.forget(0)  # one of three: the others are still found through what they share and what they do not
    assert dependents.affected(Change("Pod", None, pod_of(2))) == {2}
    assert dependents.affected(Change("VirtualMachine", None, vm_using("disk-1"))) == {1}
    assert (
        dependents.affected(Change("ConfigMap", {"metadata": {"name": "config-0", "namespace": "bench"}}, None))
        == set()
    )
    for i in (1, 2):
        dependents.forget(i)
    dependents.forget(2)  # forgetting twice is nothing
    assert dependents.leftovers() == 0 and dependents.entries() == 0 and len(dependents) == 0


def test_a_holder_of_a_join_key_is_found_after_another_of_the_same_join_is_forgotten() -> None:
    dependents: Dependents[int] = Dependents(CATALOG)
    for i in (1, 2):
        reads = ReadRecorder(SnapshotStore.from_objects(CATALOG, [], "unit"))
        reads.select(Query("Pod", "bench", joined=(OWNER, frozenset({f"vmi-{i}"}))))
        reads.referrers(ObjectRef("PersistentVolumeClaim", "bench", f"disk-{i}"), "VirtualMachine")
        dependents.depend(i, reads)
    dependents.forget(1)
    assert dependents.affected(Change("Pod", None, pod_of(2))) == {2}
    assert dependents.affected(Change("VirtualMachine", None, vm_using("disk-2"))) == {2}
    dependents.forget(2)
    assert dependents.leftovers() == 0
    assert dependents.affected(Change("VirtualMachine", None, vm_using("disk-2"))) == set()


def test_a_change_that_concerns_many_holders_gives_way_every_so_many_matchers() -> None:
    paused: list[int] = []
    dependents: Dependents[int] = Dependents(CATALOG, pause=lambda: paused.append(1))
    for i in range(1024):  # each in the namespace's scope: every change to a Service runs all their matchers
        reads = ReadRecorder(SnapshotStore.from_objects(CATALOG, [], "unit"))
        reads.select(Query("Service", "bench", where=lambda svc: False))
        dependents.depend(i, reads)
    service = {"metadata": {"name": "front", "namespace": "bench"}}
    assert dependents.affected(Change("Service", None, service)) == set()
    assert len(paused) == 1024 // MATCHERS_BEFORE_GIVING_WAY
    paused.clear()
    assert dependents.affected(Change("Service", service, service)) == set()  # two objects: twice the matchers
    assert len(paused) == 2 * 1024 // MATCHERS_BEFORE_GIVING_WAY


def test_holders_of_the_same_join_key_and_reverse_link_are_found_after_one_of_them_is_forgotten() -> None:
    dependents: Dependents[str] = Dependents(CATALOG)
    for holder in ("page", "stream"):  # two answers from the same reads: a page and a live stream of it
        reads = ReadRecorder(SnapshotStore.from_objects(CATALOG, [], "unit"))
        reads.select(Query("Pod", "bench", joined=(OWNER, frozenset({"vmi-1"}))))
        reads.referrers(ObjectRef("PersistentVolumeClaim", "bench", "disk-1"), "VirtualMachine")
        dependents.depend(holder, reads)
    dependents.forget("page")
    assert dependents.affected(Change("Pod", None, pod_of(1))) == {"stream"}
    assert dependents.affected(Change("VirtualMachine", None, vm_using("disk-1"))) == {"stream"}
    assert dependents.leftovers() > 0
    dependents.forget("stream")
    assert dependents.leftovers() == 0


def test_a_batch_search_concerns_the_holder_through_each_of_its_members() -> None:
    dependents: Dependents[str] = Dependents(CATALOG)
    reads = ReadRecorder(SnapshotStore.from_objects(CATALOG, [], "unit"))
    members = tuple(Query("Pod", "bench", joined=(OWNER, frozenset({f"vmi-{i}"}))) for i in (1, 2))
    reads.select(Query("Pod", "bench", members=members))  # one read for the launcher pods of two VMIs
    dependents.depend("graph", reads)
    assert dependents.affected(Change("Pod", None, pod_of(1))) == {"graph"}
    assert dependents.affected(Change("Pod", None, pod_of(2))) == {"graph"}
    assert dependents.affected(Change("Pod", None, pod_of(3))) == set()


def test_a_holder_found_by_the_object_it_read_leaves_the_others_searches_to_be_asked() -> None:
    dependents: Dependents[str] = Dependents(CATALOG)
    services = Query("Service", "bench")
    first = ReadRecorder(SnapshotStore.from_objects(CATALOG, [], "unit"))
    first.get(ObjectRef("Service", "bench", "front"))  # read by name, and searched
    first.select(services)
    dependents.depend("first", first)
    second = ReadRecorder(SnapshotStore.from_objects(CATALOG, [], "unit"))
    second.select(services)
    dependents.depend("second", second)
    front = {"metadata": {"name": "front", "namespace": "bench"}}
    assert dependents.affected(Change("Service", front, None)) == {"first", "second"}
