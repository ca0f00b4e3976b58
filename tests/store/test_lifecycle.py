"""The watch cache's life in a real process: started after gunicorn forks, generations that only
grow, and kinds that appear and disappear while it runs."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import pytest
import requests

from gateway.app import create_app
from gateway.catalog import CATALOG
from gateway.store.snapshot import demo_objects
from tests.emulator.cluster import Cluster
from tests.emulator.server import EmulatorServer
from tests.server import serving
from tests.store.conftest import FAST, demo_cluster, eventually, free_port, live_config
from tests.test_cli import running

DOWN_SECONDS = 10


def test_both_entry_points_become_ready_when_the_api_server_comes_up_late(tmp_path: Path) -> None:
    """The API server is down for the first 10 s; `serve` and `gunicorn wsgi:app` both recover,
    and `--watch-idle-seconds` works in the serving process."""
    emulator = EmulatorServer(demo_cluster(), port=free_port(), settings=FAST)
    kubeconfig = emulator.kubeconfig(tmp_path / "kubeconfig")
    serve_port, wsgi_port = free_port(), free_port()
    serve = [sys.executable, "-m", "gateway", "serve", "--kube", "--auth", "none", "--kubeconfig", kubeconfig,
             "--port", str(serve_port), "--watch-idle-seconds", "3", "--api-timeout", "2"]  # fmt: skip
    gunicorn = [str(Path(sys.executable).parent / "gunicorn"), "-c", "gunicorn.conf.py",
                "--bind", f"127.0.0.1:{wsgi_port}", "wsgi:app"]  # fmt: skip
    env = {"KUBEVIRT_GATEWAY_KUBE": "true", "KUBEVIRT_GATEWAY_KUBECONFIG": kubeconfig,
           "KUBEVIRT_GATEWAY_AUTH": "none", "KUBEVIRT_GATEWAY_API_TIMEOUT": "2"}  # fmt: skip
    started = time.monotonic()
    with running(serve, serve_port, ready=False) as serve_url, running(gunicorn, wsgi_port, env, ready=False) as wsgi:
        for url in (serve_url, wsgi):
            assert requests.get(url + "/healthz", timeout=5).status_code == 200
            not_ready = requests.get(url + "/readyz", timeout=10)
            assert not_ready.status_code == 503 and "not reachable" in not_ready.json()["message"]
        time.sleep(max(0.0, DOWN_SECONDS - (time.monotonic() - started)))
        emulator.start()
        try:
            for url in (serve_url, wsgi):
                eventually(lambda u=url: requests.get(u + "/readyz", timeout=5).status_code == 200, timeout=30)
                doc = requests.get(url + "/namespaces/demo/vms/fedora", params={"follow": "vmi.pod"}, timeout=10)
                assert doc.json()["vmi"]["pod"]["metadata"]["name"] == "virt-launcher-fedora-h7l2d"
            # the reaper runs in the serving process too: an idle watch stops
            assert requests.get(serve_url + "/namespaces/demo/vms", timeout=10).status_code == 200
            assert "0 kinds watched" not in requests.get(serve_url + "/readyz", timeout=5).json()["reason"]
            eventually(lambda: "0 kinds watched" in requests.get(serve_url + "/readyz", timeout=5).json()["reason"])
        finally:
            emulator.stop()


def test_an_answer_remembered_before_a_watch_was_reaped_is_not_served_after(tmp_path: Path) -> None:
    cluster = demo_cluster()
    with EmulatorServer(cluster, settings=FAST).start() as emulator:
        app = create_app(live_config(emulator.kubeconfig(tmp_path / "kc"), watch_idle_seconds=0.4))
        store = app.extensions["gateway"].store
        with serving(app) as gateway:
            before = gateway.get("/namespaces/demo/vms/fedora")
            assert "changed" not in before.json()["metadata"].get("labels", {})
            eventually(lambda: "VirtualMachine" not in store.watched_kinds(), timeout=5)
            vms = [o for o in cluster.dump() if o["kind"] == "VirtualMachine"]
            fedora = next(o for o in vms if o["metadata"]["name"] == "fedora")
            fedora["metadata"].setdefault("labels", {})["changed"] = "while-unwatched"
            cluster.apply(fedora)
            after = gateway.get("/namespaces/demo/vms/fedora")
            assert after.headers.get("X-Gateway-Cache") != "hit"
            assert after.json()["metadata"]["labels"]["changed"] == "while-unwatched"
            assert "VirtualMachine" in store.watched_kinds()  # and the watch started again
        store.close()


@pytest.mark.parametrize("cache", ["watch", "none"])
def test_kinds_appear_and_disappear_without_a_restart(tmp_path: Path, cache: str) -> None:
    cluster = Cluster()
    cluster.load(obj for _, obj in demo_objects(CATALOG))
    cluster.unserved.add("VirtualMachineExport")  # export.kubevirt.io is installed later
    with EmulatorServer(cluster, settings=FAST).start() as emulator:
        app = create_app(live_config(emulator.kubeconfig(tmp_path / "kc"), cache=cache, discovery_seconds=0.3))
        with serving(app) as gateway:
            assert gateway.json("/vmexports")["items"] == []
            cluster.unserved.discard("VirtualMachineExport")
            eventually(lambda: len(gateway.json("/vmexports")["items"]) > 0)
            cluster.unserved.add("VirtualMachineExport")  # and removed again
            eventually(lambda: gateway.json("/vmexports")["items"] == [])
        if cache == "watch":
            app.extensions["gateway"].store.close()
