"""The application graph in-process: each workload's provisioning state from its status and its
dependencies, shared dependencies as resources of their own, and Services' connections."""

from __future__ import annotations

from typing import Any

import pytest

from gateway.app import build_documents
from gateway.catalog import CATALOG
from gateway.catalog.selectors import LabelSelector
from gateway.config import Config
from gateway.graph.appgraph import ApplicationGraphBuilder
from gateway.store.snapshot import SnapshotStore

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
