"""Live streams hear every change the watch cache makes, whatever made it: a re-list after 410 Gone,
a kind that stops and starts being served, and an idle reaper that would stop their watches.

The emulator serves here because it does on demand, in milliseconds, what these cases need: its
watch history forgotten (410) while the gateway is cut off by a relay, a CRD taken out of discovery
and put back, and an exact count of the LISTs each kind cost. tests/kube/test_outages.py has the
410 case on the real API server too.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from gateway.app import create_app
from tests.support.emulated import FAST, demo_cluster
from tests.support.emulator.cluster import Cluster
from tests.support.emulator.server import EmulatorServer
from tests.support.gateway import Gateway, live_config, serving
from tests.support.kubeconfig import write_kubeconfig
from tests.support.relay import Relay
from tests.support.sse import Events, watching
from tests.support.waiting import eventually

FEDORA = "/namespaces/demo/vms/fedora"


@pytest.fixture
def cluster() -> Cluster:
    return demo_cluster()


@pytest.fixture
def emulator(cluster: Cluster) -> Iterator[EmulatorServer]:
    with EmulatorServer(cluster, settings=FAST).start() as server:
        yield server


@pytest.fixture
def relay(emulator: EmulatorServer) -> Iterator[Relay]:
    relayed = Relay(emulator.port)
    yield relayed
    relayed.close()


def gateway(kubeconfig: str, **settings: Any) -> Any:
    app = create_app(live_config(kubeconfig, **settings))
    return app, app.extensions["gateway"].store


def changed(cluster: Cluster, kind: str, name: str, change: dict[str, Any]) -> None:
    """Apply a change to a stored object of the demo namespace, as a controller would write it."""
    resource = cluster.resource_of({"apiVersion": _api_version(cluster, kind), "kind": kind})
    obj = cluster.get(resource, "demo", name)
    assert obj is not None, name
    cluster.apply(_merged(obj, change))


def _api_version(cluster: Cluster, kind: str) -> str:
    return next(r.api_version for r in cluster.resources if r.kind == kind)


def _merged(obj: dict[str, Any], change: dict[str, Any]) -> dict[str, Any]:
    merged = copy.deepcopy(obj)
    for key, value in change.items():
        merged[key] = _merged(merged.get(key) or {}, value) if isinstance(value, dict) else value
    return merged


def next_document(events: Events, check: Any, timeout: float = 15.0) -> tuple[str, Any]:
    """The first event from now on for which `check(kind, data)` holds."""
    while True:
        kind, data = events.next(timeout=timeout)
        if check(kind, data):
            return kind, data


def test_a_stream_hears_what_a_relist_after_410_found_changed_and_deleted(
    cluster: Cluster, relay: Relay, tmp_path: Path
) -> None:
    app, store = gateway(write_kubeconfig(tmp_path / "kc", f"http://127.0.0.1:{relay.port}", "emulator-admin"))
    with serving(app) as served, watching(served, FEDORA, follow="vmi") as fedora, \
            watching(served, "/namespaces/demo/vms/rhel9") as rhel9:  # fmt: skip
        assert fedora.next()[1]["vmi"]["metadata"]["name"] == "fedora" and rhel9.next()[0] == "document"
        relists = store.stats()["VirtualMachineInstance"].relists
        relay.cut()  # the gateway is parted from the cluster, which goes on without it
        changed(cluster, "VirtualMachineInstance", "fedora", {"status": {"phase": "Paused"}})
        cluster.delete("VirtualMachine", "demo", "rhel9")
        cluster.compact()  # the history the gateway would resume from is gone: 410 Gone, list again
        relay.resume()
        kind, _ = next_document(fedora, lambda k, d: d["vmi"]["status"]["phase"] == "Paused")
        assert kind == "document"
        kind, status = rhel9.next(timeout=15)
        assert kind == "status" and status["code"] == 404
        assert store.stats()["VirtualMachineInstance"].relists > relists  # it came by a re-list, not an event
    store.close()


def test_a_stream_is_a_use_of_its_kinds_the_idle_reaper_leaves_them_watched(
    cluster: Cluster, emulator: EmulatorServer, tmp_path: Path
) -> None:
    app, store = gateway(emulator.kubeconfig(tmp_path / "kc"), watch_idle_seconds=0.4)
    with serving(app) as served, watching(served, FEDORA, follow="vmi") as fedora:
        assert fedora.next()[0] == "document"
        listed = len(cluster.requests.lists("virtualmachineinstances"))
        served.json("/namespaces/demo/configmaps")  # a kind only a plain GET used ...
        eventually(lambda: "ConfigMap" not in store.watched_kinds(), timeout=10)  # ... is reaped when idle
        assert {"VirtualMachine", "VirtualMachineInstance"} <= set(store.watched_kinds())
        changed(cluster, "VirtualMachineInstance", "fedora", {"status": {"phase": "Paused"}})
        kind, _ = next_document(fedora, lambda k, d: k == "status" or d["vmi"]["status"]["phase"] == "Paused")
        assert kind == "document"
        assert len(cluster.requests.lists("virtualmachineinstances")) == listed  # watched all along, never listed again
    store.close()


def test_a_stream_hears_its_kind_stop_and_start_being_served(
    cluster: Cluster, emulator: EmulatorServer, tmp_path: Path
) -> None:
    app, store = gateway(emulator.kubeconfig(tmp_path / "kc"), discovery_seconds=0.3)
    with serving(app) as served, watching(served, FEDORA) as fedora:
        assert fedora.next()[0] == "document"
        cluster.unserved.add("VirtualMachine")  # its CRD removed
        kind, status = fedora.next(timeout=15)
        assert kind == "status" and status["code"] == 404
        cluster.unserved.discard("VirtualMachine")  # and installed again: the stream's kind is watched at once
        kind, doc = fedora.next(timeout=15)
        assert kind == "document" and doc["metadata"]["name"] == "fedora"
    store.close()


def test_a_plain_answer_after_a_relist_is_the_cluster_as_it_is(cluster: Cluster, relay: Relay, tmp_path: Path) -> None:
    """Remembered answers hear re-lists from the same feed: a deletion that only a re-list found
    drops the remembered page, and an object unchanged by it keeps its own."""
    app, store = gateway(write_kubeconfig(tmp_path / "kc", f"http://127.0.0.1:{relay.port}", "emulator-admin"))
    with serving(app) as served:
        for page in (FEDORA, "/namespaces/demo/vms/rhel9"):
            eventually(lambda page=page: served.get(page).headers.get("X-Gateway-Cache") == "hit")
        relay.cut()
        cluster.delete("VirtualMachine", "demo", "rhel9")
        cluster.compact()
        relay.resume()
        eventually(lambda: served.get("/namespaces/demo/vms/rhel9").status_code == 404, timeout=15)
        again = served.get(FEDORA)  # fedora did not change: the re-list left its page remembered
        assert again.headers.get("X-Gateway-Cache") == "hit" and Gateway.reads(again) == 0
    store.close()
