"""The fast path (gateway/api/fastpath.py): a remembered answer replayed before Flask is the full path's
answer byte for byte, counted in /metrics and the access log, and only ever to a caller whose access
it was built on still holds, while it is still remembered and no watch behind it fails."""

from __future__ import annotations

import copy
import http.client
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from gateway.app import create_app
from gateway.catalog import CATALOG
from gateway.config import Config
from gateway.documents.apigroup import PREFIX
from gateway.store.snapshot import demo_objects
from tests.support.emulated import FAST
from tests.support.emulator.cluster import Cluster
from tests.support.emulator.rbac import ADMIN, Rbac, Rule
from tests.support.emulator.server import EmulatorServer
from tests.support.gateway import Gateway, live_config, serving
from tests.support.processes import running
from tests.support.waiting import eventually, free_port

ORIGIN = "https://console.example"
PAGE = "/namespaces/demo/vms/fedora?follow=volumes.pvc,vmi.pod"
ROUTE = 'route="/namespaces/<namespace>/<collection>/<name>"'
# the server's own headers, which differ between any two responses
SERVER_HEADERS = frozenset({"date", "server"})

Answer = tuple[int, list[tuple[str, str]], bytes]


def fetch(url: str, path: str, headers: dict[str, str] | None = None) -> Answer:
    """Status, headers in the order sent (the server's own left out) and the body's bytes as sent."""
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=30)
    try:
        connection.request("GET", path, headers=headers or {})
        response = connection.getresponse()
        kept = [(k, v) for k, v in response.getheaders() if k.lower() not in SERVER_HEADERS]
        return response.status, kept, response.read()
    finally:
        connection.close()


def header(answer: Answer, name: str) -> str | None:
    return next((v for k, v in answer[1] if k.lower() == name.lower()), None)


def metric(url: str, line_start: str) -> float:
    """The value of the first /metrics sample whose line starts with `line_start` (0 when absent)."""
    text = fetch(url, "/metrics")[2].decode()
    return next((float(line.rsplit(" ", 1)[1]) for line in text.splitlines() if line.startswith(line_start)), 0.0)


def fast_answers(url: str) -> float:
    return metric(url, "gateway_fast_path_answers_total")


def served_fast(url: str, path: str, headers: dict[str, str] | None = None) -> tuple[Answer, bool]:
    """The answer, and whether the fast path gave it (its counter went up by one)."""
    before = fast_answers(url)
    answer = fetch(url, path, headers)
    return answer, fast_answers(url) == before + 1


def warm(url: str, path: str, headers: dict[str, str] | None = None) -> None:
    """Until the answer is remembered and served from memory once (through Flask, which keeps its replay)."""
    eventually(lambda: header(fetch(url, path, headers), "X-Gateway-Cache") == "hit")


@pytest.fixture(scope="module")
def demo_fast() -> Iterator[Gateway]:
    with serving(create_app(Config(demo=True, cors_origin=(ORIGIN,), extra={"TESTING": True}))) as gateway:
        yield gateway


@pytest.fixture(scope="module")
def demo_flask() -> Iterator[Gateway]:
    """The same gateway with the fast path off: every request through Flask."""
    config = Config(demo=True, cors_origin=(ORIGIN,), extra={"TESTING": True, "GATEWAY_FAST_PATH": False})
    with serving(create_app(config)) as gateway:
        yield gateway


CASES = {
    "plain": {},
    "gzip": {"Accept-Encoding": "gzip"},
    "br": {"Accept-Encoding": "br, gzip;q=0.5"},
    "zstd": {"Accept-Encoding": "zstd"},
    "cors": {"Origin": ORIGIN},
    "cors, gzip": {"Origin": ORIGIN, "Accept-Encoding": "gzip"},
    "an origin not allowed": {"Origin": "https://elsewhere.example"},
    "accept": {"Accept": "application/json"},
}


@pytest.mark.parametrize("case", list(CASES))
def test_a_replayed_answer_is_the_full_paths_byte_for_byte(demo_fast: Gateway, demo_flask: Gateway, case: str) -> None:
    headers = CASES[case]
    warm(demo_fast.url, PAGE, headers)
    fetch(demo_flask.url, PAGE, headers)
    through_flask = fetch(demo_flask.url, PAGE, headers)
    assert header(through_flask, "X-Gateway-Cache") == "hit"
    fast, was_fast = served_fast(demo_fast.url, PAGE, headers)
    assert was_fast
    assert fast == through_flask
    if "Origin" in headers and headers["Origin"] == ORIGIN:
        assert header(fast, "Access-Control-Allow-Origin") == ORIGIN
    if headers.get("Accept-Encoding") == "gzip":
        assert header(fast, "Content-Encoding") == "gzip"


def test_a_conditional_request_is_the_full_paths_304(demo_fast: Gateway, demo_flask: Gateway) -> None:
    plain = fetch(demo_flask.url, PAGE)
    zipped = fetch(demo_flask.url, PAGE, {"Accept-Encoding": "gzip"})
    for headers in (
        {"If-None-Match": header(plain, "ETag") or ""},
        {"If-None-Match": header(zipped, "ETag") or "", "Accept-Encoding": "gzip"},
        {"If-None-Match": '"another", ' + (header(plain, "ETag") or "")},
        {"If-None-Match": '"not-it"'},
    ):
        warm(demo_fast.url, PAGE, headers)
        through_flask = fetch(demo_flask.url, PAGE, headers)
        fast, was_fast = served_fast(demo_fast.url, PAGE, headers)
        assert was_fast and fast == through_flask
        assert fast[0] == (200 if headers["If-None-Match"] == '"not-it"' else 304)


def test_a_page_under_the_api_groups_prefix_is_replayed_with_its_hrefs(demo_fast: Gateway, demo_flask: Gateway) -> None:
    """The same answer is remembered once; the bytes sent carry the prefix the request came in on."""
    prefixed = PREFIX + PAGE
    for path in (PAGE, prefixed):
        warm(demo_fast.url, path)
        fetch(demo_flask.url, path)
    fast, was_fast = served_fast(demo_fast.url, prefixed)
    assert was_fast and fast == fetch(demo_flask.url, prefixed)
    assert f'"href":"{PREFIX}/namespaces/demo/'.encode() in fast[2]
    plain, was_fast = served_fast(demo_fast.url, PAGE)
    assert was_fast and b'"href":"/namespaces/demo/' in plain[2] and PREFIX.encode() not in plain[2]


def test_fast_answers_are_counted_under_the_full_paths_labels(demo_fast: Gateway) -> None:
    path = "/namespaces/demo/vms/rhel9?follow=vmi"
    count = f'gateway_request_seconds_count{{code="200",method="GET",{ROUTE}}}'
    warm(demo_fast.url, path)
    before = metric(demo_fast.url, count)
    for _ in range(3):
        assert served_fast(demo_fast.url, path)[1]
    assert metric(demo_fast.url, count) == before + 3


def test_a_get_with_a_body_is_never_replayed(demo_fast: Gateway) -> None:
    path = "/namespaces/demo/vms/win11/objectgraph"
    warm(demo_fast.url, path)
    before = fast_answers(demo_fast.url)
    parts = urlsplit(demo_fast.url)
    connection = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=30)
    body = b'{"labelSelector": {"matchLabels": {"kubevirt.io/dependency-type": "storage"}}}'
    connection.request("GET", path, body=body, headers={"Content-Type": "application/json"})
    storage_only = connection.getresponse().read()
    connection.close()
    assert storage_only != fetch(demo_fast.url, path)[2]
    assert fast_answers(demo_fast.url) == before + 1  # only the plain GET after it


# --- callers, changes and failing watches: the emulator, whose RBAC, objects and faults a test changes


ALICE = Rule(frozenset({"alice"}), namespaces=frozenset({"demo"}))
# may read VMs and DataVolumes in demo, not the PVCs a page embeds
DV_READER = Rule(frozenset({"dv"}), resources=frozenset({"virtualmachines", "datavolumes"}),
                 namespaces=frozenset({"demo"}))  # fmt: skip
TOKENS = {"emulator-admin": ("admin", ()), "alice-token": ("alice", ()), "dv-token": ("dv", ())}


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture(scope="module")
def cluster() -> Cluster:
    cluster = Cluster(rbac=Rbac(tokens=dict(TOKENS), rules=[ADMIN, ALICE, DV_READER]))
    cluster.load(copy.deepcopy(obj) for _, obj in demo_objects(CATALOG))
    return cluster


@pytest.fixture(scope="module")
def emulator(cluster: Cluster) -> Iterator[EmulatorServer]:
    with EmulatorServer(cluster, settings=FAST).start() as server:
        yield server


def live_gateway(emulator: EmulatorServer, directory: Path, **settings: Any) -> Iterator[Gateway]:
    app = create_app(live_config(emulator.kubeconfig(directory / "kc"), **settings))
    with serving(app) as gateway:
        yield gateway
    app.extensions["gateway"].close()


@pytest.fixture(scope="module")
def authorized(emulator: EmulatorServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    """--auth kubernetes over the watch cache; access decisions remembered for half a second."""
    yield from live_gateway(emulator, tmp_path_factory.mktemp("auth"), auth="kubernetes", auth_cache_seconds=0.5)


def test_a_replay_is_only_its_callers_and_only_while_their_access_holds(authorized: Gateway, cluster: Cluster) -> None:
    url, page = authorized.url, "/namespaces/demo/vms/fedora?follow=volumes.pvc"
    warm(url, page, bearer("alice-token"))
    alices, was_fast = served_fast(url, page, bearer("alice-token"))
    assert was_fast and alices[0] == 200
    # another caller, on the same path with the same headers otherwise: their own answer, built for them
    theirs, was_fast = served_fast(url, page, bearer("dv-token"))
    assert not was_fast and theirs[0] == 200 and theirs[2] != alices[2]
    assert b'"Forbidden"' in theirs[2] and b'"Forbidden"' not in alices[2]
    for headers in ({}, bearer("forged-token")):
        refused, was_fast = served_fast(url, page, headers)
        assert refused[0] == 401 and not was_fast
    # alice's access taken away: the replay goes with it once her remembered decisions expire
    cluster.rbac.rules.remove(ALICE)
    try:
        eventually(lambda: fetch(url, page, bearer("alice-token"))[0] == 403)
    finally:
        cluster.rbac.rules.append(ALICE)


@pytest.fixture(scope="module")
def watched(emulator: EmulatorServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    yield from live_gateway(emulator, tmp_path_factory.mktemp("watched"))


def test_a_change_to_what_an_answer_read_ends_its_replay(watched: Gateway, cluster: Cluster) -> None:
    url, page = watched.url, "/namespaces/demo/vms/fedora?follow=volumes.pvc"
    warm(url, page)
    assert served_fast(url, page)[1]
    pvc = cluster.get(cluster.resource_of({"apiVersion": "v1", "kind": "PersistentVolumeClaim"}), "demo", "fedora-root")
    assert pvc is not None
    pvc["metadata"].setdefault("labels", {})["replayed"] = "no"
    cluster.apply(pvc)
    eventually(lambda: b'"replayed":"no"' in fetch(url, page)[2])


def test_an_answer_from_a_failing_watch_carries_its_warning(watched: Gateway, cluster: Cluster) -> None:
    url, page = watched.url, "/namespaces/demo/vms/rhel9?follow=vmi"
    warm(url, page)
    assert served_fast(url, page)[1]
    cluster.faults.fail_paths, cluster.faults.fail_next = "virtualmachines", 10**6
    try:
        cluster.drop_watches()
        # the VMIs' watch, dropped too, may be reported first while it opens again: wait for the VMs'
        stale = eventually(
            lambda: a if "VirtualMachine may be stale" in (header(a := fetch(url, page), "Warning") or "") else None
        )
        assert header(stale, "X-Gateway-Cache") == "hit"  # still from memory, through Flask
        assert not served_fast(url, page)[1]
    finally:
        cluster.faults.fail_next = 0


def test_fast_answers_are_in_gunicorns_access_log(tmp_path: Path) -> None:
    """The access log is gunicorn's, written around the app and so around the fast path."""
    port, log = free_port(), tmp_path / "access.log"
    gunicorn = str(Path(sys.executable).parent / "gunicorn")
    command = [gunicorn, "-c", "gunicorn.conf.py", "--bind", f"127.0.0.1:{port}", "--access-logfile", str(log)]
    command.append("wsgi:app")
    with running(command, port, {"KUBEVIRT_GATEWAY_DEMO": "true"}) as url:
        assert fetch(url, PAGE)[0] == 200  # built, and remembered (the demo's snapshot)
        assert header(fetch(url, PAGE), "X-Gateway-Cache") == "hit"  # through Flask: its replay kept
        for _ in range(2):
            assert served_fast(url, PAGE)[1]
    logged = [line for line in log.read_text().splitlines() if re.search(r'"GET /namespaces/demo/vms/fedora\?', line)]
    assert len(logged) == 4 and all('" 200 ' in line for line in logged)
