from __future__ import annotations

from collections.abc import Iterator

import pytest

from gateway.app import create_app
from gateway.config import Config
from tests.server import Gateway, serving

TEST = {"TESTING": True}


@pytest.fixture(scope="session")
def demo() -> Iterator[Gateway]:
    """The demo cluster, served over real HTTP, with optimized handlers."""
    with serving(create_app(Config(demo=True, extra=TEST))) as gateway:
        yield gateway


@pytest.fixture(scope="session")
def demo_generic() -> Iterator[Gateway]:
    """The demo cluster with the generic followers only."""
    with serving(create_app(Config(demo=True, optimize=False, extra=TEST))) as gateway:
        yield gateway
