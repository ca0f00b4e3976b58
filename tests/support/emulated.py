"""The emulator as the tests use it: quick bookmarks and short watches, and the demo loaded into a `Cluster`."""

from __future__ import annotations

from gateway.catalog import CATALOG
from gateway.store.snapshot import demo_objects
from tests.support.emulator.cluster import Cluster
from tests.support.emulator.server import Settings

FAST = Settings(bookmark_interval=0.2, max_watch_seconds=30)


def demo_cluster() -> Cluster:
    cluster = Cluster()
    cluster.load(obj for _, obj in demo_objects(CATALOG))
    return cluster
