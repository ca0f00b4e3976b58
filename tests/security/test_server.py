"""The server in front of the app, run as users run it: slow clients hold no thread, nor a connection
for long, one address holds a bounded number of connections, and even the errors gunicorn answers
itself are Kubernetes Status JSON."""

from __future__ import annotations

import contextlib
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


def threads_command(port: int) -> list[str]:
    return [*serve_command(port), "--server", "threads"]


def with_settings(command: list[str], **settings: object) -> tuple[list[str], dict[str, str]]:
    """`command` with the gateway's settings: as flags for `serve`, as variables for wsgi.py."""
    if command[0].endswith("gunicorn"):
        return command, {f"KUBEVIRT_GATEWAY_{name.upper()}": str(value) for name, value in settings.items()}
    return [*command, *(f"--{name.replace('_', '-')}={value}" for name, value in settings.items())], {}


def connect(port: int, source: str = "127.0.0.1") -> socket.socket:
    """A connection from `source` (any 127.0.0.0/8 address is this machine's: another caller's address)."""
    client = socket.socket()
    client.bind((source, 0))
    client.connect(("127.0.0.1", port))
    client.settimeout(30)  # bounds every wait for an answer
    return client


def until_closed(client: socket.socket) -> bytes:
    """All the gateway sends until it closes the connection."""
    answer = b""
    while chunk := client.recv(65536):
        answer += chunk
    return answer


def post_head(path: str, token: str | None = None, length: int = 100, close: bool = False) -> bytes:
    """A POST's head announcing a JSON body of `length` bytes, and not the body."""
    head = f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {length}\r\n"
    head += f"Authorization: Bearer {token}\r\n" if token else ""
    head += "Connection: close\r\n" if close else ""
    return (head + "\r\n").encode()


FEDORA_GRAPH = "/namespaces/demo/vms/fedora/objectgraph"


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


@pytest.mark.parametrize("command", [serve_command, wsgi_command, threads_command])
def test_bodies_that_never_arrive_are_answered_408_and_the_probes_answer_meanwhile(command: object) -> None:
    """200 connections send a valid request's head, `Content-Length: 100`, and no body. Probes answer
    while they wait; each is answered 408 and closed (before, gevent waited for the body for ever)."""
    port = free_port()
    argv, env = with_settings(command(port), client_timeout=3)  # type: ignore[operator]
    with running(argv, port, env) as url:
        waiting = []
        try:
            for _ in range(200):
                client = connect(port)
                client.sendall(post_head(FEDORA_GRAPH))
                waiting.append(client)
            assert requests.get(url + "/healthz", timeout=5).status_code == 200
            assert requests.get(url + "/readyz", timeout=5).status_code == 200
            answers = [until_closed(client) for client in waiting]
        finally:
            for client in waiting:
                client.close()
    heads = {answer.split(b"\r\n", 1)[0] for answer in answers}
    assert len(answers) == 200 and {h.split(b" ")[1] for h in heads} == {b"408"}, heads
    _, _, body = answers[0].partition(b"\r\n\r\n")
    assert json.loads(body)["kind"] == "Status" and "--client-timeout" in json.loads(body)["message"]


@pytest.mark.parametrize("command", [serve_command, threads_command])
def test_a_body_sent_a_little_at_a_time_has_the_same_bound_in_all(command: object) -> None:
    """A chunk every 0.2 s never leaves the gateway waiting long, but the body as a whole has
    --client-timeout: it is answered 408 while chunks are still coming (a chunked body is read by
    the thread with `--server threads`)."""
    port = free_port()
    argv, env = with_settings(command(port), client_timeout=3)  # type: ignore[operator]
    with running(argv, port, env), connect(port) as client:
        client.sendall(post_head(FEDORA_GRAPH).replace(b"Content-Length: 100", b"Transfer-Encoding: chunked"))
        sent, answered = [], threading.Event()

        def trickle() -> None:
            while len(sent) < 150 and not answered.wait(0.2):  # 30 s of chunks at most
                with contextlib.suppress(OSError):
                    client.sendall(b"1\r\n \r\n")
                sent.append(1)

        sender = threading.Thread(target=trickle)
        sender.start()
        try:
            answer = until_closed(client)
        finally:
            answered.set()
            sender.join()
    assert answer.startswith(b"HTTP/1.1 408 ") and len(sent) < 150, (answer[:100], len(sent))


@pytest.mark.parametrize("command", [serve_command, wsgi_command, threads_command])
def test_one_address_holds_at_most_its_cap_of_connections(command: object) -> None:
    """Before a request is read, its peer address is all that tells callers apart: 127.0.0.2 holds
    its 32 connections, its next ones are answered 429 at once, another address is served, and the
    slots come back as the connections close."""
    port = free_port()
    argv, env = with_settings(command(port), max_connections_per_address=32, client_timeout=3)  # type: ignore[operator]
    with running(argv, port, env) as url:
        held = []
        try:
            for _ in range(32):
                client = connect(port, "127.0.0.2")
                client.sendall(post_head(FEDORA_GRAPH))
                held.append(client)
            refused = []
            for _ in range(8):  # they send nothing: the answer comes before any request
                with connect(port, "127.0.0.2") as client:
                    refused.append(until_closed(client))
            assert requests.get(url + "/healthz", timeout=5).status_code == 200  # from 127.0.0.1
            released = [until_closed(client) for client in held]
        finally:
            for client in held:
                client.close()
        assert all(answer.startswith(b"HTTP/1.1 429 ") for answer in refused), refused
        status = json.loads(refused[0].partition(b"\r\n\r\n")[2])
        assert status["reason"] == "TooManyRequests" and "--max-connections-per-address" in status["message"]
        assert all(answer.startswith(b"HTTP/1.1 408 ") for answer in released)
        with connect(port, "127.0.0.2") as client:
            client.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            assert until_closed(client).startswith(b"HTTP/1.1 200 ")


def test_access_is_decided_before_a_body_is_read(tmp_path: Path) -> None:
    """An objectgraph POST is answered 401, 403, 400 or 404 without its body (with a --client-timeout
    far longer than this test waits for an answer), and the connection closed rather than kept for
    the body; a caller who may see the VM is waited for, then answered."""
    from gateway.catalog import CATALOG
    from gateway.store.snapshot import demo_objects
    from tests.support.emulated import FAST
    from tests.support.emulator.cluster import Cluster
    from tests.support.emulator.rbac import ADMIN, Rbac, Rule
    from tests.support.emulator.server import EmulatorServer

    tokens = {"emulator-admin": ("admin", ()), "alice-token": ("alice", ()), "carol-token": ("carol", ())}
    alice = Rule(frozenset({"alice"}), namespaces=frozenset({"demo"}))
    cluster = Cluster(rbac=Rbac(tokens=dict(tokens), rules=[ADMIN, alice]))
    cluster.load(obj for _, obj in demo_objects(CATALOG))
    with EmulatorServer(cluster, settings=FAST).start() as emulator:
        port = free_port()
        command = [*serve_command(port)[:-3], "--kube", "--auth", "kubernetes", "--port", str(port),
                   "--kubeconfig", emulator.kubeconfig(tmp_path / "kubeconfig"), "--client-timeout", "600"]  # fmt: skip
        with running(command, port) as url:
            for token, path, code in [
                (None, FEDORA_GRAPH, 401),
                ("not-a-token", FEDORA_GRAPH, 401),
                ("carol-token", FEDORA_GRAPH, 403),  # may not get the VM
                ("alice-token", "/namespaces/demo/vms/nonexistent/objectgraph", 404),
                ("alice-token", "/namespaces/Demo/vms/fedora/objectgraph", 400),
            ]:
                with connect(port) as client:
                    client.sendall(post_head(path, token))
                    head, _, body = until_closed(client).partition(b"\r\n\r\n")
                assert head.startswith(f"HTTP/1.1 {code} ".encode()) and b"Connection: close" in head, (path, head)
                assert json.loads(body)["code"] == code
            options = b'{"includeOptionalNodes": false}'
            with connect(port) as client:
                client.sendall(post_head(FEDORA_GRAPH, "alice-token", len(options), close=True))
                client.sendall(options)  # after its head, as a client would
                head, _, body = until_closed(client).partition(b"\r\n\r\n")
            assert head.startswith(b"HTTP/1.1 200 ") and json.loads(body)["objectReference"]["name"] == "fedora"
            assert requests.get(url + "/healthz", timeout=5).status_code == 200


def test_a_half_sent_request_behind_a_whole_one_holds_no_thread() -> None:
    """gthread gives a kept-alive connection straight to a thread when the client sent more behind its
    last request: 24 clients sending a request and half of the next would hold all 16 threads."""
    port = free_port()
    with running(threads_command(port), port) as url:
        clients = []
        try:
            for _ in range(24):
                client = connect(port)
                client.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\nGET /namespaces/demo/vms HTTP/1.1\r\nAcc")
                received = b""
                while b"\r\n\r\n" not in received:
                    received += client.recv(65536)
                assert received.startswith(b"HTTP/1.1 200 ")  # the first is answered as any other
                clients.append(client)
            assert requests.get(url + "/healthz", timeout=5).status_code == 200
            clients[0].sendall(b"ept: application/json\r\nHost: x\r\nConnection: close\r\n\r\n")
            assert b'"VirtualMachineList"' in until_closed(clients[0])
        finally:
            for client in clients:
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
    """The first graph of 1,500 VMs builds its pieces batch by batch on one greenlet; it gives way
    between batches, so the probe is answered all along. Counted: probes (sent one after another)
    answered while the graph's request was going on (a worker held until the graph is done answers
    at most the one that came first)."""
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
            assert len([t for t in answered if span[0] < t < span[1]]) >= 5, (span, answered)


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


@pytest.mark.parametrize("command", [serve_command, threads_command])
def test_an_answer_given_before_the_body_is_read_ends_cleanly(command: object) -> None:
    """A 404 answered without reading the body (a GET's) that the client had begun to send: the
    gateway half-closes and takes in what still comes for a moment, so the client reads the answer and
    an end. Closed at once with unread bytes, the socket is reset and the client's read fails."""
    port = free_port()
    with running(command(port), port), connect(port) as client:  # type: ignore[operator]
        head = post_head("/namespaces/demo/vms/nonexistent", length=BUFFERED_BODY * 4).replace(b"POST", b"GET")
        client.sendall(head + b" " * 65536)
        time.sleep(0.3)  # answered and closed by now, or lingering
        head, _, body = until_closed(client).partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 404 "), head
    assert json.loads(body)["code"] == 404
