from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from gateway.app import create_app
from gateway.catalog import CATALOG
from gateway.config import Config
from gateway.store.snapshot import SnapshotStore
from tests.support.emulator.server import EmulatorServer
from tests.support.gateway import Gateway, live_config, serving


@pytest.fixture
def live(emulator: EmulatorServer, tmp_path: Path) -> Iterator[Gateway]:
    """The gateway over the watch cache, against the emulator."""
    app = create_app(live_config(emulator.kubeconfig(tmp_path / "kubeconfig")))
    with serving(app) as gateway:
        yield gateway
    app.extensions["gateway"].store.close()


@pytest.fixture
def direct(emulator: EmulatorServer, tmp_path: Path) -> Iterator[Gateway]:
    """The gateway reading the emulator on every request (--cache none)."""
    with serving(create_app(live_config(emulator.kubeconfig(tmp_path / "kubeconfig"), cache="none"))) as gateway:
        yield gateway


@pytest.fixture
def snapshot_of(emulator: EmulatorServer) -> Iterator[Gateway]:
    """The same cluster content, served from a snapshot: what the live gateway must match."""
    store = SnapshotStore.from_objects(CATALOG, emulator.cluster.dump(), "emulator dump")
    with serving(create_app(Config(extra={"TESTING": True}), store=store)) as gateway:
        yield gateway
