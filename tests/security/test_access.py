"""Review fan-out against the emulator, which counts every review exactly and can slow them down
(tests/kube/test_auth.py has access that changes and the oracles, against real RBAC)."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from gateway.app import create_app
from gateway.catalog import CATALOG
from gateway.store.snapshot import demo_objects
from tests.support.emulated import FAST
from tests.support.emulator.cluster import Cluster
from tests.support.emulator.rbac import ADMIN, Rbac, Rule
from tests.support.emulator.server import EmulatorServer
from tests.support.gateway import Gateway, live_config, serving
from tests.support.synthetic import synthetic_cluster

ALICE = Rule(frozenset({"alice"}), namespaces=frozenset({"demo"}))
# may read VMs and DataVolumes, not the PVCs whose presence tells a collected DataVolume apart
DV_READER = Rule(frozenset({"dv"}), resources=frozenset({"virtualmachines", "datavolumes"}),
                 namespaces=frozenset({"demo"}))  # fmt: skip
# may get Secrets and VMs by name, list neither
GETTER = Rule(frozenset({"getter"}), verbs=frozenset({"get"}), resources=frozenset({"secrets", "virtualmachines"}),
              namespaces=frozenset({"demo"}))  # fmt: skip
# may list VMs, nothing else: every embedded object costs a per-name review
LISTER = Rule(frozenset({"lister"}), resources=frozenset({"virtualmachines"}), namespaces=frozenset({"demo"}))
TOKENS = {
    "emulator-admin": ("admin", ()),
    "alice-token": ("alice", ()),
    "dv-token": ("dv", ()),
    "getter-token": ("getter", ()),
    "lister-token": ("lister", ()),
}
# a VM whose DataVolume was never made and has no PVC either: NotFound, beside rhel9's GarbageCollected
LOST = {
    "apiVersion": "kubevirt.io/v1", "kind": "VirtualMachine",
    "metadata": {"name": "lost", "namespace": "demo", "uid": "0f0f0f0f-0000-4000-8000-00000000abcd"},
    "spec": {"runStrategy": "Halted", "template": {"spec": {
        "domain": {"devices": {"disks": [{"name": "rootdisk", "disk": {"bus": "virtio"}}]}},
        "volumes": [{"name": "rootdisk", "dataVolume": {"name": "lost-root"}}]}}},
}  # fmt: skip


def get(gateway: Gateway, token: str, path: str, **params: str) -> requests.Response:
    return requests.get(gateway.url + path, params=params, headers={"Authorization": f"Bearer {token}"}, timeout=30)


@pytest.fixture
def cluster() -> Cluster:
    cluster = Cluster(rbac=Rbac(tokens=dict(TOKENS), rules=[ADMIN, ALICE, DV_READER, GETTER, LISTER]))
    cluster.load([*(copy.deepcopy(obj) for _, obj in demo_objects(CATALOG)), LOST])
    return cluster


@pytest.fixture
def emulator(cluster: Cluster) -> Iterator[EmulatorServer]:
    with EmulatorServer(cluster, settings=FAST).start() as server:
        yield server


def gateway_on(emulator: EmulatorServer, tmp_path: Path, **settings: Any) -> Any:
    return create_app(live_config(emulator.kubeconfig(tmp_path / "kc"), auth="kubernetes", **settings))


@pytest.fixture
def watched(emulator: EmulatorServer, tmp_path: Path) -> Iterator[Gateway]:
    """The watch cache, whose answers are kept in memory; reviews are remembered for half a second."""
    app = gateway_on(emulator, tmp_path, cache="watch", auth_cache_seconds=0.5)
    with serving(app) as gateway:
        yield gateway
    app.extensions["gateway"].close()


def test_a_rejected_token_is_reviewed_once_while_remembered(
    emulator: EmulatorServer, cluster: Cluster, tmp_path: Path
) -> None:
    """Emulator: every review it answered, counted exactly."""
    with serving(gateway_on(emulator, tmp_path, cache="none")) as gateway:
        cluster.requests.clear()
        for _ in range(5):
            assert get(gateway, "forged-token", "/namespaces/demo/vms").status_code == 401
        assert cluster.requests.posts("tokenreviews") == 1


def test_per_name_reviews_are_bounded_per_request_and_run_side_by_side(tmp_path: Path) -> None:
    """Emulator: reviews counted exactly, and slowed down on demand to see them overlap."""
    cluster = Cluster(rbac=Rbac(tokens=dict(TOKENS), rules=[ADMIN, LISTER]))
    cluster.load(synthetic_cluster(20, "demo"))
    with EmulatorServer(cluster, settings=FAST).start() as emulator:
        follow = "volumes.pvc,volumes.userdata,vmi"
        with serving(gateway_on(emulator, tmp_path, cache="none", max_reviews_per_request=20)) as gateway:
            refused = get(gateway, "lister-token", "/namespaces/demo/vms", follow=follow)
            assert refused.status_code == 400, refused.text
            assert "--max-reviews-per-request" in refused.json()["message"]
            assert cluster.requests.posts("subjectaccessreviews") <= 20 + 8  # stopped at the bound (a batch in flight)
        cluster.requests.clear()
        cluster.faults.review_seconds = 0.02
        with serving(gateway_on(emulator, tmp_path, cache="none")) as gateway:
            page = get(gateway, "lister-token", "/namespaces/demo/vms", follow=follow)
            assert page.status_code == 200
            markers = {v[rel]["reason"] for vm in page.json()["items"] for v in vm["volumes"]
                       for rel in ("pvc", "userdata") if rel in v}  # fmt: skip
            assert markers == {"Forbidden"}
            assert cluster.requests.most_reviews_at_once in range(2, 9)  # overlapping, 8 at most
