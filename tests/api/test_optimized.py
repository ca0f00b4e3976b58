"""Optimized handlers against generic followers: the same document, far fewer store reads."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from gateway.app import create_app
from gateway.catalog import CATALOG
from gateway.config import Config
from gateway.store.snapshot import SnapshotStore
from tests.support.gateway import Gateway, serving
from tests.support.synthetic import synthetic_cluster

FOLLOW = "volumes.pvc.pv,vmi.pod.node,instancetype.revision,preference.revision,networks.nad,datavolumetemplates"


@pytest.fixture(scope="module")
def fifty_vms() -> Iterator[tuple[Gateway, Gateway]]:
    store = SnapshotStore.from_objects(CATALOG, synthetic_cluster(50, "bench"), "synthetic")
    # every answer built: these tests count the engine's reads
    optimized = create_app(Config(answer_cache_mb=0, extra={"TESTING": True}), store=store)
    generic = create_app(Config(optimize=False, answer_cache_mb=0, extra={"TESTING": True}), store=store)
    with serving(optimized) as fast, serving(generic) as slow:
        yield fast, slow


def test_same_document_fewer_reads_on_a_collection_of_50_vms(fifty_vms: tuple[Gateway, Gateway]) -> None:
    fast, slow = fifty_vms
    optimized = fast.get("/namespaces/bench/vms", follow=FOLLOW)
    generic = slow.get("/namespaces/bench/vms", follow=FOLLOW)
    assert optimized.status_code == generic.status_code == 200
    assert optimized.content == generic.content  # byte for byte
    assert len(optimized.json()["items"]) == 50

    # generic: a read per parent per link; 25 of the 50 VMs run
    assert Gateway.reads(generic) > 300
    # optimized: one read per (kind, namespace) per level and link, whatever the number of VMs
    assert Gateway.reads(optimized) <= 13


def test_reads_do_not_grow_with_the_number_of_vms(fifty_vms: tuple[Gateway, Gateway]) -> None:
    fast, _ = fifty_vms
    page = fast.get("/namespaces/bench/vms", follow=FOLLOW, limit=5)
    everything = fast.get("/namespaces/bench/vms", follow=FOLLOW)
    assert Gateway.reads(page) == Gateway.reads(everything)


@pytest.mark.parametrize("follow", ["volumes.pvc", "vmi", "vmi.pod", "instancetype", "*", "volumes.*.*"])
def test_each_optimized_path_matches_the_generic_follower_on_the_demo(
    demo: Gateway, demo_generic: Gateway, follow: str
) -> None:
    for path in ("/namespaces/demo/vms", "/vms", "/namespaces/demo/vmis", "/pvcs"):
        if follow != "*" and path != "/namespaces/demo/vms" and path != "/vms":
            continue
        fast, slow = demo.get(path, follow=follow), demo_generic.get(path, follow=follow)
        assert fast.status_code == 200
        assert fast.content == slow.content
        assert Gateway.reads(fast) <= Gateway.reads(slow)
