from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.emulator.server import EmulatorServer
from tests.support.gateway import Gateway, gateway_over


@pytest.fixture
def live(emulator: EmulatorServer, tmp_path: Path) -> Iterator[Gateway]:
    """The gateway over the watch cache, against the emulator."""
    with gateway_over(emulator.kubeconfig(tmp_path / "kubeconfig")) as gateway:
        yield gateway


@pytest.fixture
def direct(emulator: EmulatorServer, tmp_path: Path) -> Iterator[Gateway]:
    """The gateway reading the emulator on every request (--cache none)."""
    with gateway_over(emulator.kubeconfig(tmp_path / "kubeconfig"), cache="none") as gateway:
        yield gateway
