"""`--auth kubernetes` against the emulator, for what a real API server cannot do on demand: count every review
exactly, and fail them (tests/kube/test_auth.py has the rest, against real RBAC)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from gateway.app import create_app
from gateway.catalog import CATALOG
from gateway.catalog.kinds import Kind
from gateway.store.snapshot import demo_objects
from tests.support.emulated import FAST
from tests.support.emulator.cluster import Cluster
from tests.support.emulator.rbac import ADMIN, Rbac, Rule
from tests.support.emulator.server import EmulatorServer
from tests.support.gateway import Caller, Gateway, live_config, serving

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


def test_reviews_are_cached_per_user_and_never_shared(gateway: Gateway, emulator: EmulatorServer) -> None:
    """Emulator: every review it answered, counted exactly."""
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
    """Emulator: every review it answered, counted exactly."""
    from tests.support.synthetic import synthetic_cluster

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
    """Emulator: reviews failed on demand."""
    emulator.cluster.faults.fail_paths, emulator.cluster.faults.fail_next = "subjectaccessreviews", 100
    response = Caller(gateway, "alice-token").get("/namespaces/demo/vms/fedora")
    assert response.status_code == 503
    assert "cannot review access" in response.json()["message"]
    emulator.cluster.faults.fail_next = 0


def test_reverse_links_of_a_page_show_only_referrers_the_caller_may_list(gateway: Gateway) -> None:
    """One list of every VM a page's reverse links may lead to, read as the gateway; each caller sees
    of it only what they may list themselves (docs/security.md: a query link needs `list`)."""

    def referrers(caller: Caller, path: str, rel: str) -> dict[str, list[str]]:
        items = caller.json(path, follow=rel)["items"]
        return {i["metadata"]["name"]: [r["metadata"]["name"] for r in i[rel]] for i in items}

    carol, alice = Caller(gateway, "carol-token"), Caller(gateway, "alice-token")
    admin = Caller(gateway, "emulator-admin")
    # carol may get win11 by name, but not list VMs: no PVC leads her to one
    carols = referrers(carol, "/namespaces/demo/pvcs", "vms")
    assert "win11-root" in carols and all(vms == [] for vms in carols.values())
    assert referrers(carol, "/namespaces/demo/pvcs", "pods")["rhel9-root"] == ["virt-launcher-rhel9-tg8kd"]
    assert referrers(admin, "/namespaces/demo/pvcs", "vms")["win11-root"] == ["win11"]
    # a network in demo is used from lab too: alice may list VMs in demo only
    assert referrers(admin, "/namespaces/demo/networkattachmentdefinitions", "vms")["vlan10"] == [
        "fedora", "rhel9", "every-source",
    ]  # fmt: skip
    assert referrers(alice, "/namespaces/demo/networkattachmentdefinitions", "vms")["vlan10"] == ["fedora", "rhel9"]


def test_kinds_in_rules_exist_in_the_catalogue() -> None:
    plurals = {k.plural for k in CATALOG.kinds() if isinstance(k, Kind) and not k.part}
    for rule in RBAC.rules:
        assert rule.resources == {"*"} or rule.resources <= plurals
