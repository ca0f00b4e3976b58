"""Gateways over the real kube-apiserver (tools/kube/, `make apiserver`): one server per session, the demo loaded
into it (the `apiserver` fixture, in tests/conftest.py).

Tests read the demo and lab namespaces and change only namespaces of their own
(`apiserver.api.namespace()`); tests that stop the server or cut it off use a
server of their own (`private_apiserver`).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.apiserver import KubeApiServer
from tests.support.gateway import Gateway, gateway_of_snapshot, gateway_over


@pytest.fixture
def live(apiserver: KubeApiServer, tmp_path: Path) -> Iterator[Gateway]:
    """The gateway over the watch cache, against the real API server."""
    with gateway_over(apiserver.kubeconfig(tmp_path / "kubeconfig")) as gateway:
        yield gateway


@pytest.fixture
def direct(apiserver: KubeApiServer, tmp_path: Path) -> Iterator[Gateway]:
    """The gateway reading the real API server on every request (--cache none)."""
    with gateway_over(apiserver.kubeconfig(tmp_path / "kubeconfig"), cache="none") as gateway:
        yield gateway


@pytest.fixture
def snapshot_of(apiserver: KubeApiServer) -> Iterator[Gateway]:
    """What the API server holds now, served from a snapshot: what the live gateway must match."""
    with gateway_of_snapshot(apiserver.api.dump(), "API server dump") as gateway:
        yield gateway
