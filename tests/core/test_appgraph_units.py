"""The application graph in-process: each workload's provisioning state from its status and its
dependencies, shared dependencies as resources of their own, and Services' connections."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from gateway.app import build_documents
from gateway.catalog import CATALOG, Entity, ObjectRef
from gateway.catalog.selectors import LabelSelector, parse_selector
from gateway.changes.pieces import PieceMemory
from gateway.changes.reads import ReadRecorder
from gateway.config import Config
from gateway.errors import Forbidden, NotFound
from gateway.follow.policy import Policy
from gateway.graph.appgraph import ApplicationGraphBuilder, Piece, to_dot
from gateway.store import Store
from gateway.store.feed import Change, ChangeFeed
from gateway.store.snapshot import SnapshotStore
from tests.support.policies import ScopedPolicy
from tests.support.synthetic import synthetic_cluster

NS = "lab"


def vm(name: str, claim: str, printable: str | None = None, labels: dict[str, str] | None = None) -> dict[str, Any]:
    obj: dict[str, Any] = {
        "apiVersion": "kubevirt.io/v1", "kind": "VirtualMachine",
        "metadata": {"name": name, "namespace": NS, "uid": f"uid-{name}"},
        "spec": {"template": {"metadata": {"labels": labels or {}}, "spec": {
            "volumes": [{"name": "root", "persistentVolumeClaim": {"claimName": claim}}]}}},
    }  # fmt: skip
    if printable is not None:
        obj["status"] = {"printableStatus": printable}
    return obj


def vmi(name: str, phase: str | None) -> dict[str, Any]:
    obj: dict[str, Any] = {"apiVersion": "kubevirt.io/v1", "kind": "VirtualMachineInstance",
                           "metadata": {"name": name, "namespace": NS, "uid": f"uid-vmi-{name}"}}  # fmt: skip
    if phase is not None:
        obj["status"] = {"phase": phase}
    return obj


def pvc(name: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": name, "namespace": NS}}


def graph(objects: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    store = SnapshotStore.from_objects(CATALOG, objects, "unit")
    built = ApplicationGraphBuilder(build_documents(Config()).engine).build(store, NS, LabelSelector())
    return {r["id"]: r for r in built["resources"]}


@pytest.mark.parametrize(
    ("printable", "state"),
    [("Running", "Succeeded"), ("Stopped", "Succeeded"), ("Starting", "Provisioning"), ("Migrating", "Updating"),
     ("Terminating", "Deleting"), ("CrashLoopBackOff", "Failed"), (None, "Succeeded")],
)  # fmt: skip
def test_a_vms_state_comes_from_its_printable_status(printable: str | None, state: str) -> None:
    resources = graph([vm("web", "disk", printable), pvc("disk")])
    assert resources[f"/namespaces/{NS}/vms/web"]["provisioningState"] == state


def test_a_vm_whose_dependency_is_missing_has_failed_and_so_has_the_dependency() -> None:
    resources = graph([vm("web", "gone", "Running")])
    web = resources[f"/namespaces/{NS}/vms/web"]
    assert web["provisioningState"] == "Failed"
    assert web["resources"] == [{"id": f"/namespaces/{NS}/pvcs/gone", "type": "core/PersistentVolumeClaim",
                                 "name": "gone", "provisioningState": "Failed"}]  # fmt: skip


@pytest.mark.parametrize(
    ("phase", "state"),
    [("Scheduling", "Provisioning"), ("Running", "Succeeded"), ("Failed", "Failed"), ("Unknown", "Failed"),
     ("Exploded", "Failed"), (None, "Provisioning")],
)  # fmt: skip
def test_a_standalone_vmis_state_comes_from_its_phase(phase: str | None, state: str) -> None:
    resources = graph([vmi("solo", phase)])
    solo = resources[f"/namespaces/{NS}/vmis/solo"]
    assert (solo["type"], solo["name"], solo["provisioningState"]) == ("kubevirt.io/VirtualMachineInstance", "solo",
                                                                       state)  # fmt: skip


def test_a_pvc_two_vms_use_is_a_resource_of_its_own_connected_to_both() -> None:
    resources = graph([vm("a", "shared"), vm("b", "shared"), vm("c", "own"), pvc("shared"), pvc("own")])
    shared = resources[f"/namespaces/{NS}/pvcs/shared"]
    a, b = f"/namespaces/{NS}/vms/a", f"/namespaces/{NS}/vms/b"
    assert shared["connections"] == [{"id": a, "direction": "Inbound"}, {"id": b, "direction": "Inbound"}]
    assert shared["type"] == "core/PersistentVolumeClaim" and shared["provisioningState"] == "Succeeded"
    assert {"id": shared["id"], "direction": "Outbound"} in resources[a]["connections"]
    assert f"/namespaces/{NS}/pvcs/own" not in resources  # used by one VM: only among its outputs
    assert sorted(resources) == sorted([a, b, f"/namespaces/{NS}/vms/c", shared["id"]])


def test_a_service_selecting_a_vm_is_connected_to_it_both_ways() -> None:
    service = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "front", "namespace": NS},
               "spec": {"selector": {"app": "web"}}}  # fmt: skip
    resources = graph([vm("web", "disk", labels={"app": "web"}), vm("db", "disk2"), pvc("disk"), pvc("disk2"), service])
    front, web = f"/namespaces/{NS}/services/front", f"/namespaces/{NS}/vms/web"
    assert resources[front]["connections"] == [{"id": web, "direction": "Outbound"}]
    assert (resources[front]["type"], resources[front]["name"]) == ("core/Service", "front")
    assert resources[web]["connections"] == [{"id": front, "direction": "Inbound"}]
    assert resources[f"/namespaces/{NS}/vms/db"]["connections"] == []


def Restricted(kinds: set[str] | None = None, names: set[tuple[str, str]] | None = None) -> ScopedPolicy:
    """A caller who may read namespace `lab` only, and there neither the kinds listed nor the named objects."""
    return ScopedPolicy(NS, kinds or (), names or ())


def guarded(objects: list[dict[str, Any]], policy: ScopedPolicy, selector: str = "") -> dict[str, dict[str, Any]]:
    store = SnapshotStore.from_objects(CATALOG, objects, "unit")
    builder = ApplicationGraphBuilder(build_documents(Config()).engine)
    built = builder.build(store, NS, parse_selector(selector), policy)
    return {r["id"]: r for r in built["resources"]}


def test_a_caller_who_may_not_list_vms_there_is_refused_with_the_reason() -> None:
    with pytest.raises(Forbidden) as caught:
        guarded([vm("web", "disk")], Restricted(kinds={"VirtualMachine"}))
    assert str(caught.value) == f"virtualmachines is forbidden: you may not list them in namespace {NS!r}"


def test_standalone_vmis_a_caller_may_not_list_are_left_out() -> None:
    objects = [vm("web", "disk"), pvc("disk"), vmi("solo", "Running")]
    assert sorted(guarded(objects, Restricted())) == [f"/namespaces/{NS}/vmis/solo", f"/namespaces/{NS}/vms/web"]
    assert sorted(guarded(objects, Restricted(kinds={"VirtualMachineInstance"}))) == [f"/namespaces/{NS}/vms/web"]


def test_a_dependency_the_caller_may_not_see_is_no_output_of_its_vm() -> None:
    objects = [vm("web", "disk"), pvc("disk")]
    web = f"/namespaces/{NS}/vms/web"
    assert [o["name"] for o in guarded(objects, Restricted())[web]["resources"]] == ["disk"]
    assert guarded(objects, Restricted(names={("PersistentVolumeClaim", "disk")}))[web]["resources"] == []


def test_a_service_the_caller_may_not_get_is_left_out_and_the_next_one_kept() -> None:
    services = [{"apiVersion": "v1", "kind": "Service", "metadata": {"name": name, "namespace": NS},
                 "spec": {"selector": {"app": "web"}}} for name in ("alpha", "beta")]  # fmt: skip
    resources = guarded([vm("web", "disk", labels={"app": "web"}), pvc("disk"), *services],
                        Restricted(names={("Service", "alpha")}))  # fmt: skip
    web = f"/namespaces/{NS}/vms/web"
    assert resources[web]["connections"] == [{"id": f"/namespaces/{NS}/services/beta", "direction": "Inbound"}]
    assert f"/namespaces/{NS}/services/alpha" not in resources


def test_services_found_by_selector_need_list_on_services_not_only_get() -> None:
    """A Service in the graph was found by a search: a caller who may get Services but not list
    them may not learn which select the VM (as a follow of `services` would not tell them)."""
    service = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "front", "namespace": NS},
               "spec": {"selector": {"app": "web"}}}  # fmt: skip
    objects = [vm("web", "disk", labels={"app": "web"}), pvc("disk"), service]
    assert f"/namespaces/{NS}/services/front" in guarded(objects, Restricted())
    resources = guarded(objects, ScopedPolicy(NS, unlisted={"Service"}))
    assert f"/namespaces/{NS}/services/front" not in resources
    assert resources[f"/namespaces/{NS}/vms/web"]["connections"] == []


def test_two_services_selecting_two_vms_are_two_resources_each_connected_to_both() -> None:
    services = [{"apiVersion": "v1", "kind": "Service", "metadata": {"name": name, "namespace": NS},
                 "spec": {"selector": {"tier": "web"}}} for name in ("front", "metrics")]  # fmt: skip
    resources = graph([vm("a", "disk-a", labels={"tier": "web"}), vm("b", "disk-b", labels={"tier": "web"}),
                       pvc("disk-a"), pvc("disk-b"), *services])  # fmt: skip
    a, b = f"/namespaces/{NS}/vms/a", f"/namespaces/{NS}/vms/b"
    for name in ("front", "metrics"):
        service = resources[f"/namespaces/{NS}/services/{name}"]
        assert (service["id"], service["name"]) == (f"/namespaces/{NS}/services/{name}", name)
        assert service["connections"] == [{"id": a, "direction": "Outbound"}, {"id": b, "direction": "Outbound"}]
    assert resources[a]["connections"] == [{"id": f"/namespaces/{NS}/services/{name}", "direction": "Inbound"}
                                           for name in ("front", "metrics")]  # fmt: skip


def test_a_standalone_vmi_selected_by_a_service_is_connected_to_it() -> None:
    service = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "front", "namespace": NS},
               "spec": {"selector": {"app": "solo"}}}  # fmt: skip
    solo = vmi("solo", "Running")
    solo["metadata"]["labels"] = {"app": "solo"}
    resources = graph([solo, service])
    assert resources[f"/namespaces/{NS}/vmis/solo"]["connections"] == [
        {"id": f"/namespaces/{NS}/services/front", "direction": "Inbound"}
    ]


@pytest.mark.parametrize(("selector", "scope"), [("", ""), ("app=none", " matching app=none")])
def test_an_empty_namespace_is_not_found_and_says_what_was_looked_for(selector: str, scope: str) -> None:
    with pytest.raises(NotFound) as caught:
        guarded([vm("web", "disk", labels={"app": "web"})] if selector else [], Restricted(), selector)
    assert str(caught.value) == (f"no VirtualMachines or VirtualMachineInstances in namespace {NS!r}{scope}: "
                                 "the application graph is empty")  # fmt: skip


class DictMemo:
    """The simplest memo: pieces kept by object until told to forget one, and each build counted."""

    def __init__(self) -> None:
        self.pieces: dict[str, Piece] = {}
        self.built: list[str] = []

    def __call__(self, of: Entity, store: Store, access: Policy | None, build: Callable[[Store], Piece]) -> Piece:
        if of.href not in self.pieces:
            self.built.append(of.href)
            self.pieces[of.href] = build(store)
        return self.pieces[of.href]


MIXED = [vm("a", "shared", "Running", {"app": "web"}), vm("b", "shared", "Migrating"), vm("c", "gone"), pvc("shared"),
         vmi("solo", "Running"), vmi("a", "Running"),
         {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "front", "namespace": NS},
          "spec": {"selector": {"app": "web"}}}]  # fmt: skip


@pytest.mark.parametrize("objects", [MIXED, synthetic_cluster(12, NS)], ids=["mixed", "synthetic"])
def test_a_graph_assembled_from_kept_pieces_is_the_graph_built_at_once(objects: list[dict[str, Any]]) -> None:
    store = SnapshotStore.from_objects(CATALOG, objects, "unit")
    engine = build_documents(Config()).engine
    at_once = ApplicationGraphBuilder(engine).build(store, NS, LabelSelector())
    memo = DictMemo()
    in_pieces = ApplicationGraphBuilder(engine, memo)
    assert in_pieces.build(store, NS, LabelSelector()) == at_once
    workloads = sorted(memo.built)
    assert len(workloads) == len({r["id"] for r in at_once["resources"] if r["type"].startswith("kubevirt.io/")})
    memo.built.clear()
    assert in_pieces.build(store, NS, LabelSelector()) == at_once and memo.built == []  # all recalled
    del memo.pieces[workloads[0]]
    assert in_pieces.build(store, NS, LabelSelector()) == at_once and memo.built == [workloads[0]]


def test_pieces_are_built_with_the_callers_access() -> None:
    store = SnapshotStore.from_objects(CATALOG, MIXED, "unit")
    engine = build_documents(Config()).engine
    policy = Restricted(kinds={"PersistentVolumeClaim"})
    at_once = ApplicationGraphBuilder(engine).build(store, NS, LabelSelector(), policy)
    assert at_once != ApplicationGraphBuilder(engine).build(store, NS, LabelSelector())  # the policy hides some
    assert ApplicationGraphBuilder(engine, DictMemo()).build(store, NS, LabelSelector(), policy) == at_once


def test_piece_memory_rebuilds_only_the_piece_a_change_concerns() -> None:
    """The kept pieces over a store's change feed: a graph recalls every piece, and a change to one
    VM's disk rebuilds that VM's piece alone, reading for it through the request's recorder."""
    store = SnapshotStore.from_objects(CATALOG, MIXED, "unit")
    engine = build_documents(Config()).engine
    feed = ChangeFeed()
    pieces = PieceMemory(store, feed, CATALOG, 1024 * 1024)
    builder = ApplicationGraphBuilder(engine, pieces)
    first = ReadRecorder(store, feed)
    at_once = ApplicationGraphBuilder(engine).build(store, NS, LabelSelector())
    workloads = len([r for r in at_once["resources"] if r["type"].startswith("kubevirt.io/")])
    assert builder.build(first, NS, LabelSelector()) == at_once and len(pieces) == workloads
    recalled = ReadRecorder(store, feed)
    assert builder.build(recalled, NS, LabelSelector()) == at_once
    assert recalled.reads == 2  # the VMs and the VMIs of the namespace: every piece recalled
    assert recalled.objects >= first.objects  # a recalled piece's reads are the request's too
    gone = store.get(ObjectRef("PersistentVolumeClaim", NS, "gone"))
    feed.publish(Change("PersistentVolumeClaim", None, {"metadata": {"name": "gone", "namespace": NS}}))
    assert gone is None and len(pieces) == workloads - 1  # c's piece read the claim it names: dropped
    again = ReadRecorder(store, feed)
    builder.build(again, NS, LabelSelector())
    assert 2 < again.reads < first.reads and len(pieces) == workloads


def test_piece_memory_keeps_nothing_for_a_policy_it_cannot_record() -> None:
    store = SnapshotStore.from_objects(CATALOG, MIXED, "unit")
    engine = build_documents(Config()).engine
    feed = ChangeFeed()
    pieces = PieceMemory(store, feed, CATALOG, 1024 * 1024)
    builder = ApplicationGraphBuilder(engine, pieces)
    policy = Restricted(kinds={"PersistentVolumeClaim"})
    assert builder.build(ReadRecorder(store, feed), NS, LabelSelector(), policy) == ApplicationGraphBuilder(
        engine
    ).build(store, NS, LabelSelector(), policy)
    assert len(pieces) == 0  # a test policy records no decisions: nothing could be recalled safely
    builder.build(store, NS, LabelSelector())  # a store that records no reads: nothing kept either
    assert len(pieces) == 0


def test_a_standalone_vmi_outside_the_label_selector_is_no_workload() -> None:
    labelled = vmi("tagged", "Running")
    labelled["metadata"]["labels"] = {"app": "web"}
    objects = [vm("web", "disk", labels={"app": "web"}), pvc("disk"), labelled, vmi("other", "Running")]
    objects[0]["metadata"]["labels"] = {"app": "web"}
    assert sorted(guarded(objects, Restricted(), "app=web")) == [f"/namespaces/{NS}/vmis/tagged",
                                                                f"/namespaces/{NS}/vms/web"]  # fmt: skip


def test_an_output_resource_has_the_type_of_its_own_api_group() -> None:
    """A DataVolume (CDI's group) among a VM's outputs, with the claim CDI made for it (the core group)."""
    web = vm("web", "unused")
    web["spec"]["template"]["spec"]["volumes"] = [{"name": "root", "dataVolume": {"name": "root"}}]
    datavolume = {"apiVersion": "cdi.kubevirt.io/v1beta1", "kind": "DataVolume",
                  "metadata": {"name": "root", "namespace": NS, "uid": "uid-dv-root"},
                  "spec": {"storage": {"storageClassName": "hostpath-csi"}},
                  "status": {"phase": "Succeeded", "progress": "100.0%", "claimName": "root"}}  # fmt: skip
    outputs = graph([web, datavolume, pvc("root")])[f"/namespaces/{NS}/vms/web"]["resources"]
    assert [(o["type"], o["name"], o["provisioningState"]) for o in outputs] == [
        ("cdi.kubevirt.io/DataVolume", "root", "Succeeded"),
        ("core/PersistentVolumeClaim", "root", "Succeeded"),
    ]


class OneByOneMemory:
    """Kept pieces through the one-piece protocol only: each built alone, through the caller's access."""

    def __init__(self, memory: PieceMemory) -> None:
        self.memory = memory

    def __call__(self, of: Entity, store: Store, access: Policy | None, build: Callable[[Store], Piece]) -> Piece:
        return self.memory(of, store, access, build)


def test_a_piece_built_for_a_restricted_caller_is_not_recalled_for_another() -> None:
    store = SnapshotStore.from_objects(CATALOG, MIXED, "unit")
    engine = build_documents(Config()).engine
    feed = ChangeFeed()
    builder = ApplicationGraphBuilder(engine, OneByOneMemory(PieceMemory(store, feed, CATALOG, 1024 * 1024)))
    policy = Restricted(kinds={"PersistentVolumeClaim"})
    restricted = ApplicationGraphBuilder(engine).build(store, NS, LabelSelector(), policy)
    assert builder.build(ReadRecorder(store, feed), NS, LabelSelector(), policy) == restricted
    unrestricted = ApplicationGraphBuilder(engine).build(store, NS, LabelSelector())
    assert unrestricted != restricted
    assert builder.build(ReadRecorder(store, feed), NS, LabelSelector()) == unrestricted


def test_dot_draws_a_shared_dependency_once_as_a_resource_of_its_own() -> None:
    store = SnapshotStore.from_objects(CATALOG, [vm("a", "shared"), vm("b", "shared"), pvc("shared")], "unit")
    built = ApplicationGraphBuilder(build_documents(Config()).engine).build(store, NS, LabelSelector())
    dot = to_dot(built, NS)
    shared = f'"/namespaces/{NS}/pvcs/shared"'
    declarations = [line for line in dot.splitlines() if line.startswith(f"  {shared} [")]
    assert declarations == [f'  {shared} [label="PersistentVolumeClaim\\nshared", shape=box];']
    for name in ("a", "b"):  # its users' outputs and connections both lead to it
        assert f'  "/namespaces/{NS}/vms/{name}" -> {shared};' in dot
        assert f'  "/namespaces/{NS}/vms/{name}" -> {shared} [arrowhead=none, color=gray];' in dot
