"""?watch=true: the document as server-sent events, again when (and only when) something in it changes."""

from __future__ import annotations

import json
import queue
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import requests

from gateway.app import create_app
from tests.emulator.server import EmulatorServer
from tests.server import Gateway, serving
from tests.store.conftest import eventually, live_config


def _decoded(text: str) -> Any:
    """A JSON document, or the text itself (a DOT graph)."""
    try:
        return json.loads(text)
    except ValueError:
        return text


class Events:
    """Reads a text/event-stream on a thread, so tests can wait for the next event with a timeout."""

    def __init__(self, response: requests.Response) -> None:
        self.response = response
        self.queue: queue.Queue[tuple[str, Any]] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        kind, data = "message", []
        try:
            for raw in self.response.iter_lines(decode_unicode=True):
                if raw.startswith(":"):
                    self.queue.put(("heartbeat", None))
                elif raw.startswith("event: "):
                    kind = raw[7:]
                elif raw.startswith("data: "):
                    data.append(raw[6:])
                elif raw == "" and data:
                    self.queue.put((kind, _decoded("\n".join(data))))  # data lines join with newlines
                    kind, data = "message", []
        except (requests.RequestException, AttributeError, ValueError):
            pass

    def next(self, timeout: float = 10.0, skip_heartbeats: bool = True) -> tuple[str, Any]:
        while True:
            kind, data = self.queue.get(timeout=timeout)
            if kind != "heartbeat" or not skip_heartbeats:
                return kind, data

    def documents_within(self, seconds: float) -> list[Any]:
        """Every non-heartbeat event in the next `seconds`."""
        found, deadline = [], time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            try:
                kind, data = self.queue.get(timeout=left)
            except queue.Empty:
                break
            if kind != "heartbeat":
                found.append(data)
        return found


@contextmanager
def watching(gateway: Gateway, path: str, **params: str) -> Iterator[Events]:
    response = requests.get(gateway.url + path, params={**params, "watch": "true"}, stream=True, timeout=30,
                            headers={"Accept": "text/event-stream"})  # fmt: skip
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"].startswith("text/event-stream")
    try:
        yield Events(response)
    finally:
        response.close()


@pytest.fixture
def live(emulator: EmulatorServer, tmp_path: Path) -> Iterator[Gateway]:
    app = create_app(live_config(emulator.kubeconfig(tmp_path / "kc"), heartbeat_seconds=0.2, max_subscribers=3))
    with serving(app) as gateway:
        yield gateway
    app.extensions["gateway"].store.close()


def vmi_of(emulator: EmulatorServer) -> dict[str, Any]:
    cluster = emulator.cluster
    vmi = cluster.get(cluster.resource_of({"apiVersion": "kubevirt.io/v1", "kind": "VirtualMachineInstance"}),
                      "demo", "fedora")  # fmt: skip
    assert vmi is not None
    return vmi


def test_a_change_to_an_embedded_object_streams_a_new_document(live: Gateway, emulator: EmulatorServer) -> None:
    with watching(live, "/namespaces/demo/vms/fedora", follow="vmi") as events:
        kind, first = events.next()
        assert kind == "document" and first["vmi"]["status"]["phase"] == "Running"
        vmi = vmi_of(emulator)
        vmi["status"]["phase"] = "Paused"
        emulator.cluster.apply(vmi)
        kind, second = events.next()
        assert kind == "document" and second["vmi"]["status"]["phase"] == "Paused"


def test_changes_elsewhere_wake_no_document(live: Gateway, emulator: EmulatorServer) -> None:
    with watching(live, "/namespaces/demo/vms/fedora", follow="vmi") as events:
        events.next()
        emulator.cluster.apply(
            {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x", "namespace": "demo"}}
        )
        other = emulator.cluster.get(emulator.cluster.resource_of(
            {"apiVersion": "kubevirt.io/v1", "kind": "VirtualMachineInstance"}), "demo", "rhel9")  # fmt: skip
        assert other is not None
        other["metadata"].setdefault("labels", {})["touched"] = "yes"
        emulator.cluster.apply(other)
        assert events.documents_within(1.0) == []  # heartbeats only


def test_a_burst_of_changes_is_coalesced(live: Gateway, emulator: EmulatorServer) -> None:
    with watching(live, "/namespaces/demo/vms/fedora", follow="vmi") as events:
        events.next()
        vmi = vmi_of(emulator)
        for i in range(10):
            vmi["metadata"].setdefault("labels", {})["step"] = str(i)
            vmi = emulator.cluster.apply(vmi)
        documents = events.documents_within(1.5)
        assert len(documents) in (1, 2, 3)
        assert documents[-1]["vmi"]["metadata"]["labels"]["step"] == "9"


def test_graphs_stream_too(live: Gateway, emulator: EmulatorServer) -> None:
    with watching(live, "/namespaces/demo/vms/fedora/objectgraph") as events:
        _, graph = events.next()
        assert "kubevirt-gateway.io/missing" not in json.dumps(graph)
        emulator.cluster.delete("Secret", "demo", "ssh-key")
        _, graph = events.next()
        secret = next(c for c in graph["children"] if c["objectReference"]["name"] == "ssh-key")
        assert secret["labels"]["kubevirt-gateway.io/missing"] == "true"


def test_a_deleted_root_streams_its_status_and_returns_when_recreated(live: Gateway, emulator: EmulatorServer) -> None:
    with watching(live, "/namespaces/demo/vms/win11") as events:
        _, vm = events.next()
        emulator.cluster.delete("VirtualMachine", "demo", "win11")
        kind, status = events.next()
        assert kind == "status" and status["code"] == 404
        emulator.cluster.apply(vm | {"metadata": {k: v for k, v in vm["metadata"].items() if k != "resourceVersion"}})
        kind, back = events.next()
        assert kind == "document" and back["metadata"]["name"] == "win11"


def test_subscribers_are_bounded_and_released(live: Gateway) -> None:
    subscriptions = live.app.extensions["gateway_live"]
    with watching(live, "/namespaces/demo/vms/fedora") as a, watching(live, "/namespaces/demo/vms/rhel9") as b:
        a.next(), b.next()
        with watching(live, "/namespaces/demo/vms/win11") as c:
            c.next()
            refused = requests.get(live.url + "/namespaces/demo/vms/cirros", params={"watch": "true"}, timeout=10)
            assert refused.status_code == 429
            assert refused.json()["reason"] == "TooManyRequests" and "--max-subscribers" in refused.json()["message"]
    eventually(lambda: len(subscriptions) == 0, timeout=5)


def test_direct_mode_cannot_watch(emulator: EmulatorServer, tmp_path: Path) -> None:
    with serving(create_app(live_config(emulator.kubeconfig(tmp_path / "kc"), cache="none"))) as direct:
        response = direct.get("/namespaces/demo/vms/fedora", watch="true")
    assert response.status_code == 400 and "--cache none" in response.json()["message"]
