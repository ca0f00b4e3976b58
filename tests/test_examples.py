"""examples/links/ as a user runs them: `serve --manifests tests/support/upstream --links examples/links`, Forklift's
and Velero's objects as those projects write them, followed through the declared links over real HTTP."""

from __future__ import annotations

import copy
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
import yaml

from tests.support.processes import running
from tests.support.waiting import free_port

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def url() -> Iterator[str]:
    port = free_port()
    command = [sys.executable, "-m", "gateway", "serve", "--manifests", "tests/support/upstream",
               "--links", "examples/links", "--port", str(port)]  # fmt: skip
    with running(command, port) as base:
        yield base


def get(url: str, path: str, **params: str) -> Any:
    response = requests.get(url + path, params=params, timeout=10)
    assert response.status_code == 200, response.text
    return response.json()


def name(entity: dict[str, Any]) -> str:
    """An entity's name, or a missing target's."""
    return str(entity["metadata"]["name"] if "metadata" in entity else entity["name"])


def test_a_forklift_plan_is_followed_to_its_vms_pvcs(url: str) -> None:
    """docs/declaring-links.md's curl: spec.vms[].name in spec.targetNamespace, then KubeVirt's own links."""
    plan = get(url, "/namespaces/konveyor-forklift/plans/migrate-web", follow="vms.volumes.pvc")
    assert {name(vm): [name(v["pvc"]) for v in vm.get("volumes", [])] for vm in plan["vms"]} == {
        "web-01": ["migrate-web-vm-1001-jz4dk"],
        "web-02": ["migrate-web-vm-1002-q8r2m"],
        "web-03": [],  # in the plan, never migrated
    }
    assert [vm.get("reason") for vm in plan["vms"]] == [None, None, "NotFound"]


def test_a_forklift_plan_names_its_providers_maps_and_migrations(url: str) -> None:
    follow = "source.secret,destination,networkmap.networks,storagemap,transfernetwork,migrations.plan"
    plan = get(url, "/namespaces/konveyor-forklift/plans/migrate-web", follow=follow)
    assert (name(plan["source"]), name(plan["destination"])) == ("vsphere", "host")
    assert [name(n) for n in plan["networkmap"]["networks"]] == ["storage-net"]  # the multus destination only
    assert name(plan["storagemap"]) == "vsphere-storage-map"
    assert name(plan["transfernetwork"]) == "storage-net"
    assert [(name(m), name(m["plan"])) for m in plan["migrations"]] == [("migrate-web-7xk2p", "migrate-web")]
    secret = plan["source"]["secret"]  # reached through a declared link, redacted as every Secret is
    assert secret["dataKeys"] == ["password", "url", "user"] and "data" not in secret


def test_a_migrated_vm_finds_its_plan_across_namespaces(url: str) -> None:
    vm = get(url, "/namespaces/shop/vms/web-01", follow="plans.source")
    assert [(name(p), name(p["source"])) for p in vm["plans"]] == [("migrate-web", "vsphere")]


def test_a_velero_restore_is_followed_to_its_backup_and_where_it_is_stored(url: str) -> None:
    follow = "backup.storagelocation.credential,backup.snapshotlocations,backup.namespaces"
    restore = get(url, "/namespaces/velero/restores/shop-restore", follow=follow)
    backup = restore["backup"]
    assert name(backup) == "shop-nightly-20261203020000"
    assert name(backup["storagelocation"]) == "default"
    assert [name(v) for v in backup["snapshotlocations"]] == ["default"]
    assert [name(n) for n in backup["namespaces"]] == ["shop"]
    credential = backup["storagelocation"]["credential"]
    assert credential["dataKeys"] == ["cloud"] and "data" not in credential


def test_a_namespace_finds_the_backups_that_include_it(url: str) -> None:
    namespace = get(url, "/namespaces/shop", follow="velerobackups.restores")
    assert [(name(b), [name(r) for r in b["restores"]]) for b in namespace["velerobackups"]] == [
        ("shop-nightly-20261203020000", ["shop-restore"])
    ]


def test_fifty_plans_cost_the_reads_of_ten(tmp_path: Path) -> None:
    """A collection with declared links is read a level at a time, like one with built-in links: the
    plans of a namespace followed to their VMs' PVCs take as many store reads for 50 plans as for 10
    (each plan naming two migrated VMs, copies of upstream/forklift.yaml's)."""
    upstream = list(yaml.safe_load_all((ROOT / "tests/support/upstream/forklift.yaml").read_text()))
    template = {o["kind"]: o for o in upstream if o["kind"] in ("Plan", "VirtualMachine", "PersistentVolumeClaim")}
    objects: list[dict[str, Any]] = []
    for plans in (10, 50):
        namespace = f"plans-{plans}"
        for i in range(plans):
            plan = copy.deepcopy(template["Plan"])
            plan["metadata"] = {"name": f"plan-{i}", "namespace": namespace}
            plan["spec"]["targetNamespace"] = namespace
            plan["spec"]["vms"] = [{"id": f"vm-{i}-{n}", "name": f"vm-{i}-{n}"} for n in (1, 2)]
            objects.append(plan)
            for vm_entry in plan["spec"]["vms"]:
                vm = copy.deepcopy(template["VirtualMachine"])
                claim = copy.deepcopy(template["PersistentVolumeClaim"])
                vm["metadata"] = {"name": vm_entry["name"], "namespace": namespace}
                claim["metadata"] = {"name": f"{vm_entry['name']}-disk", "namespace": namespace}
                for volume in vm["spec"]["template"]["spec"]["volumes"]:
                    if "persistentVolumeClaim" in volume:
                        volume["persistentVolumeClaim"]["claimName"] = claim["metadata"]["name"]
                objects += [vm, claim]
    manifests = tmp_path / "plans.yaml"
    manifests.write_text(yaml.safe_dump_all(objects))
    port = free_port()
    command = [sys.executable, "-m", "gateway", "serve", "--manifests", str(manifests),
               "--links", "examples/links/forklift.yaml", "--port", str(port)]  # fmt: skip
    reads = {}
    with running(command, port) as base:
        for plans in (10, 50):
            answer = requests.get(
                f"{base}/namespaces/plans-{plans}/plans", params={"follow": "vms.volumes.pvc"}, timeout=10
            )
            assert answer.status_code == 200, answer.text
            claims = [
                v["pvc"]["metadata"]["name"]
                for p in answer.json()["items"]
                for vm in p["vms"]
                for v in vm["volumes"]
                if "pvc" in v
            ]
            assert len(claims) == 2 * plans  # every VM of every plan, with its PVC
            reads[plans] = int(answer.headers["X-Gateway-Store-Reads"])
    assert reads[50] == reads[10], reads
