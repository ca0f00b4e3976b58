"""The server in front of the app, run as users run it: slow clients hold no thread, and even the
errors gunicorn answers itself are Kubernetes Status JSON."""

from __future__ import annotations

import json
import socket
import sys
import threading
import time
from pathlib import Path

import pytest
import requests

from gateway.server import BUFFERED_BODY, MAX_HEAD, head_complete
from tests.support.processes import running
from tests.support.waiting import free_port


def serve_command(port: int) -> list[str]:
    return [sys.executable, "-m", "gateway", "serve", "--demo", "--port", str(port)]


def wsgi_command(port: int) -> list[str]:
    return [str(Path(sys.executable).parent / "gunicorn"), "-c", "gunicorn.conf.py", "--bind", f"127.0.0.1:{port}",
            "wsgi:app"]  # fmt: skip


@pytest.mark.parametrize("command", [serve_command, wsgi_command])
def test_half_sent_requests_do_not_stall_the_probes(command: object) -> None:
    port = free_port()
    with running(command(port), port) as url:  # type: ignore[operator]
        stalled = []
        try:
            for _ in range(64):  # four times the threads, each sending half a request head
                client = socket.create_connection(("127.0.0.1", port))
                client.sendall(b"GET /namespaces/demo/vms HTTP/1.1\r\nHost: x\r\nAccept: appl")
                stalled.append(client)
            assert requests.get(url + "/healthz", timeout=1).status_code == 200
            page = requests.get(url + "/vms/fedora", params={"namespace": "demo"}, timeout=1)
            assert page.status_code == 200
            # one of them finishes its request late: it is answered as any other
            stalled[0].sendall(b"ication/json\r\nConnection: close\r\n\r\n")
            answer = b""
            while chunk := stalled[0].recv(65536):
                answer += chunk
            assert answer.startswith(b"HTTP/1.1 200") and b'"VirtualMachineList"' in answer
        finally:
            for client in stalled:
                client.close()


def test_errors_gunicorn_answers_itself_are_status_json() -> None:
    port = free_port()
    with running(serve_command(port), port) as url:
        long_line = requests.get(url + "/" + "a" * 9000, timeout=10)
        assert long_line.status_code == 414 and long_line.headers["Content-Type"] == "application/json"
        assert long_line.json()["kind"] == "Status" and long_line.json()["reason"] == "RequestURITooLong"
        with socket.create_connection(("127.0.0.1", port)) as client:
            client.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nNot a header\r\n\r\n")
            head, _, body = client.recv(65536).partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 400") and b"Content-Type: application/json" in head
        assert json.loads(body)["code"] == 400


def test_a_head_is_complete_with_its_small_body() -> None:
    head = b"POST /x HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\n"
    assert not head_complete(b"GET / HTTP/1.1\r\nHost: x\r\n")
    assert head_complete(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    assert not head_complete(head + b"abc")
    assert head_complete(head + b"abcde")
    assert head_complete(head.replace(b"5", str(BUFFERED_BODY + 1).encode()))  # the thread reads a big one
    assert head_complete(b"GET /" + b"a" * (MAX_HEAD + 1))  # the parser answers 414


def test_live_streams_hold_no_thread_so_probes_and_pages_answer_beside_many(tmp_path: Path) -> None:
    # Emulator: a watch cache to stream from, in the test's process; the gateway is `serve`, as users run it
    from tests.support.emulated import FAST, demo_cluster
    from tests.support.emulator.server import EmulatorServer

    with EmulatorServer(demo_cluster(), settings=FAST).start() as emulator:
        port = free_port()
        kubeconfig = emulator.kubeconfig(tmp_path / "kubeconfig")
        command = [*serve_command(port)[:-3], "--kube", "--auth", "none", "--port", str(port),
                   "--kubeconfig", kubeconfig, "--max-subscribers-per-caller", "64"]  # fmt: skip
        with running(command, port) as url:
            streams = []
            try:
                for _ in range(48):  # three times the threads the thread worker would have
                    stream = socket.create_connection(("127.0.0.1", port), timeout=10)
                    stream.sendall(b"GET /namespaces/demo/vms/fedora?watch=true HTTP/1.0\r\nHost: x\r\n\r\n")
                    streams.append(stream)
                    received = b""
                    while b"event: document" not in received and (chunk := stream.recv(65536)):
                        received += chunk
                    assert received.startswith(b"HTTP/1.0 200") and b"event: document" in received, "each opens"
                assert requests.get(url + "/healthz", timeout=2).status_code == 200
                page = requests.get(url + "/namespaces/demo/vms/fedora", params={"follow": "vmi"}, timeout=2)
                assert page.status_code == 200 and page.json()["vmi"]["kind"] == "VirtualMachineInstance"
            finally:
                for stream in streams:
                    stream.close()


def test_probes_answer_while_a_first_application_graph_of_many_vms_is_built(tmp_path: Path) -> None:
    """The first graph of 1,500 VMs builds its pieces for a second or more on one greenlet; it
    gives way between pieces, so the probe is answered all along. Counted: probes answered in the
    second half of the graph's request (a worker held until the graph is done answers none there)."""
    from tests.support.emulated import FAST
    from tests.support.emulator.cluster import Cluster
    from tests.support.emulator.server import EmulatorServer
    from tests.support.synthetic import synthetic_cluster

    cluster = Cluster()
    cluster.load(synthetic_cluster(1500))
    with EmulatorServer(cluster, settings=FAST).start() as emulator:
        port = free_port()
        command = [*serve_command(port)[:-3], "--kube", "--auth", "none", "--port", str(port),
                   "--kubeconfig", emulator.kubeconfig(tmp_path / "kubeconfig"), "--api-timeout", "60"]  # fmt: skip
        with running(command, port) as url:
            for warm in (
                "/namespaces/bench/vms/vm-00000/objectgraph",
                "/namespaces/bench/vms/vm-00000?follow=services",
            ):
                assert requests.get(url + warm, timeout=60).status_code == 200  # every kind listed and watched
            span: list[float] = []

            def build() -> None:
                span.append(time.monotonic())
                answer = requests.get(url + "/namespaces/bench/graph", timeout=120)
                assert answer.status_code == 200 and len(answer.json()["resources"]) == 1501
                span.append(time.monotonic())

            graph = threading.Thread(target=build)
            graph.start()
            answered: list[float] = []
            while graph.is_alive():
                assert requests.get(url + "/healthz", timeout=30).status_code == 200
                answered.append(time.monotonic())
            graph.join()
            assert len(span) == 2, "the graph was answered"
            second_half = (span[0] + span[1]) / 2
            assert len([t for t in answered if second_half <= t < span[1]]) >= 5, answered


def test_the_thread_worker_is_still_there_to_choose() -> None:
    port = free_port()
    with running([*serve_command(port), "--server", "threads"], port) as url:
        assert requests.get(url + "/vms/fedora", params={"namespace": "demo"}, timeout=5).status_code == 200


@pytest.mark.parametrize(
    ("argv", "greenlets"),
    [([], True), (["--demo"], True), (["serve", "--port", "8080"], True), (["serve", "--server", "threads"], False),
     (["--server=threads"], False), (["--server", "gevent"], True), (["get", "vm", "x"], False),
     (["openapi"], False), (["graph", "vm", "x"], False)],
)  # fmt: skip
def test_only_serving_with_gevent_patches_the_process_first(argv: list[str], greenlets: bool) -> None:
    from gateway.__main__ import serves_with_greenlets

    assert serves_with_greenlets(argv) is greenlets
