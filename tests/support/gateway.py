"""Gateways for tests: an app served on a loopback port in a thread, talked to over real HTTP, and the
configuration of one in front of a (real or emulated) API server."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import requests
from flask import Flask
from werkzeug.serving import make_server

from gateway.api.responses import READS_HEADER
from gateway.app import create_app
from gateway.catalog import CATALOG
from gateway.config import Config
from gateway.store.snapshot import SnapshotStore


class Gateway:
    """A running gateway: `get` sends a real HTTP request to it."""

    def __init__(self, base_url: str, app: Flask) -> None:
        self.url = base_url
        self.app = app
        self.session = requests.Session()

    def get(self, path: str, **params: Any) -> requests.Response:
        return self.session.get(self.url + path, params=params or None, timeout=30)

    def json(self, path: str, **params: Any) -> Any:
        response = self.get(path, **params)
        assert response.status_code == 200, response.text
        return response.json()

    @staticmethod
    def reads(response: requests.Response) -> int:
        return int(response.headers[READS_HEADER])


@contextmanager
def serving(app: Flask) -> Iterator[Gateway]:
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield Gateway(f"http://127.0.0.1:{server.server_port}", app)
    finally:
        server.shutdown()
        thread.join(timeout=5)


def live_config(kubeconfig: str, **overrides: Any) -> Config:
    settings: dict[str, Any] = {"auth": "none", "api_timeout": 5, "extra": {"TESTING": True}, **overrides}
    return Config(kube=True, kubeconfig=kubeconfig, **settings)


class Caller:
    def __init__(self, gateway: Gateway, token: str | None) -> None:
        self.gateway, self.headers = gateway, {"Authorization": f"Bearer {token}"} if token else {}

    def get(self, path: str, **params: str) -> requests.Response:
        return requests.get(self.gateway.url + path, params=params, headers=self.headers, timeout=30)

    def json(self, path: str, **params: str) -> Any:
        response = self.get(path, **params)
        assert response.status_code == 200, response.text
        return response.json()


@contextmanager
def gateway_over(kubeconfig: str, **settings: Any) -> Iterator[Gateway]:
    """A gateway in front of the API server a kubeconfig names (the watch cache unless `cache="none"`),
    its watches stopped afterwards."""
    app = create_app(live_config(kubeconfig, **settings))
    with serving(app) as gateway:
        yield gateway
    app.extensions["gateway"].close()


@contextmanager
def gateway_of_snapshot(objects: list[dict[str, Any]], source: str) -> Iterator[Gateway]:
    """The same objects served from a snapshot: what a live gateway must match."""
    store = SnapshotStore.from_objects(CATALOG, objects, source)
    with serving(create_app(Config(extra={"TESTING": True}), store=store)) as gateway:
        yield gateway
