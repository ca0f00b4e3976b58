"""Reverse links (`pvcs?follow=vms`) against the emulator: one list per kind per level in direct mode,
however many parents, with the generic follower's document; and, over the watch cache, a remembered
answer dropped by an object that comes to refer to one of its parents.
Emulator: every request it served, counted exactly."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from gateway.app import create_app
from tests.support.emulated import FAST
from tests.support.emulator.cluster import Cluster
from tests.support.emulator.server import EmulatorServer
from tests.support.gateway import Gateway, gateway_over, live_config, serving
from tests.support.synthetic import synthetic_cluster
from tests.support.waiting import eventually


def direct_mode_costs(
    emulator: EmulatorServer, tmp_path: Path, path: str, follow: str
) -> dict[bool, tuple[list[str], bytes]]:
    """For the optimized and the generic gateway in direct mode: the paths it read, and its answer."""
    costs = {}
    for optimize in (True, False):
        app = create_app(live_config(emulator.kubeconfig(tmp_path / "kc"), cache="none", optimize=optimize))
        with serving(app) as gateway:
            assert gateway.get("/readyz").status_code == 200  # discovery, once, before
            emulator.cluster.requests.clear()
            response = gateway.get(path, follow=follow)
            assert response.status_code == 200, response.text
            paths = [p for _, p, _ in emulator.cluster.requests.entries]
            assert Gateway.reads(response) == len(paths)
            costs[optimize] = (paths, response.content)
    return costs


@pytest.mark.parametrize("vms", [8, 40])
def test_reverse_links_of_a_namespace_of_pvcs_cost_one_list_per_kind(vms: int, tmp_path: Path) -> None:
    cluster = Cluster()
    cluster.load(synthetic_cluster(vms, "bench"))
    with EmulatorServer(cluster, settings=FAST).start() as emulator:
        costs = direct_mode_costs(emulator, tmp_path, "/namespaces/bench/pvcs", "vms,vmis,pods")
    (fast, fast_doc), (slow, slow_doc) = costs[True], costs[False]
    assert fast_doc == slow_doc  # byte for byte
    # the PVCs; then, whatever their number, one list of each referring kind in their namespace
    assert sorted(fast) == [
        "/api/v1/namespaces/bench/persistentvolumeclaims",
        "/api/v1/namespaces/bench/pods",
        "/apis/kubevirt.io/v1/namespaces/bench/virtualmachineinstances",
        "/apis/kubevirt.io/v1/namespaces/bench/virtualmachines",
    ]
    assert len(slow) == 1 + 3 * vms  # the generic follower: a list per PVC and link


def test_referrers_that_may_be_in_another_namespace_are_listed_once_cluster_wide(
    emulator: EmulatorServer, tmp_path: Path
) -> None:
    """A multus network may name `demo/vlan10` from namespace lab; a cluster instancetype is used in every namespace."""
    # a second parent of each: still one list
    emulator.cluster.apply({"apiVersion": "k8s.cni.cncf.io/v1", "kind": "NetworkAttachmentDefinition",
                            "metadata": {"name": "vlan20", "namespace": "demo"}, "spec": {"config": "{}"}})  # fmt: skip
    emulator.cluster.apply({"apiVersion": "instancetype.kubevirt.io/v1beta1",
                            "kind": "VirtualMachineClusterInstancetype", "metadata": {"name": "u1.large"},
                            "spec": {"cpu": {"guest": 2}, "memory": {"guest": "8Gi"}}})  # fmt: skip
    for path, target in (("/namespaces/demo/networkattachmentdefinitions", "network-attachment-definitions"),
                         ("/clusterinstancetypes", "virtualmachineclusterinstancetypes")):  # fmt: skip
        costs = direct_mode_costs(emulator, tmp_path, path, "vms")
        (fast, fast_doc), (_, slow_doc) = costs[True], costs[False]
        assert fast_doc == slow_doc
        assert [p.rsplit("/", 1)[-1] for p in fast] == [target, "virtualmachines"]
        assert fast[-1] == "/apis/kubevirt.io/v1/virtualmachines"  # every namespace, once for both parents
    nads = direct_mode_costs(emulator, tmp_path, "/namespaces/demo/networkattachmentdefinitions", "vms")[True][1]
    assert b'"every-source"' in nads  # lab's VM, found from demo's network


def names(items: list[dict[str, Any]]) -> list[str]:
    return [i["metadata"]["name"] for i in items]


def test_a_vm_that_comes_to_use_a_pvc_drops_the_remembered_page(emulator: EmulatorServer, tmp_path: Path) -> None:
    """The batch reads the whole namespace, but what the page depends on is each PVC's referrers."""
    path = "/namespaces/demo/pvcs"
    with gateway_over(emulator.kubeconfig(tmp_path / "kc")) as live:

        def vms_of(pvc: str) -> list[str]:
            page = live.json(path, follow="vms")
            return next(names(i["vms"]) for i in page["items"] if i["metadata"]["name"] == pvc)

        assert vms_of("win11-root") == ["win11"]
        eventually(lambda: live.get(path, follow="vms").headers.get("X-Gateway-Cache") == "hit")
        emulator.cluster.apply({
            "apiVersion": "kubevirt.io/v1", "kind": "VirtualMachine",
            "metadata": {"name": "win11-twin", "namespace": "demo"},
            "spec": {"template": {"spec": {"volumes": [
                {"name": "root", "persistentVolumeClaim": {"claimName": "win11-root"}}]}}},
        })  # fmt: skip
        assert eventually(lambda: vms_of("win11-root") == ["win11", "win11-twin"])
