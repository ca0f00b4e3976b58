"""`--auth kubernetes` against the emulator's RBAC table: each caller sees what the cluster shows them."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from gateway.app import create_app
from gateway.catalog import CATALOG
from gateway.catalog.kinds import Kind
from gateway.store.snapshot import demo_objects
from tests.emulator.cluster import Cluster
from tests.emulator.rbac import ADMIN, Rbac, Rule
from tests.emulator.server import EmulatorServer
from tests.graph.test_objectgraph import below
from tests.server import Gateway, serving
from tests.store.conftest import FAST, live_config

CLUSTER_SCOPED = frozenset(k.plural for k in CATALOG.kinds() if not k.part and not k.namespaced)
NAMESPACED = frozenset(k.plural for k in CATALOG.kinds() if not k.part and k.namespaced)
RBAC = Rbac(
    tokens={
        "emulator-admin": ("admin", ()),
        "alice-token": ("alice", ("developers",)),
        "bob-token": ("bob", ()),
        "carol-token": ("carol", ()),
    },
    rules=[
        ADMIN,
        # developers read everything in demo but its Secrets, and the cluster-scoped kinds
        Rule(frozenset({"group:developers"}), resources=NAMESPACED - {"secrets"}, namespaces=frozenset({"demo"})),
        Rule(frozenset({"group:developers"}), resources=CLUSTER_SCOPED),
        # bob sees VMs and their instances, nothing else
        Rule(frozenset({"bob"}), resources=frozenset({"virtualmachines", "virtualmachineinstances"}),
             namespaces=frozenset({"demo"})),
        # carol sees storage and pods, and one VM by name
        Rule(frozenset({"carol"}), resources=frozenset({"persistentvolumeclaims", "pods"}),
             namespaces=frozenset({"demo"})),
        Rule(frozenset({"carol"}), verbs=frozenset({"get"}), resources=frozenset({"virtualmachines"}),
             namespaces=frozenset({"demo"}), names=frozenset({"win11"})),
    ],
)  # fmt: skip


class Caller:
    def __init__(self, gateway: Gateway, token: str | None) -> None:
        self.gateway, self.headers = gateway, {"Authorization": f"Bearer {token}"} if token else {}

    def get(self, path: str, **params: str) -> requests.Response:
        return requests.get(self.gateway.url + path, params=params, headers=self.headers, timeout=30)

    def json(self, path: str, **params: str) -> Any:
        response = self.get(path, **params)
        assert response.status_code == 200, response.text
        return response.json()


@pytest.fixture
def emulator() -> Iterator[EmulatorServer]:
    cluster = Cluster(rbac=RBAC)
    cluster.load(obj for _, obj in demo_objects(CATALOG))
    with EmulatorServer(cluster, settings=FAST).start() as server:
        yield server


@pytest.fixture
def gateway(emulator: EmulatorServer, tmp_path: Path) -> Iterator[Gateway]:
    config = live_config(emulator.kubeconfig(tmp_path / "kc"), auth="kubernetes", cache="none")
    with serving(create_app(config)) as served:
        yield served


def test_no_token_or_a_bad_one_is_401_and_probes_stay_open(gateway: Gateway) -> None:
    for caller in (Caller(gateway, None), Caller(gateway, "forged")):
        response = caller.get("/namespaces/demo/vms/fedora")
        assert response.status_code == 401
        assert response.json()["kind"] == "Status" and response.json()["reason"] == "Unauthorized"
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
    for path in ("/healthz", "/readyz", "/metrics", "/catalog", "/"):
        assert Caller(gateway, None).get(path).status_code == 200, path


def test_two_users_see_different_parts_of_the_same_vm(gateway: Gateway) -> None:
    follow = "volumes.pvc,accesscredentials,vmi.pod,instancetype"
    alice = Caller(gateway, "alice-token").json("/namespaces/demo/vms/fedora", follow=follow)
    bob = Caller(gateway, "bob-token").json("/namespaces/demo/vms/fedora", follow=follow)
    forbidden_secret = {"href": "/namespaces/demo/secrets/ssh-key", "kind": "Secret", "name": "ssh-key",
                        "missing": True, "reason": "Forbidden"}  # fmt: skip
    # alice: everything but the secret, which is a marker and nothing else of it
    assert alice["accesscredentials"] == [forbidden_secret]
    assert alice["volumes"][0]["pvc"]["metadata"]["name"] == "fedora-root"
    assert alice["vmi"]["pod"]["metadata"]["name"] == "virt-launcher-fedora-h7l2d"
    assert alice["instancetype"]["metadata"]["name"] == "u1.medium"
    # bob: the VM and its VMI; a named PVC is a Forbidden marker, a pod found by query shows no name
    assert bob["accesscredentials"] == [forbidden_secret]
    assert bob["volumes"][0]["pvc"] == {"href": "/namespaces/demo/pvcs/fedora-root", "kind": "PersistentVolumeClaim",
                                        "name": "fedora-root", "missing": True, "reason": "Forbidden"}  # fmt: skip
    assert bob["vmi"]["metadata"]["name"] == "fedora"
    assert bob["vmi"]["pod"] == {"href": "/namespaces/demo/vmis/fedora/pod", "kind": "Pod", "name": None,
                                 "missing": True, "reason": "Forbidden"}  # fmt: skip
    assert bob["instancetype"]["reason"] == "Forbidden"


def test_the_object_graph_shows_each_user_only_their_nodes(gateway: Gateway) -> None:
    path = "/namespaces/demo/vms/fedora/objectgraph"
    admin = below(Caller(gateway, "emulator-admin").json(path))
    alice = below(Caller(gateway, "alice-token").json(path))
    bob = below(Caller(gateway, "bob-token").json(path))
    assert [line for line in admin if "Secret" not in line] == alice
    assert bob == ["VirtualMachineInstance demo/fedora compute"]  # no pod, no storage, no config


def test_forbidden_roots_are_403_before_anything_is_read(gateway: Gateway) -> None:
    bob, carol = Caller(gateway, "bob-token"), Caller(gateway, "carol-token")
    for caller, path in ((bob, "/namespaces/demo/pvcs"), (bob, "/namespaces/demo/secrets/ssh-key"),
                         (bob, "/namespaces/demo/pvcs/fedora-root/vms"), (carol, "/namespaces/demo/vms"),
                         (carol, "/namespaces/demo/vms/fedora/objectgraph"), (carol, "/namespaces/demo/graph"),
                         (carol, "/namespaces/demo/vms/nonexistent")):  # fmt: skip
        response = caller.get(path)
        assert response.status_code == 403, (path, response.text)
        assert response.json()["reason"] == "Forbidden"
    # bob may get every VM in demo, so for him a VM that does not exist is a 404; carol may not know
    assert bob.get("/namespaces/demo/vms/nonexistent").status_code == 404
    assert carol.json("/namespaces/demo/vms/win11")["metadata"]["name"] == "win11"


def test_the_application_graph_is_filtered_node_by_node(gateway: Gateway) -> None:
    bob = Caller(gateway, "bob-token").json("/namespaces/demo/graph")["resources"]
    assert {r["name"] for r in bob} == {"cirros", "fedora", "rhel9", "win11"}  # no Service, no shared NAD
    assert {o["type"] for r in bob for o in r["resources"]} == {"kubevirt.io/VirtualMachineInstance"}
    alice = Caller(gateway, "alice-token").json("/namespaces/demo/graph")["resources"]
    assert {r["name"] for r in alice} == {"cirros", "fedora", "rhel9", "win11", "fedora-ssh", "vlan10"}
    assert not any(o["type"] == "core/Secret" for r in alice for o in r["resources"])


def test_objects_found_by_query_are_left_out_not_named(gateway: Gateway) -> None:
    carol = Caller(gateway, "carol-token")
    pvc = carol.json("/namespaces/demo/pvcs/fedora-root", follow="vms,pods")
    assert pvc["vms"] == []  # carol may not see fedora: not even its name
    assert {p["metadata"]["name"] for p in pvc["pods"]} == {"virt-launcher-fedora-h7l2d", "virt-launcher-fedora-9xq4z"}
    # a reverse link is a query: without `list` on VMs, carol learns of none, even win11 she may get
    win11 = carol.json("/namespaces/demo/pvcs/win11-root", follow="vms")
    assert win11["vms"] == []
    assert carol.get("/namespaces/demo/pvcs/win11-root/vms").status_code == 403
    assert carol.json("/namespaces/demo/vms/win11")["metadata"]["name"] == "win11"


def test_reviews_are_cached_per_user_and_never_shared(gateway: Gateway, emulator: EmulatorServer) -> None:
    requests_log = emulator.cluster.requests
    alice, bob = Caller(gateway, "alice-token"), Caller(gateway, "bob-token")
    requests_log.clear()
    follow = "volumes.pvc.pv,vmi.pod,instancetype.revision,preference.revision,networks.nad,accesscredentials"
    assert alice.get("/namespaces/demo/vms", follow=follow).status_code == 200
    first = requests_log.posts("subjectaccessreviews")
    assert requests_log.posts("tokenreviews") == 1
    # one namespace-wide review per (resource, namespace), then per name only where that is denied
    assert first <= 15
    assert alice.get("/namespaces/demo/vms", follow=follow).status_code == 200
    assert requests_log.posts("subjectaccessreviews") == first and requests_log.posts("tokenreviews") == 1
    # alice may read the PVC; bob's answer for the same object is his own
    assert alice.get("/namespaces/demo/pvcs/fedora-root").status_code == 200
    assert bob.get("/namespaces/demo/pvcs/fedora-root").status_code == 403


def test_a_page_of_fifty_vms_costs_a_handful_of_reviews(tmp_path: Path) -> None:
    from gateway.synthetic import synthetic_cluster

    cluster = Cluster(rbac=RBAC)
    cluster.load(synthetic_cluster(50, "demo"))
    with EmulatorServer(cluster, settings=FAST).start() as emulator:
        config = live_config(emulator.kubeconfig(tmp_path / "kc"), auth="kubernetes", cache="none")
        with serving(create_app(config)) as gateway:
            response = Caller(gateway, "alice-token").get(
                "/namespaces/demo/vms", follow="volumes.pvc.pv,vmi.pod,instancetype.revision,volumes.userdata"
            )
    assert response.status_code == 200
    reviews = cluster.requests.posts("subjectaccessreviews")
    secrets = [v["userdata"]["reason"] for vm in response.json()["items"] for v in vm["volumes"] if "userdata" in v]
    assert secrets == ["Forbidden"] * 50
    # 50 VMs with ~400 embedded objects: reviews per kind, plus one per denied secret name
    assert reviews <= 10 + 50


def test_a_failing_review_fails_closed(gateway: Gateway, emulator: EmulatorServer) -> None:
    emulator.cluster.faults.fail_paths, emulator.cluster.faults.fail_next = "subjectaccessreviews", 100
    response = Caller(gateway, "alice-token").get("/namespaces/demo/vms/fedora")
    assert response.status_code == 503
    assert "cannot review access" in response.json()["message"]
    emulator.cluster.faults.fail_next = 0


def test_kinds_in_rules_exist_in_the_catalogue() -> None:
    plurals = {k.plural for k in CATALOG.kinds() if isinstance(k, Kind) and not k.part}
    for rule in RBAC.rules:
        assert rule.resources == {"*"} or rule.resources <= plurals
