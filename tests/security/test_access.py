"""Access that changes, oracles, and review fan-out, through real HTTP against the emulator's RBAC."""

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
from gateway.synthetic import synthetic_cluster
from tests.emulator.cluster import Cluster
from tests.emulator.rbac import ADMIN, Rbac, Rule
from tests.emulator.server import EmulatorServer
from tests.graph.test_objectgraph import below
from tests.server import Gateway, serving
from tests.store.conftest import FAST, eventually, live_config

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
    app.extensions["gateway"].store.close()


def test_a_remembered_answer_is_not_served_once_the_callers_access_is_revoked(
    watched: Gateway, cluster: Cluster
) -> None:
    path, follow = "/namespaces/demo/vms/fedora", "volumes.pvc"
    for _ in range(2):  # the first answer read kinds still listing: the second is the one remembered
        assert get(watched, "alice-token", path, follow=follow).status_code == 200
    again = get(watched, "alice-token", path, follow=follow)
    assert again.status_code == 200 and again.headers["X-Gateway-Cache"] == "hit"
    cluster.rbac.rules.remove(ALICE)  # her RoleBinding is removed
    # within --auth-cache-seconds (0.5 s) the cluster's answer is hers again, remembered or not

    def refused() -> Any:
        response = get(watched, "alice-token", path, follow=follow)
        return response.status_code == 403 and response.json()

    assert eventually(refused)["reason"] == "Forbidden"
    assert get(watched, "alice-token", path, follow=follow).status_code == 403


def test_a_remembered_answer_is_rebuilt_when_access_to_an_embedded_object_changes(
    watched: Gateway, cluster: Cluster
) -> None:
    path, follow = "/namespaces/demo/vms/fedora", "volumes.pvc"
    pvc = get(watched, "alice-token", path, follow=follow).json()["volumes"][0]["pvc"]
    assert pvc["kind"] == "PersistentVolumeClaim" and not pvc.get("missing")
    cluster.rbac.rules.remove(ALICE)
    cluster.rbac.rules.append(Rule(frozenset({"alice"}), resources=frozenset({"virtualmachines"}),
                                   namespaces=frozenset({"demo"})))  # fmt: skip

    def pvc_marker() -> Any:
        doc = get(watched, "alice-token", path, follow=follow).json()
        return doc["volumes"][0]["pvc"].get("reason") == "Forbidden" and doc

    assert eventually(pvc_marker)["volumes"][0]["pvc"]["missing"] is True


@pytest.mark.parametrize("cache", ["watch", "none"])
def test_a_caller_who_may_not_read_pvcs_cannot_tell_a_collected_datavolume_from_a_missing_one(
    emulator: EmulatorServer, tmp_path: Path, cache: str
) -> None:
    app = gateway_on(emulator, tmp_path, cache=cache)
    with serving(app) as gateway:

        def reasons(token: str) -> list[str]:
            return [get(gateway, token, f"/namespaces/demo/vms/{vm}", follow="volumes.datavolume").json()["volumes"][0]
                    ["datavolume"]["reason"] for vm in ("rhel9", "lost")]  # fmt: skip

        assert reasons("emulator-admin") == ["GarbageCollected", "NotFound"]
        assert reasons("dv-token") == ["Forbidden", "Forbidden"]
        # the object graph: the same node for both, where the admin sees the PVC in place of rhel9's DataVolume
        admin = below(get(gateway, "emulator-admin", "/namespaces/demo/vms/rhel9/objectgraph").json())
        assert not any(line.startswith("DataVolume") for line in admin)
        graphs = [below(get(gateway, "dv-token", f"/namespaces/demo/vms/{vm}/objectgraph").json())
                  for vm in ("rhel9", "lost")]  # fmt: skip
        assert [[line for line in g if line.startswith("DataVolume")] for g in graphs] == [
            ["DataVolume demo/rhel9-root storage missing"],
            ["DataVolume demo/lost-root storage missing"],
        ]
    if cache == "watch":
        app.extensions["gateway"].store.close()


def test_links_found_by_query_need_list_on_their_target(emulator: EmulatorServer, tmp_path: Path) -> None:
    with serving(gateway_on(emulator, tmp_path, cache="none")) as gateway:
        # the getter may get ssh-key and fedora by name: still no VM names through the reverse link
        assert get(gateway, "getter-token", "/namespaces/demo/secrets/ssh-key").status_code == 200
        assert get(gateway, "getter-token", "/namespaces/demo/secrets/ssh-key", follow="vms").json()["vms"] == []
        response = get(gateway, "getter-token", "/namespaces/demo/secrets/ssh-key/vms")
        assert response.status_code == 403 and "list" in response.json()["message"]
        admin = get(gateway, "emulator-admin", "/namespaces/demo/secrets/ssh-key", follow="vms").json()
        assert [vm["metadata"]["name"] for vm in admin["vms"]]  # there are VMs to hide


def test_a_rejected_token_is_reviewed_once_while_remembered(
    emulator: EmulatorServer, cluster: Cluster, tmp_path: Path
) -> None:
    with serving(gateway_on(emulator, tmp_path, cache="none")) as gateway:
        cluster.requests.clear()
        for _ in range(5):
            assert get(gateway, "forged-token", "/namespaces/demo/vms").status_code == 401
        assert cluster.requests.posts("tokenreviews") == 1


def test_per_name_reviews_are_bounded_per_request_and_run_side_by_side(tmp_path: Path) -> None:
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
