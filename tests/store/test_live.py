"""The watch cache and direct mode, over real HTTP against the emulator, through the official client."""

from __future__ import annotations

import copy
import dataclasses
from pathlib import Path
from typing import Any

import pytest

from gateway.app import create_app
from tests.api.test_every_link import LINKS
from tests.emulator.cluster import Cluster
from tests.emulator.server import EmulatorServer
from tests.server import Gateway, serving
from tests.store.conftest import FAST, eventually, free_port, live_config

REQUESTS: list[tuple[str, dict[str, str]]] = sorted({(start, follow) for start, follow, _ in LINKS.values()})
REQUESTS = [(path, {"follow": follow}) for path, follow in REQUESTS] + [
    ("/vms", {"follow": "*.*"}),
    ("/namespaces/demo/vms", {"follow": "volumes.pvc.pv,vmi.pod.node,instancetype.revision,preference.revision"}),
    ("/pvcs", {"follow": "vms,pods,datasource", "limit": "3"}),
    ("/namespaces/demo/secrets", {"follow": "vms"}),
    ("/namespaces/demo/vms/fedora/volumes", {"follow": "*"}),
    ("/vms", {"labelSelector": "app.kubernetes.io/part-of=shop"}),
    ("/namespaces/demo/vms/nope", {}),
    ("/namespaces", {}),
    ("/namespaces/lab", {}),
    ("/namespaces/lab/graph", {}),
    ("/namespaces/lab/vms/every-source", {"follow": "volumes.*,accesscredentials,networks.nad"}),
    ("/migrationpolicies/fast-lane", {"follow": "vmis.pod"}),
    ("/namespaces/demo/vms/fedora", {"follow": "volumes.nope"}),
]


def test_live_and_direct_answer_every_demo_request_like_the_snapshot(
    live: Gateway, direct: Gateway, snapshot_of: Gateway
) -> None:
    for path, params in REQUESTS:
        expected = snapshot_of.get(path, **params)
        for gateway in (live, direct):
            got = gateway.get(path, **params)
            assert (got.status_code, got.json()) == (expected.status_code, expected.json()), (path, params)


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


def test_created_modified_and_deleted_objects_show_within_a_bounded_wait(
    live: Gateway, emulator: EmulatorServer
) -> None:
    cluster = emulator.cluster
    assert "fresh" not in names(live)  # starts the watch
    cluster.apply(vm("fresh", tier="a"))
    eventually(lambda: live.get("/namespaces/demo/vms/fresh").status_code == 200)
    # the reverse index follows too: fresh mounts fedora-root
    eventually(lambda: "fresh" in names(live, "/namespaces/demo/pvcs/fedora-root/vms"))

    changed = cluster.get(cluster.resource_of(vm("fresh")), "demo", "fresh")
    assert changed is not None
    changed["metadata"]["labels"] = {"tier": "b"}
    cluster.apply(changed)
    eventually(lambda: live.json("/namespaces/demo/vms/fresh")["metadata"]["labels"] == {"tier": "b"})

    cluster.delete("VirtualMachine", "demo", "fresh")
    eventually(lambda: live.get("/namespaces/demo/vms/fresh").status_code == 404)
    assert "fresh" not in names(live, "/namespaces/demo/pvcs/fedora-root/vms")


@pytest.mark.parametrize("abrupt", [False, True])
def test_a_dropped_watch_resumes_without_losing_or_duplicating(
    live: Gateway, emulator: EmulatorServer, abrupt: bool
) -> None:
    before = names(live)
    emulator.cluster.drop_watches(abrupt=abrupt)
    emulator.cluster.apply(vm("after-drop"))
    eventually(lambda: "after-drop" in names(live))
    assert names(live) == sorted([*before, "after-drop"])


def test_410_gone_relists_and_reconciles_deletions(live: Gateway, emulator: EmulatorServer) -> None:
    cluster = emulator.cluster
    assert "cirros" in names(live)
    store = live.app.extensions["gateway"].store
    relists = store.stats()["VirtualMachine"].relists
    # keep the watch from reconnecting while the cluster moves on and forgets its history
    cluster.faults.fail_paths, cluster.faults.fail_next = "virtualmachines", 3
    cluster.drop_watches()
    cluster.delete("VirtualMachine", "demo", "cirros")
    cluster.apply(vm("while-away"))
    cluster.compact()
    eventually(lambda: names(live) == ["fedora", "rhel9", "while-away", "win11"], timeout=20)
    assert store.stats()["VirtualMachine"].relists > relists


def test_api_server_down_at_start_is_503_then_recovers(tmp_path: Path) -> None:
    port = free_port()
    emulator = EmulatorServer(Cluster(), port=port, settings=FAST)
    app = create_app(live_config(emulator.kubeconfig(tmp_path / "kubeconfig")))
    with serving(app) as gateway:
        ready = gateway.get("/readyz")
        assert ready.status_code == 503
        assert ready.json()["kind"] == "Status" and "not reachable" in ready.json()["message"]
        down = gateway.get("/namespaces/demo/vms")
        assert down.status_code == 503 and down.json()["reason"] == "ServiceUnavailable"
        assert "127.0.0.1" in down.json()["message"]

        emulator.cluster.apply(vm("late"))
        emulator.start()
        try:
            eventually(lambda: gateway.get("/readyz").status_code == 200, timeout=15)
            assert names(gateway) == ["late"]
        finally:
            emulator.stop()
            app.extensions["gateway"].store.close()


def test_a_crd_that_is_not_installed_is_empty_not_an_error(tmp_path: Path) -> None:
    from tests.emulator.resources import RESOURCES

    cluster = Cluster(r for r in RESOURCES if r.kind != "IPAMClaim")
    cluster.apply(vm("solo"))
    with EmulatorServer(cluster, settings=FAST).start() as emulator:
        for cache in ("watch", "none"):
            app = create_app(live_config(emulator.kubeconfig(tmp_path / "kc"), cache=cache))
            with serving(app) as gateway:
                assert gateway.json("/namespaces/demo/vms/solo", follow="ipamclaims")["ipamclaims"] == []
                assert gateway.json("/ipamclaims")["items"] == []


def test_direct_mode_lists_each_kind_at_most_once_per_level(direct: Gateway, emulator: EmulatorServer) -> None:
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


def test_idle_watches_stop_and_restart_on_demand(emulator: EmulatorServer, tmp_path: Path) -> None:
    app = create_app(live_config(emulator.kubeconfig(tmp_path / "kc"), watch_idle_seconds=0.4))
    store = app.extensions["gateway"].store
    with serving(app) as gateway:
        assert "fedora" in names(gateway)
        assert "VirtualMachine" in store.watched_kinds()
        eventually(lambda: "VirtualMachine" not in store.watched_kinds(), timeout=5)
        assert "fedora" in names(gateway)  # started again on demand
    store.close()


def test_one_watch_per_kind_however_many_concurrent_requests(live: Gateway, emulator: EmulatorServer) -> None:
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(lambda _: live.get("/namespaces/demo/vms", follow="vmi.pod").status_code, range(16)))
    assert results == [200] * 16
    watches = [q for m, p, q in emulator.cluster.requests.entries if p.endswith("/virtualmachines") and q.get("watch")]
    lists = emulator.cluster.requests.lists("virtualmachines")
    assert len(lists) == 1
    assert len(watches) >= 1 and len({q.get("resourceVersion") for q in watches}) == len(watches)


def test_metrics_report_latency_reads_and_the_cache(live: Gateway) -> None:
    live.get("/namespaces/demo/vms/fedora", follow="vmi.pod")
    text = live.get("/metrics").text
    assert (
        'gateway_request_seconds_count{code="200",method="GET",route="/namespaces/<namespace>/<collection>/<name>"}'
        in text
    )
    assert "gateway_store_reads_total" in text
    assert 'gateway_cached_objects{kind="VirtualMachine"} 7.0' in text
    assert 'gateway_watch_relists_total{kind="Pod"} 1.0' in text


def test_secrets_from_the_api_are_redacted_at_ingestion(live: Gateway, emulator: EmulatorServer) -> None:
    secret = copy.deepcopy(emulator.cluster.get(emulator.cluster.resource_of(
        {"apiVersion": "v1", "kind": "Secret"}), "demo", "ssh-key"))  # fmt: skip
    assert secret is not None and secret["data"]
    served = live.json("/namespaces/demo/secrets/ssh-key")
    assert "data" not in served and served["dataKeys"] == ["key"]
    assert secret["data"]["key"] not in live.get("/namespaces/demo/secrets").text


def test_a_slow_api_server_is_a_504_status_not_a_hang(emulator: EmulatorServer, tmp_path: Path) -> None:
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
    direct.get("/readyz")
    emulator.cluster.faults.fail_next, emulator.cluster.faults.fail_paths = 1, "virtualmachines"
    response = direct.get("/namespaces/demo/vms")
    assert response.status_code == 503
    assert response.json()["kind"] == "Status" and "injected fault" in response.json()["message"]
    assert direct.get("/namespaces/demo/vms").status_code == 200


def test_the_n_plus_one_benchmark_counts_hold(tmp_path: Path) -> None:
    """bench/n_plus_one.py's API-call counts, on 100 VMs: a regression guard CI can afford (counts, not times)."""
    from gateway.synthetic import synthetic_cluster

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
