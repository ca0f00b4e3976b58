"""Live streams open only after the plain GET's checks, are capped per caller, re-authorized while
they run, and let go of clients that went away."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from gateway.app import create_app
from gateway.catalog import CATALOG
from gateway.store.snapshot import demo_objects
from tests.support.emulated import FAST
from tests.support.emulator.cluster import Cluster
from tests.support.emulator.rbac import ADMIN, Rbac, Rule
from tests.support.emulator.server import EmulatorServer
from tests.support.gateway import Gateway, live_config, serving
from tests.support.sse import Events
from tests.support.waiting import eventually

ALICE = Rule(frozenset({"alice"}), namespaces=frozenset({"demo"}))
TOKENS = {"emulator-admin": ("admin", ()), "alice-token": ("alice", ()), "bob-token": ("bob", ())}
BOB = Rule(frozenset({"bob"}), resources=frozenset({"virtualmachines"}), namespaces=frozenset({"demo"}))


@pytest.fixture
def cluster() -> Cluster:
    cluster = Cluster(rbac=Rbac(tokens=dict(TOKENS), rules=[ADMIN, ALICE, BOB]))
    cluster.load(obj for _, obj in demo_objects(CATALOG))
    return cluster


def streaming(cluster: Cluster, tmp_path: Path, heartbeat: float, recheck: float) -> Iterator[Gateway]:
    """Emulator: its RBAC table changes at once, mid-stream, without waiting for an informer."""
    with EmulatorServer(cluster, settings=FAST).start() as emulator:
        config = live_config(emulator.kubeconfig(tmp_path / "kc"), auth="kubernetes", heartbeat_seconds=heartbeat,
                             auth_cache_seconds=recheck, max_subscribers=6, max_subscribers_per_caller=2)  # fmt: skip
        app = create_app(config)
        with serving(app) as served:
            yield served
        app.extensions["gateway"].close()


@pytest.fixture
def gateway(cluster: Cluster, tmp_path: Path) -> Iterator[Gateway]:
    yield from streaming(cluster, tmp_path, heartbeat=0.2, recheck=0.5)


def stream(gateway: Gateway, token: str | None, path: str, **params: str) -> requests.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return requests.get(gateway.url + path, params={**params, "watch": "true"}, headers=headers, stream=True,
                        timeout=30)  # fmt: skip


def open_streams(gateway: Gateway) -> int:
    return len(gateway.app.extensions["gateway_live"])


@pytest.mark.parametrize(
    ("token", "path", "code"),
    [
        (None, "/namespaces/demo/vms/fedora", 401),
        ("bob-token", "/namespaces/demo/pvcs/fedora-root", 403),
        ("bob-token", "/namespaces/demo/vms/nonexistent", 404),
        ("alice-token", "/namespaces/demo/vms", 200),
        (None, "/healthz", 400),
        (None, "/readyz", 400),
        (None, "/metrics", 400),
        (None, "/catalog", 400),
        (None, "/", 400),
    ],
)
def test_a_stream_opens_only_where_the_plain_get_answers_200(
    gateway: Gateway, token: str | None, path: str, code: int
) -> None:
    response = stream(gateway, token, path)
    try:
        assert response.status_code == code, response.text
        if code == 200:
            assert response.headers["Content-Type"].startswith("text/event-stream")
        else:
            assert response.headers["Content-Type"] == "application/json"
            assert response.json()["kind"] == "Status"
    finally:
        response.close()
    eventually(lambda: open_streams(gateway) == 0)


def test_each_caller_has_a_cap_of_their_own(gateway: Gateway) -> None:
    mine = [stream(gateway, "alice-token", f"/namespaces/demo/vms/{vm}") for vm in ("fedora", "rhel9")]
    try:
        assert [r.status_code for r in mine] == [200, 200]
        third = stream(gateway, "alice-token", "/namespaces/demo/vms/win11")
        assert third.status_code == 429 and "--max-subscribers-per-caller" in third.json()["message"]
        bobs = stream(gateway, "bob-token", "/namespaces/demo/vms/fedora")
        assert bobs.status_code == 200  # alice's streams do not take bob's place
        bobs.close()
    finally:
        for response in mine:
            response.close()


def test_a_stream_is_closed_with_a_status_event_when_access_is_revoked(gateway: Gateway, cluster: Cluster) -> None:
    response = stream(gateway, "alice-token", "/namespaces/demo/vms/fedora", follow="volumes.pvc")
    assert response.status_code == 200
    events = Events(response)
    kind, first = events.next()
    assert kind == "document" and first["metadata"]["name"] == "fedora"
    cluster.rbac.rules.remove(ALICE)
    kind, last = events.next(timeout=10)
    assert kind == "status" and last["code"] == 403
    eventually(lambda: open_streams(gateway) == 0)
    response.close()


def test_a_client_that_went_away_is_let_go_at_the_next_heartbeat(gateway: Gateway) -> None:
    host, port = gateway.url.removeprefix("http://").split(":")
    client = socket.create_connection((host, int(port)))
    client.sendall(b"GET /namespaces/demo/vms/fedora?watch=true HTTP/1.1\r\nHost: x\r\n"
                   b"Authorization: Bearer alice-token\r\n\r\n")  # fmt: skip
    assert b"200" in client.recv(64)
    eventually(lambda: open_streams(gateway) == 1)
    client.close()  # no more reads, no more writes: gone
    eventually(lambda: open_streams(gateway) == 0, timeout=5)


def test_every_line_of_a_document_is_a_data_line(gateway: Gateway) -> None:
    plain = requests.get(gateway.url + "/namespaces/demo/graph", params={"format": "dot"},
                         headers={"Authorization": "Bearer alice-token"}, timeout=30)  # fmt: skip
    assert plain.status_code == 200 and plain.text.count("\n") > 5
    response = stream(gateway, "alice-token", "/namespaces/demo/graph", format="dot")
    try:
        kind, dot = Events(response).next()
        assert kind == "document" and dot == plain.text
    finally:
        response.close()


@pytest.fixture
def slow_heartbeat(cluster: Cluster, tmp_path: Path) -> Iterator[Gateway]:
    """The defaults' order: the caller's access is checked again (here 0.3 s) more often than a
    heartbeat is due (here 1 s), and an unchanged document writes nothing."""
    yield from streaming(cluster, tmp_path, heartbeat=1.0, recheck=0.3)


def raw_stream(gateway: Gateway, path: str, token: str) -> socket.socket:
    host, port = gateway.url.removeprefix("http://").split(":")
    client = socket.create_connection((host, int(port)))
    client.sendall(f"GET {path}?watch=true HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\n\r\n".encode())
    assert b"200" in client.recv(64)
    return client


def test_clients_gone_free_their_slots_within_a_heartbeat_though_access_checks_come_first(
    slow_heartbeat: Gateway,
) -> None:
    clients = [raw_stream(slow_heartbeat, f"/namespaces/demo/vms/{vm}", "alice-token") for vm in ("fedora", "rhel9")]
    eventually(lambda: open_streams(slow_heartbeat) == 2)
    for client in clients:
        client.close()
    eventually(lambda: open_streams(slow_heartbeat) == 0, timeout=5)  # the caller's cap is theirs again
    again = stream(slow_heartbeat, "alice-token", "/namespaces/demo/vms/win11")
    assert again.status_code == 200
    again.close()


def metric(gateway: Gateway, name: str, **labels: str) -> float:
    families = text_string_to_metric_families(gateway.get("/metrics").text)
    return sum(s.value for f in families for s in f.samples
               if s.name == name and all(s.labels.get(k) == v for k, v in labels.items()))  # fmt: skip


def test_each_rebuild_of_a_stream_reads_afresh_and_keeps_nothing_of_the_last(
    gateway: Gateway, cluster: Cluster
) -> None:
    """A stream rebuilds its document on each change; each build has its own request state, so each
    costs the reads of one plain GET, and what earlier builds read does not pile up in the next."""
    path, route = "/namespaces/demo/vms/fedora", "/namespaces/<namespace>/<collection>/<name>"
    plain = requests.get(gateway.url + path, params={"follow": "volumes.pvc,vmi.pod"}, timeout=30,
                         headers={"Authorization": "Bearer alice-token"})  # fmt: skip
    per_build = Gateway.reads(plain)
    assert plain.status_code == 200 and per_build > 1
    builds = metric(gateway, "gateway_request_seconds_count", route=route)
    reads = metric(gateway, "gateway_store_reads_total")
    response = stream(gateway, "alice-token", path, follow="volumes.pvc,vmi.pod")
    try:
        events = Events(response)
        assert events.next()[0] == "document"
        vmis = next(r for r in cluster.resources if r.kind == "VirtualMachineInstance")
        for step in range(4):  # each change drops the remembered page: the rebuild reads for real
            vmi = cluster.get(vmis, "demo", "fedora")
            assert vmi is not None
            cluster.apply({**vmi, "status": {**vmi["status"], "guestOSInfo": {"id": f"step-{step}"}}})
            while events.next()[1]["vmi"]["status"].get("guestOSInfo") != {"id": f"step-{step}"}:
                pass
    finally:
        response.close()
    eventually(lambda: open_streams(gateway) == 0)
    built = metric(gateway, "gateway_request_seconds_count", route=route) - builds
    assert built >= 5 and metric(gateway, "gateway_store_reads_total") - reads <= built * per_build
