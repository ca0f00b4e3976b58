from __future__ import annotations

from collections.abc import Iterator

import pytest

from gateway.app import create_app
from gateway.catalog import CATALOG
from gateway.config import Config
from gateway.store.snapshot import demo_objects
from tests.support.apiserver import KubeApiServer, running_apiserver
from tests.support.emulated import FAST, demo_cluster
from tests.support.emulator.server import EmulatorServer
from tests.support.gateway import Gateway, serving

TEST = {"TESTING": True}


@pytest.fixture(scope="session")
def demo() -> Iterator[Gateway]:
    """The demo cluster, served over real HTTP, with optimized handlers."""
    with serving(create_app(Config(demo=True, extra=TEST))) as gateway:
        yield gateway


@pytest.fixture(scope="session")
def demo_generic() -> Iterator[Gateway]:
    """The demo cluster with the generic followers only, and every answer built (no answers kept in memory)."""
    with serving(create_app(Config(demo=True, optimize=False, answer_cache_mb=0, extra=TEST))) as gateway:
        yield gateway


@pytest.fixture
def emulator() -> Iterator[EmulatorServer]:
    server = EmulatorServer(demo_cluster(), settings=FAST).start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def apiserver() -> Iterator[KubeApiServer]:
    """The real kube-apiserver and etcd (`make apiserver`), the demo loaded; tests change only namespaces of
    their own (`apiserver.api.namespace()`)."""
    for server in running_apiserver():
        server.api.load(obj for _, obj in demo_objects(CATALOG))
        yield server
