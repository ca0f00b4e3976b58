"""Remembered answers under churn, against the real API server: a change to another VM's VMI or pod
drops no remembered page; a change to the page's own objects, or a new object one of its searches
would find, is seen on the next request. Counted (cache hits, store reads, remembered answers), not timed."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from gateway.catalog import CATALOG, Entity, ObjectRef
from gateway.changes.reads import ReadRecorder
from tests.support.apiserver import Kube, KubeApiServer
from tests.support.gateway import Gateway, gateway_over
from tests.support.objects import pvc
from tests.support.waiting import eventually

PAGE = "vmi.pod,volumes.pvc"


def vm(name: str, namespace: str) -> dict[str, Any]:
    return {
        "apiVersion": "kubevirt.io/v1", "kind": "VirtualMachine", "metadata": {"name": name, "namespace": namespace},
        "spec": {"runStrategy": "Always", "template": {"spec": {
            "domain": {"devices": {"disks": [{"name": "rootdisk", "disk": {"bus": "virtio"}}]}},
            "volumes": [{"name": "rootdisk", "persistentVolumeClaim": {"claimName": f"{name}-root"}}]}}},
    }  # fmt: skip


def running_vm(api: Kube, name: str, namespace: str) -> dict[str, Any]:
    """A VM as virt-controller leaves a running one: its status, its VMI, the VMI's launcher pod."""
    api.create(pvc(f"{name}-root", namespace))
    made = api.create(vm(name, namespace))
    api.patch(made, {"status": {"created": True, "ready": True, "printableStatus": "Running"}}, "/status")
    owner = {"apiVersion": "kubevirt.io/v1", "kind": "VirtualMachine", "name": name, "uid": made["metadata"]["uid"],
             "controller": True, "blockOwnerDeletion": True}  # fmt: skip
    vmi = api.create({"apiVersion": "kubevirt.io/v1", "kind": "VirtualMachineInstance",
                      "metadata": {"name": name, "namespace": namespace, "ownerReferences": [owner]},
                      "spec": made["spec"]["template"]["spec"]})  # fmt: skip
    api.patch(vmi, {"status": {"phase": "Running", "nodeName": "node01"}}, "/status")
    launcher = {"apiVersion": "kubevirt.io/v1", "kind": "VirtualMachineInstance", "name": name,
                "uid": vmi["metadata"]["uid"], "controller": True, "blockOwnerDeletion": True}  # fmt: skip
    pod = api.create({"apiVersion": "v1", "kind": "Pod", "metadata": {
        "name": f"virt-launcher-{name}-abcde", "namespace": namespace, "ownerReferences": [launcher],
        "labels": {"kubevirt.io": "virt-launcher", "kubevirt.io/created-by": vmi["metadata"]["uid"]},
        "annotations": {"kubevirt.io/domain": name}},
        "spec": {"containers": [{"name": "compute", "image": "quay.io/kubevirt/virt-launcher:v1.6.2"}]}})  # fmt: skip
    api.patch(pod, {"status": {"phase": "Running"}}, "/status")
    return vmi


@pytest.fixture
def cluster(apiserver: KubeApiServer) -> tuple[Kube, str, dict[str, Any], dict[str, Any]]:
    api = apiserver.api
    ns = api.namespace("churn")
    return api, ns, running_vm(api, "mine", ns), running_vm(api, "other", ns)


@pytest.fixture
def live(apiserver: KubeApiServer, tmp_path: Path) -> Iterator[Gateway]:
    with gateway_over(apiserver.kubeconfig(tmp_path / "kc")) as gateway:
        yield gateway


def remembered(gateway: Gateway, path: str) -> bool:
    response = gateway.get(path, follow=PAGE)
    return response.headers.get("X-Gateway-Cache") == "hit" and Gateway.reads(response) == 0


def test_changes_to_another_vms_vmi_and_pod_drop_no_remembered_page(live: Gateway, cluster: Any) -> None:
    api, ns, _, other = cluster
    page = f"/namespaces/{ns}/vms/mine"
    eventually(lambda: remembered(live, page))
    answers = live.app.extensions["gateway_answers"]
    for step in range(5):  # status churn, as virt-handler and the kubelet write it
        api.patch(other, {"status": {"phase": "Running", "guestOSInfo": {"id": f"fedora-{step}"}}}, "/status")
        api.patch({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "virt-launcher-other-abcde",
                                                                  "namespace": ns}},
                  {"metadata": {"labels": {"step": str(step)}}})  # fmt: skip
    # the gateway has seen the last change (the other page shows it) ...
    eventually(lambda: live.json(f"/namespaces/{ns}/vmis/other")["status"]["guestOSInfo"]["id"] == "fedora-4")
    # ... and still answers the first page from memory, without a read
    assert remembered(live, page)
    assert len(answers) >= 1


def test_a_change_to_the_pages_own_vmi_is_on_the_next_request(live: Gateway, cluster: Any) -> None:
    api, ns, mine, _ = cluster
    page = f"/namespaces/{ns}/vms/mine"
    eventually(lambda: remembered(live, page))
    api.patch(mine, {"status": {"phase": "Running", "guestOSInfo": {"id": "changed"}}}, "/status")
    doc = eventually(lambda: (d := live.json(page, follow=PAGE))["vmi"]["status"].get("guestOSInfo") and d)
    assert doc["vmi"]["status"]["guestOSInfo"] == {"id": "changed"}


def test_an_object_a_search_would_find_drops_the_page(live: Gateway, cluster: Any) -> None:
    """The page found no IPAMClaim labelled for it; one that appears must show on the next request."""
    api, ns, _, _ = cluster
    page = f"/namespaces/{ns}/vms/mine"
    eventually(lambda: live.get(page, follow="ipamclaims").headers.get("X-Gateway-Cache") == "hit")
    api.create({"apiVersion": "k8s.cni.cncf.io/v1alpha1", "kind": "IPAMClaim",
                "metadata": {"name": "mine.tenant", "namespace": ns, "labels": {"vm.kubevirt.io/name": "mine"}},
                "spec": {"network": "tenant", "interface": "pod1a2b3c4d5e6"}})  # fmt: skip
    claims = eventually(lambda: live.json(page, follow="ipamclaims")["ipamclaims"])
    assert [c["metadata"]["name"] for c in claims] == ["mine.tenant"]


def test_the_namespace_graph_rebuilds_only_the_piece_of_the_vm_that_changed(live: Gateway, cluster: Any) -> None:
    """Each workload's piece of the application graph is kept with its own reads: after a status
    change to one VM's VMI, the graph is assembled again, reading only for that VM."""
    api, ns, _, other = cluster
    path, state = f"/namespaces/{ns}/graph", live.app.extensions["gateway"]
    first = eventually(lambda: (r := live.get(path)).headers.get("X-Gateway-Cache") == "hit" and r)
    assert len(state.appgraph.kept) == 2  # a kept answer was built with nothing changing: its pieces are kept
    api.patch(other, {"status": {"phase": "Running", "guestOSInfo": {"id": "changed"}}}, "/status")
    eventually(lambda: live.json(f"/namespaces/{ns}/vmis/other")["status"].get("guestOSInfo") == {"id": "changed"})
    again = live.get(path)
    assert again.headers.get("X-Gateway-Cache") != "hit"  # the whole answer read the VMI: dropped
    one_piece = ReadRecorder(state.store)  # what building the other VM's piece alone reads
    vm = Entity.root(CATALOG.kind("VirtualMachine"), state.store.get(ObjectRef("VirtualMachine", ns, "other")))
    state.appgraph.pieces(one_piece, [vm], None)
    listings = 2  # the VMs and the VMIs of the namespace; then the piece, and the memo's read of its VM
    assert Gateway.reads(again) == listings + one_piece.reads + 1
    assert again.json() == first.json()


def test_a_service_that_comes_to_select_a_vm_is_in_the_next_graph(live: Gateway, cluster: Any) -> None:
    api, ns, _, _ = cluster
    path = f"/namespaces/{ns}/graph"
    vm_path = {"apiVersion": "kubevirt.io/v1", "kind": "VirtualMachine", "metadata": {"name": "mine", "namespace": ns}}
    api.patch(vm_path, {"spec": {"template": {"metadata": {"labels": {"app": "web"}}}}})
    eventually(lambda: live.json(f"/namespaces/{ns}/vms/mine")["spec"]["template"]["metadata"]["labels"])
    eventually(lambda: live.get(path).headers.get("X-Gateway-Cache") == "hit")
    api.create({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "front", "namespace": ns},
                "spec": {"selector": {"app": "web"}, "ports": [{"port": 80}]}})  # fmt: skip
    front = f"/namespaces/{ns}/services/front"
    graph = eventually(lambda: (g := {r["id"]: r for r in live.json(path)["resources"]}).get(front) and g)
    assert graph[front]["connections"] == [{"id": f"/namespaces/{ns}/vms/mine", "direction": "Outbound"}]
    assert graph[f"/namespaces/{ns}/vms/mine"]["connections"] == [{"id": front, "direction": "Inbound"}]
    assert graph[f"/namespaces/{ns}/vms/other"]["connections"] == []
