"""The watch cache and direct mode against the emulator, for what a real API server cannot do on demand:
a watch cut mid-stream, injected errors and latency, and exact request counts (tests/kube has the rest)."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest

from gateway.app import create_app
from tests.support.emulated import FAST
from tests.support.emulator.cluster import Cluster
from tests.support.emulator.server import EmulatorServer
from tests.support.gateway import Gateway, live_config, serving
from tests.support.waiting import eventually


def vm(name: str, **labels: str) -> dict[str, Any]:
    return {
        "apiVersion": "kubevirt.io/v1",
        "kind": "VirtualMachine",
        "metadata": {"name": name, "namespace": "demo", "labels": labels},
        "spec": {
            "template": {"spec": {"volumes": [{"name": "root", "persistentVolumeClaim": {"claimName": "fedora-root"}}]}}
        },
    }


def names(gateway: Gateway, path: str = "/namespaces/demo/vms", **params: str) -> list[str]:
    return [i["metadata"]["name"] for i in gateway.json(path, **params)["items"]]


@pytest.mark.parametrize("abrupt", [False, True])
def test_a_dropped_watch_resumes_without_losing_or_duplicating(
    live: Gateway, emulator: EmulatorServer, abrupt: bool
) -> None:
    """Emulator: a watch cut mid-stream, cleanly or not, when the test says."""
    before = names(live)
    emulator.cluster.drop_watches(abrupt=abrupt)
    emulator.cluster.apply(vm("after-drop"))
    eventually(lambda: "after-drop" in names(live))
    assert names(live) == sorted([*before, "after-drop"])


def test_direct_mode_lists_each_kind_at_most_once_per_level(direct: Gateway, emulator: EmulatorServer) -> None:
    """Emulator: every request it served, counted exactly."""
    requests = emulator.cluster.requests
    direct.get("/readyz")  # discovery happens once, before
    requests.clear()
    response = direct.get(
        "/namespaces/demo/vms", follow="volumes.pvc.pv,vmi.pod,instancetype.revision,preference.revision"
    )
    assert response.status_code == 200
    calls = [(p, q) for m, p, q in requests.entries]
    assert Gateway.reads(response) == len(calls)
    lists_per_plural: dict[str, int] = {}
    for path, _ in calls:
        plural = path.rstrip("/").split("/")[-1]
        lists_per_plural[plural] = lists_per_plural.get(plural, 0) + 1
    # each kind is read once: VMs; then instancetypes, preferences, VMIs; then revisions, pods, PVCs; then PVs.
    # (a single name is a GET, not a list: u1.medium, win-large, cirros)
    assert all(n == 1 for n in lists_per_plural.values()), lists_per_plural
    assert len(calls) == 10


def test_direct_mode_generic_followers_cost_more_calls(emulator: EmulatorServer, tmp_path: Path) -> None:
    """Emulator: every request it served, counted exactly."""
    follow = "volumes.pvc.pv,vmi.pod,instancetype.revision"
    costs = []
    for optimize in (True, False):
        app = create_app(live_config(emulator.kubeconfig(tmp_path / "kc"), cache="none", optimize=optimize))
        with serving(app) as gateway:
            gateway.get("/readyz")
            emulator.cluster.requests.clear()
            response = gateway.get("/namespaces/demo/vms", follow=follow)
            costs.append((len(emulator.cluster.requests.entries), response.json()))
    (fast_calls, fast_doc), (slow_calls, slow_doc) = costs
    assert fast_doc == slow_doc
    assert fast_calls < slow_calls


def test_one_watch_per_kind_however_many_concurrent_requests(live: Gateway, emulator: EmulatorServer) -> None:
    """Emulator: every list and watch it served, counted exactly."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(lambda _: live.get("/namespaces/demo/vms", follow="vmi.pod").status_code, range(16)))
    assert results == [200] * 16
    watches = [q for m, p, q in emulator.cluster.requests.entries if p.endswith("/virtualmachines") and q.get("watch")]
    lists = emulator.cluster.requests.lists("virtualmachines")
    assert len(lists) == 1
    assert len(watches) >= 1 and len({q.get("resourceVersion") for q in watches}) == len(watches)


def test_a_slow_api_server_is_a_504_status_not_a_hang(emulator: EmulatorServer, tmp_path: Path) -> None:
    """Emulator: latency injected on demand."""
    config = live_config(emulator.kubeconfig(tmp_path / "kc"), cache="none")
    app = create_app(dataclasses.replace(config, api_timeout=0.3))
    with serving(app) as gateway:
        assert gateway.get("/readyz").status_code == 200
        emulator.cluster.faults.latency = 1.0
        try:
            response = gateway.get("/namespaces/demo/vms/fedora")
        finally:
            emulator.cluster.faults.latency = 0.0
    assert response.status_code == 504
    assert response.json()["reason"] == "Timeout"


def test_api_errors_in_direct_mode_are_503_statuses(direct: Gateway, emulator: EmulatorServer) -> None:
    """Emulator: a 500 injected on one path."""
    direct.get("/readyz")
    emulator.cluster.faults.fail_next, emulator.cluster.faults.fail_paths = 1, "virtualmachines"
    response = direct.get("/namespaces/demo/vms")
    assert response.status_code == 503
    assert response.json()["kind"] == "Status" and "injected fault" in response.json()["message"]
    assert direct.get("/namespaces/demo/vms").status_code == 200


def test_the_n_plus_one_benchmark_counts_hold(tmp_path: Path) -> None:
    """bench/n_plus_one.py's API-call counts, on 100 VMs: a regression guard CI can afford (counts, not times).
    Emulator: every request it served, counted exactly."""
    from tests.support.synthetic import synthetic_cluster

    cluster = Cluster()
    cluster.load(synthetic_cluster(100, "bench"))
    follow = "volumes.pvc.pv,vmi.pod,instancetype.revision"
    calls, bodies = {}, {}
    with EmulatorServer(cluster, settings=FAST).start() as emulator:
        for optimize in (True, False):
            app = create_app(live_config(emulator.kubeconfig(tmp_path / "kc"), cache="none", optimize=optimize))
            with serving(app) as gateway:
                gateway.get("/readyz")
                cluster.requests.clear()
                bodies[optimize] = gateway.get("/namespaces/bench/vms", follow=follow).content
                calls[optimize] = len(cluster.requests.entries)
    assert bodies[True] == bodies[False]
    # VMs; then VMIs and the one instancetype (a GET); then revisions, pods, PVCs; then PVs:
    # one call per kind per level (bench/n_plus_one.py sees 8 at 500 VMs: 1,000 revisions take two pages)
    assert calls[True] == 7
    assert calls[False] > 300
