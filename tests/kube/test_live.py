"""The watch cache and direct mode against the real kube-apiserver: the same documents as a snapshot of it,
changes seen within bounded waits, bookmarks, and Secrets redacted as they arrive."""

from __future__ import annotations

from pathlib import Path

from gateway.app import create_app
from gateway.catalog import CATALOG
from gateway.store.kube import KubeApi
from gateway.store.live import WatchCache
from tests.support.apiserver import KubeApiServer
from tests.support.demo_requests import REQUESTS
from tests.support.gateway import Gateway, live_config, serving
from tests.support.objects import names, pvc, vm
from tests.support.waiting import eventually


def test_live_and_direct_answer_every_demo_request_like_a_snapshot_of_the_server(
    live: Gateway, direct: Gateway, snapshot_of: Gateway
) -> None:
    for path, params in REQUESTS:
        expected = snapshot_of.get(path, **params)
        for gateway in (live, direct):
            got = gateway.get(path, **params)
            assert (got.status_code, got.json()) == (expected.status_code, expected.json()), (path, params)


def test_every_catalogue_kind_is_read_like_the_snapshot(live: Gateway, direct: Gateway, snapshot_of: Gateway) -> None:
    collections = sorted({k.collection for k in CATALOG.kinds() if not k.part})
    for collection in collections:
        expected = snapshot_of.json(f"/{collection}")
        assert expected["items"] or collection in {"ipamclaims"}, f"the demo has no {collection}"
        for gateway in (live, direct):
            assert gateway.json(f"/{collection}") == expected, collection


def test_created_modified_and_deleted_objects_show_within_a_bounded_wait(
    live: Gateway, apiserver: KubeApiServer
) -> None:
    api, ns = apiserver.api, apiserver.api.namespace("crud")
    assert names(live, f"/namespaces/{ns}/vms") == []  # starts the watches
    assert names(live, f"/namespaces/{ns}/pvcs") == []
    api.create(pvc("root", ns))
    api.create(vm("fresh", ns, tier="a"))
    eventually(lambda: live.get(f"/namespaces/{ns}/vms/fresh").status_code == 200)
    # the reverse index follows too: fresh mounts root
    eventually(lambda: names(live, f"/namespaces/{ns}/pvcs/root/vms") == ["fresh"])

    api.patch(vm("fresh", ns), {"metadata": {"labels": {"tier": "b"}}})
    eventually(lambda: live.json(f"/namespaces/{ns}/vms/fresh")["metadata"]["labels"] == {"tier": "b"})

    api.delete(vm("fresh", ns))
    eventually(lambda: live.get(f"/namespaces/{ns}/vms/fresh").status_code == 404)
    assert names(live, f"/namespaces/{ns}/pvcs/root/vms") == []


def test_bookmarks_keep_a_quiet_watch_current_across_its_timeouts(apiserver: KubeApiServer, tmp_path: Path) -> None:
    """Watches of 4 s: the server's bookmarks move a quiet kind's resourceVersion on while other kinds change,
    so each new watch resumes from there, and the kind is never listed again."""
    kubeconfig = apiserver.kubeconfig(tmp_path / "kubeconfig")
    store = WatchCache(CATALOG, KubeApi.connect(kubeconfig, None, 5), watch_seconds=4)
    app = create_app(live_config(kubeconfig), store=store)
    api, ns = apiserver.api, apiserver.api.namespace("quiet")
    with serving(app) as gateway:
        assert gateway.json("/namespaces/demo/vms/fedora")["metadata"]["name"] == "fedora"
        stats = store.stats()["VirtualMachine"]
        for i in range(3):
            api.create({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": f"churn-{i}", "namespace": ns}})
        eventually(lambda: stats.bookmarks >= 2, timeout=20)
        assert stats.relists == 1 and stats.restarts == 0
    store.close()


def test_secrets_from_the_server_are_redacted_at_ingestion(live: Gateway, apiserver: KubeApiServer) -> None:
    secret = apiserver.api.get("v1", "Secret", "demo", "ssh-key")
    assert secret["data"]
    served = live.json("/namespaces/demo/secrets/ssh-key")
    assert "data" not in served and served["dataKeys"] == sorted(secret["data"])
    for value in secret["data"].values():
        assert value not in live.get("/namespaces/demo/secrets").text


def test_metrics_report_the_cache(live: Gateway, apiserver: KubeApiServer) -> None:
    live.get("/namespaces/demo/vms/fedora", follow="vmi.pod")
    count = len(apiserver.api.list("kubevirt.io/v1", "VirtualMachine"))
    text = live.get("/metrics").text
    route = 'route="/namespaces/<namespace>/<collection>/<name>"'
    assert f'gateway_request_seconds_count{{code="200",method="GET",{route}}}' in text
    assert "gateway_store_reads_total" in text
    assert f'gateway_cached_objects{{kind="VirtualMachine"}} {count}.0' in text
    assert 'gateway_watch_relists_total{kind="Pod"} 1.0' in text
    assert 'gateway_watch_failing_since_seconds{kind="Pod"} 0.0' in text


def test_idle_watches_stop_and_restart_on_demand(apiserver: KubeApiServer, tmp_path: Path) -> None:
    app = create_app(live_config(apiserver.kubeconfig(tmp_path / "kc"), watch_idle_seconds=0.4))
    store = app.extensions["gateway"].store
    with serving(app) as gateway:
        assert "fedora" in names(gateway, "/namespaces/demo/vms")
        assert "VirtualMachine" in store.watched_kinds()
        eventually(lambda: "VirtualMachine" not in store.watched_kinds(), timeout=5)
        assert "fedora" in names(gateway, "/namespaces/demo/vms")  # started again on demand
    store.close()


def test_an_answer_remembered_before_a_watch_was_reaped_is_not_served_after(
    apiserver: KubeApiServer, tmp_path: Path
) -> None:
    api, ns = apiserver.api, apiserver.api.namespace("reaped")
    api.create(vm("a", ns))
    app = create_app(live_config(apiserver.kubeconfig(tmp_path / "kc"), watch_idle_seconds=0.4))
    store = app.extensions["gateway"].store
    with serving(app) as gateway:
        assert "labels" not in gateway.json(f"/namespaces/{ns}/vms/a")["metadata"]
        eventually(lambda: "VirtualMachine" not in store.watched_kinds(), timeout=5)
        api.patch(vm("a", ns), {"metadata": {"labels": {"changed": "while-unwatched"}}})
        after = gateway.get(f"/namespaces/{ns}/vms/a")
        assert after.headers.get("X-Gateway-Cache") != "hit"
        assert after.json()["metadata"]["labels"] == {"changed": "while-unwatched"}
        assert "VirtualMachine" in store.watched_kinds()  # and the watch started again
    store.close()
