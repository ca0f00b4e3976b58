"""Secret contents never leave the gateway: not in a body, a header, or a log line, on any endpoint."""

from __future__ import annotations

import base64
import copy
import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from gateway.app import create_app
from gateway.catalog import CATALOG
from gateway.config import Config
from gateway.store.snapshot import SnapshotStore, demo_objects
from tests.support.emulated import FAST
from tests.support.emulator.cluster import Cluster
from tests.support.emulator.server import EmulatorServer
from tests.support.gateway import Gateway, live_config, serving

MARKER = "s3cr3t-MARKER-7f1c"
FORMS = (MARKER, base64.b64encode(MARKER.encode()).decode().rstrip("="), base64.b64encode(MARKER.encode()).decode())


def with_marked_secrets() -> list[dict[str, Any]]:
    objects = []
    for _, obj in demo_objects(CATALOG):
        obj = copy.deepcopy(obj)
        if obj["kind"] == "Secret":
            obj["data"] = {**(obj.get("data") or {}), "marked": base64.b64encode(MARKER.encode()).decode()}
            obj["stringData"] = {"plain": MARKER}
            applied = json.dumps({"kind": "Secret", "stringData": {"plain": MARKER}})
            obj["metadata"].setdefault("annotations", {})["kubectl.kubernetes.io/last-applied-configuration"] = applied
        objects.append(obj)
    return objects


def requests_to_make(gateway: Gateway) -> Iterator[tuple[str, str, dict[str, str]]]:
    yield "GET", "/", {}
    yield "GET", "/catalog", {}
    yield "GET", "/metrics", {}
    for kind in CATALOG.collections():
        yield "GET", f"/{kind.collection}", {"follow": "*.*"}
        for item in gateway.json(f"/{kind.collection}")["items"]:
            yield "GET", item["href"], {"follow": "*"}
            for link in item["links"].values():
                yield "GET", link["href"], {}
    for name in ("fedora", "rhel9", "win11", "cirros"):
        yield "GET", f"/namespaces/demo/vms/{name}/objectgraph", {}
        yield "POST", f"/namespaces/demo/vms/{name}/objectgraph", {"format": "flat"}
    yield "GET", "/namespaces/demo/graph", {}
    yield "GET", "/namespaces/demo/graph", {"format": "dot"}
    yield "GET", "/namespaces/demo/secrets/nope", {}  # errors too
    yield "GET", "/namespaces/demo/secrets/ssh-key", {"follow": "vms.*.*"}
    yield "GET", "/namespaces/demo/secrets", {"follow": "nope"}


def assert_no_marker(gateway: Gateway, caplog: pytest.LogCaptureFixture) -> int:
    count = 0
    with caplog.at_level(logging.DEBUG):
        for method, path, params in requests_to_make(gateway):
            response = requests.request(method, gateway.url + path, params=params, timeout=30)
            assert response.status_code < 500, (path, response.text)
            exposed = response.text + json.dumps(dict(response.headers))
            for form in FORMS:
                assert form not in exposed, (method, path)
            count += 1
    for form in FORMS:
        assert form not in caplog.text
    return count


def test_snapshot_store_never_leaks(caplog: pytest.LogCaptureFixture) -> None:
    store = SnapshotStore.from_objects(CATALOG, with_marked_secrets(), "marked")
    with serving(create_app(Config(extra={"TESTING": True}), store=store)) as gateway:
        assert assert_no_marker(gateway, caplog) > 200


@pytest.mark.parametrize("cache", ["watch", "none"])
def test_live_stores_never_leak(cache: str, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """Emulator: it serves marked Secrets in every shape, kinds left out of list items among them."""
    cluster = Cluster()
    cluster.load(with_marked_secrets())
    with EmulatorServer(cluster, settings=FAST).start() as emulator:
        app = create_app(live_config(emulator.kubeconfig(tmp_path / "kc"), cache=cache))
        with serving(app) as gateway:
            assert assert_no_marker(gateway, caplog) > 200
            # the emulator really served the marker: the gateway had it in hand and kept it in
            raw = requests.get(emulator.url + "/api/v1/namespaces/demo/secrets/ssh-key", timeout=10).text
            assert FORMS[2] in raw
        if cache == "watch":
            app.extensions["gateway"].close()
