"""A name is never a query: hostile names and namespaces are a 400/404 Status on every store and
endpoint, for callers with and without `list`, and no Secret value comes back."""

from __future__ import annotations

import http.client
import json
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import requests

from gateway.app import create_app
from gateway.catalog import CATALOG
from gateway.config import Config
from gateway.store.kube import Served
from gateway.store.snapshot import SnapshotStore
from tests.security.test_no_leaks import FORMS, with_marked_secrets
from tests.support.emulated import FAST
from tests.support.emulator.cluster import Cluster
from tests.support.emulator.rbac import ADMIN, Rbac, Rule
from tests.support.emulator.server import EmulatorServer
from tests.support.gateway import live_config, serving

# raw path segments, as an attacker sends them: the gateway decodes %3F to "?" and so on
HOSTILE = (
    "%3F",
    "%3FfieldSelector=metadata.name%3Dssh-key",
    "%3Fwatch=true&timeoutSeconds=300",
    "..",
    "%2E%2E",
    ".",
    "%2F",
    "ssh-key%2F..",
    "%23",
    "%00",
    "ssh-key%00",
    "a" * 300,
    "%C3%A9t%C3%A9",
    "ssh%E2%80%8Bkey",
    "SSH-KEY",
    "%20",
    "-ssh-key",
)
RBAC = Rbac(
    tokens={"emulator-admin": ("admin", ()), "getter-token": ("getter", ())},
    rules=[
        ADMIN,
        # the getter may get every object in demo by name, and list nothing
        Rule(frozenset({"getter"}), verbs=frozenset({"get"}), namespaces=frozenset({"demo"})),
    ],
)


def paths(segment: str) -> Iterator[str]:
    for collection in ("secrets", "vms", "pvcs", "services", "configmaps"):
        yield f"/namespaces/demo/{collection}/{segment}"
        yield f"/namespaces/demo/{collection}/{segment}?follow=*"
        yield f"/{collection}/{segment}?namespace=demo"
    yield f"/namespaces/demo/secrets/{segment}/vms"
    yield f"/namespaces/demo/vms/{segment}/volumes"
    yield f"/namespaces/demo/vms/{segment}/volumes/rootdisk"
    yield f"/namespaces/demo/vms/{segment}/objectgraph"
    yield f"/namespaces/demo/vmis/{segment}/objectgraph"
    yield f"/nodes/{segment}"
    yield f"/namespaces/{segment}/secrets"
    yield f"/namespaces/{segment}/secrets/ssh-key"
    yield f"/namespaces/{segment}/graph"
    yield f"/vms/fedora?namespace={segment}"
    yield f"/secrets?namespace={segment}"


def walk(url: str, token: str | None) -> int:
    """Every hostile path, sent byte for byte (http.client: no client-side `..` removal)."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    count = 0
    connection = http.client.HTTPConnection(urlsplit(url).netloc, timeout=30)
    for segment in HOSTILE:
        for path in paths(segment):
            connection.request("GET", path, headers=headers)
            response = connection.getresponse()
            body = response.read().decode()
            assert response.status in (400, 404), (path, response.status, body[:300])
            assert response.getheader("Content-Type") == "application/json", path
            assert json.loads(body)["kind"] == "Status", path
            for form in FORMS:
                assert form not in body, path
            count += 1
    connection.close()
    return count


def test_hostile_names_on_the_snapshot_store() -> None:
    store = SnapshotStore.from_objects(CATALOG, with_marked_secrets(), "marked")
    with serving(create_app(Config(extra={"TESTING": True}), store=store)) as gateway:
        assert walk(gateway.url, None) == len(HOSTILE) * 26


@pytest.mark.parametrize("cache", ["none", "watch"])
@pytest.mark.parametrize("token", ["emulator-admin", "getter-token"])
def test_hostile_names_on_the_live_stores(cache: str, token: str, tmp_path: Path) -> None:
    """Emulator: it records every request exactly, to show that nothing hostile reaches the API server."""
    cluster = Cluster(rbac=RBAC)
    cluster.load(with_marked_secrets())
    with EmulatorServer(cluster, settings=FAST).start() as emulator:
        config = live_config(emulator.kubeconfig(tmp_path / "kc"), auth="kubernetes", cache=cache)
        app = create_app(config)
        with serving(app) as gateway:
            cluster.requests.clear()
            assert walk(gateway.url, token) == len(HOSTILE) * 26
            # nothing hostile reached the API server: the names were refused before any read
            reads = [p for m, p, _ in cluster.requests.entries if m == "GET" and "/secrets" in p]
            assert reads == [] or cache == "watch", reads
            assert all(p.endswith("/secrets") for p in reads), reads  # the watch cache lists, never gets
            # and the getter really may read ssh-key by name, values redacted
            ok = requests.get(gateway.url + "/namespaces/demo/secrets/ssh-key",
                              headers={"Authorization": f"Bearer {token}"}, timeout=10)  # fmt: skip
            assert ok.status_code == 200 and "data" not in ok.json() and ok.json()["dataKeys"]
        if cache == "watch":
            app.extensions["gateway"].close()


def test_api_paths_quote_every_segment() -> None:
    """Defence in depth: even an unchecked name stays one path segment of the API path."""
    secrets = Served("", "v1", "secrets")
    assert secrets.path("demo", "?fieldSelector=a") == "/api/v1/namespaces/demo/secrets/%3FfieldSelector%3Da"
    assert secrets.path("demo", "..") == "/api/v1/namespaces/demo/secrets/%2E%2E"
    assert secrets.path("demo", "a/b#c") == "/api/v1/namespaces/demo/secrets/a%2Fb%23c"
    assert secrets.path("..", "x") == "/api/v1/namespaces/%2E%2E/secrets/x"
    assert secrets.path("demo", "ssh-key") == "/api/v1/namespaces/demo/secrets/ssh-key"
