"""Outages of a real API server: kube-apiserver stopped, etcd stopped, the gateway cut off while etcd
compacts (410 Gone for real), the gateway started before the API server, and CRDs installed late.

These tests stop and start their server, so they have one of their own, with the API server's watch cache
off: a watch then reads etcd's history, which compaction really removes.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from gateway.app import create_app
from tests.support.apiserver import KubeApiServer, KubeError, crd, crd_table, running_apiserver
from tests.support.gateway import live_config, serving
from tests.support.kubeconfig import write_kubeconfig
from tests.support.objects import names, pvc, vm
from tests.support.processes import running
from tests.support.relay import Relay
from tests.support.sse import watching
from tests.support.waiting import eventually, free_port


@pytest.fixture(scope="module")
def server() -> Iterator[KubeApiServer]:
    yield from running_apiserver(watch_cache=False)


@pytest.fixture
def ns(server: KubeApiServer) -> str:
    namespace = server.api.namespace("outage")
    server.api.create(pvc("root", namespace))
    for name in ("a", "b"):
        server.api.create(vm(name, namespace))
    return namespace


@pytest.fixture
def relay(server: KubeApiServer) -> Iterator[Relay]:
    relayed = Relay(server.port)
    yield relayed
    relayed.close()


def gateway_through(relay: Relay, server: KubeApiServer, path: Path, **overrides: Any) -> Any:
    kubeconfig = write_kubeconfig(path, relay.url(), "admin-token", server.ca_file)
    return create_app(live_config(kubeconfig, **overrides))


def warnings(response: requests.Response) -> str:
    return response.headers.get("Warning", "")


def test_410_gone_for_real_relists_and_reconciles_without_loss_or_duplicates(
    server: KubeApiServer, ns: str, relay: Relay, tmp_path: Path
) -> None:
    app = gateway_through(relay, server, tmp_path / "kc")
    store = app.extensions["gateway"].store
    with serving(app) as gateway:
        assert names(gateway, f"/namespaces/{ns}/vms") == ["a", "b"]
        stats = store.stats()["VirtualMachine"]
        assert stats.relists == 1
        # a's page, remembered: its deletion below comes with no event, only the re-list can tell
        eventually(lambda: gateway.get(f"/namespaces/{ns}/vms/a").headers.get("X-Gateway-Cache") == "hit")
        graph = f"/namespaces/{ns}/graph"  # and the namespace's graph, b's piece of it kept with what it read
        eventually(lambda: gateway.get(graph).headers.get("X-Gateway-Cache") == "hit")
        relay.cut()  # the gateway is parted from the cluster, which goes on without it
        server.api.delete(vm("a", ns))
        server.api.create(vm("c", ns))
        server.api.patch(vm("b", ns), {"spec": {"template": {"spec": {"volumes": [
            {"name": "root", "persistentVolumeClaim": {"claimName": "gone"}}]}}}})  # fmt: skip
        server.compact()  # the history the gateway would resume from is gone
        # meanwhile the gateway answers from its cache, says so, and stays ready
        stale = eventually(lambda: (r := gateway.get(f"/namespaces/{ns}/vms")).headers.get("Warning") and r)
        assert stale.status_code == 200 and "VirtualMachine may be stale" in warnings(stale)
        ready = gateway.get("/readyz")
        assert ready.status_code == 200 and "VirtualMachine since" in ready.json()["reason"]
        assert 'gateway_watch_failing_since_seconds{kind="VirtualMachine"} 0.0' not in gateway.get("/metrics").text
        relay.resume()
        eventually(lambda: names(gateway, f"/namespaces/{ns}/vms") == ["b", "c"], timeout=30)
        assert stats.relists >= 2  # the watch was answered 410 Gone and listed again
        assert gateway.get(f"/namespaces/{ns}/vms/a").status_code == 404  # the remembered page is not served
        states = {r["name"]: r["provisioningState"] for r in gateway.json(graph)["resources"]}
        assert states == {"b": "Failed", "c": "Succeeded"}  # b's disk is one that does not exist: not recalled
        eventually(lambda: not warnings(gateway.get(f"/namespaces/{ns}/vms")), timeout=30)
    store.close()


def test_streams_hear_what_a_relist_after_410_found_changed_and_deleted(
    server: KubeApiServer, ns: str, relay: Relay, tmp_path: Path
) -> None:
    """A change and a deletion that reach the cache only by a re-list (the watch's history compacted
    away while the gateway was cut off) reach live streams too: a new document, and a 404 Status."""
    app = gateway_through(relay, server, tmp_path / "kc")
    store = app.extensions["gateway"].store
    with serving(app) as gateway, watching(gateway, f"/namespaces/{ns}/vms/b", follow="volumes.pvc") as b, \
            watching(gateway, f"/namespaces/{ns}/vms/a") as a:  # fmt: skip
        assert b.next()[1]["volumes"][0]["pvc"]["metadata"]["name"] == "root" and a.next()[0] == "document"
        relists = store.stats()["VirtualMachine"].relists
        relay.cut()
        server.api.delete(vm("a", ns))
        server.api.patch(vm("b", ns), {"spec": {"template": {"spec": {"volumes": [
            {"name": "root", "persistentVolumeClaim": {"claimName": "gone"}}]}}}})  # fmt: skip
        server.compact()
        relay.resume()
        kind, doc = b.next(timeout=30)
        assert kind == "document" and doc["volumes"][0]["pvc"] == {
            "href": f"/namespaces/{ns}/pvcs/gone", "kind": "PersistentVolumeClaim", "name": "gone",
            "missing": True, "reason": "NotFound"}  # fmt: skip
        kind, status = a.next(timeout=30)
        assert kind == "status" and status["code"] == 404
        assert store.stats()["VirtualMachine"].relists > relists  # by a re-list: no event said so
    store.close()


def test_kube_apiserver_stopped_and_started_the_cache_serves_meanwhile(
    server: KubeApiServer, ns: str, tmp_path: Path
) -> None:
    app = create_app(live_config(server.kubeconfig(tmp_path / "kc")))
    store = app.extensions["gateway"].store
    with serving(app) as gateway:
        assert names(gateway, f"/namespaces/{ns}/vms") == ["a", "b"]
        server.stop_apiserver()
        try:
            stale = eventually(lambda: (r := gateway.get(f"/namespaces/{ns}/vms")).headers.get("Warning") and r)
            assert stale.status_code == 200 and [i["metadata"]["name"] for i in stale.json()["items"]] == ["a", "b"]
            assert gateway.get("/readyz").status_code == 200
        finally:
            server.start_apiserver()
        server.api.create(vm("after", ns))
        eventually(lambda: names(gateway, f"/namespaces/{ns}/vms") == ["a", "after", "b"], timeout=30)
        eventually(lambda: not warnings(gateway.get(f"/namespaces/{ns}/vms")), timeout=30)
    store.close()


def test_etcd_stopped_and_started_the_cache_serves_meanwhile(server: KubeApiServer, ns: str, tmp_path: Path) -> None:
    app = create_app(live_config(server.kubeconfig(tmp_path / "kc")))
    store = app.extensions["gateway"].store
    with serving(app) as gateway:
        assert names(gateway, f"/namespaces/{ns}/vms") == ["a", "b"]
        server.stop_etcd()
        try:
            time.sleep(1)  # not a wait for a result: etcd being down for a while is the point
            assert names(gateway, f"/namespaces/{ns}/vms") == ["a", "b"]
            assert gateway.get("/readyz").status_code == 200
        finally:
            server.start_etcd()
        eventually(server.ready, timeout=60)
        eventually(lambda: _created(server, vm("after", ns)), timeout=30)
        eventually(lambda: names(gateway, f"/namespaces/{ns}/vms") == ["a", "after", "b"], timeout=30)
    store.close()


def _created(server: KubeApiServer, obj: dict[str, Any]) -> bool:
    try:
        server.api.apply(obj)
    except Exception:  # the API server reconnects to etcd in its own time
        return False
    return True


def test_both_entry_points_become_ready_when_the_api_server_comes_up_late(
    server: KubeApiServer, ns: str, tmp_path: Path
) -> None:
    kubeconfig = server.kubeconfig(tmp_path / "kubeconfig")
    serve_port, wsgi_port = free_port(), free_port()
    serve = [sys.executable, "-m", "gateway", "serve", "--kube", "--auth", "none", "--kubeconfig", kubeconfig,
             "--port", str(serve_port), "--api-timeout", "2", "--watch-idle-seconds", "3"]  # fmt: skip
    gunicorn = [str(Path(sys.executable).parent / "gunicorn"), "-c", "gunicorn.conf.py",
                "--bind", f"127.0.0.1:{wsgi_port}", "wsgi:app"]  # fmt: skip
    env = {"KUBEVIRT_GATEWAY_KUBE": "true", "KUBEVIRT_GATEWAY_KUBECONFIG": kubeconfig,
           "KUBEVIRT_GATEWAY_AUTH": "none", "KUBEVIRT_GATEWAY_API_TIMEOUT": "2"}  # fmt: skip
    server.stop_apiserver()
    try:
        with (
            running(serve, serve_port, ready=False) as serve_url,
            running(gunicorn, wsgi_port, env, ready=False) as wsgi,
        ):
            for url in (serve_url, wsgi):
                not_ready = requests.get(url + "/readyz", timeout=10)
                assert not_ready.status_code == 503 and "not reachable" in not_ready.json()["message"]
                down = requests.get(f"{url}/namespaces/{ns}/vms", timeout=10)
                assert down.status_code == 503 and down.json()["reason"] == "ServiceUnavailable"
                assert "127.0.0.1" in down.json()["message"]
            server.start_apiserver()
            for url in (serve_url, wsgi):
                eventually(lambda u=url: requests.get(u + "/readyz", timeout=5).status_code == 200, timeout=60)
                doc = requests.get(f"{url}/namespaces/{ns}/pvcs/root", params={"follow": "vms"}, timeout=10).json()
                assert [v["metadata"]["name"] for v in doc["vms"]] == ["a", "b"]
                if url == serve_url:  # asked at once: waiting for the other entry point may outlast 3 idle seconds
                    assert "0 kinds watched" not in requests.get(url + "/readyz", timeout=5).json()["reason"]
            # the reaper runs in the serving process too: idle watches stop
            eventually(lambda: "0 kinds watched" in requests.get(serve_url + "/readyz", timeout=5).json()["reason"])
    finally:
        if not server.apiserver.running():
            server.start_apiserver()


@pytest.mark.parametrize("cache", ["watch", "none"])
def test_a_crd_installed_after_the_gateway_started_is_served_without_a_restart_and_removed_again(
    server: KubeApiServer, ns: str, tmp_path: Path, cache: str
) -> None:
    (ipamclaims,) = [crd(row) for row in crd_table() if row["kind"] == "IPAMClaim"]
    if not _gone(server, ipamclaims):
        server.api.delete(ipamclaims)
    eventually(lambda: _gone(server, ipamclaims), timeout=30)  # its claims deleted, then the definition
    app = create_app(live_config(server.kubeconfig(tmp_path / "kc"), cache=cache, discovery_seconds=1))
    with serving(app) as gateway:
        assert gateway.json(f"/namespaces/{ns}/vms/a", follow="ipamclaims")["ipamclaims"] == []
        assert gateway.json("/ipamclaims")["items"] == []
        server.install_crds([ipamclaims])
        # as KubeVirt names and labels the claim of VM a's network tenant-net (demo/10-fedora.yaml has one)
        claim = {"apiVersion": "k8s.cni.cncf.io/v1alpha1", "kind": "IPAMClaim",
                 "metadata": {"name": "a.tenant-net", "namespace": ns, "labels": {"vm.kubevirt.io/name": "a"}},
                 "spec": {"network": "tenant-net", "interface": "pod16367aacb67"}}  # fmt: skip
        server.api.create(claim)
        eventually(lambda: names(gateway, f"/namespaces/{ns}/ipamclaims") == ["a.tenant-net"], timeout=30)
        followed = gateway.json(f"/namespaces/{ns}/vms/a", follow="ipamclaims")["ipamclaims"]
        assert [c["metadata"]["name"] for c in followed] == ["a.tenant-net"]
        server.api.delete(ipamclaims)  # and uninstalled again
        eventually(lambda: gateway.json("/ipamclaims")["items"] == [], timeout=30)
    store = app.extensions["gateway"].store
    if hasattr(store, "close"):
        store.close()


def _gone(server: KubeApiServer, obj: dict[str, Any]) -> bool:
    try:
        server.api.request("GET", server.api.of(obj))
    except KubeError as error:
        return error.status == 404
    return False
