"""The answer memory's budget covers what remembering costs in the dependents index, and a search is
filed once, not under every object it returned: many distinct selectors over a big namespace stay
within `--answer-cache-mb`, and one change that concerns them all drops them all.

The emulator serves here because it loads a synthetic namespace of hundreds of VMs at once.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from pathlib import Path

import pytest

from gateway.app import create_app
from gateway.changes.dependents import INDEX_BYTES
from tests.support.emulated import FAST
from tests.support.emulator.cluster import Cluster
from tests.support.emulator.server import EmulatorServer
from tests.support.gateway import Gateway, live_config, serving
from tests.support.synthetic import synthetic_cluster
from tests.support.waiting import eventually

VMS, SELECTORS, BUDGET_MB = 300, 400, 1


@pytest.fixture
def cluster() -> Cluster:
    cluster = Cluster()
    cluster.load(synthetic_cluster(VMS, namespace="big"))
    return cluster


@pytest.fixture
def gateway(cluster: Cluster, tmp_path: Path) -> Iterator[Gateway]:
    with EmulatorServer(cluster, settings=FAST).start() as emulator:
        app = create_app(live_config(emulator.kubeconfig(tmp_path / "kc"), answer_cache_mb=BUDGET_MB))
        with serving(app) as served:
            yield served
        app.extensions["gateway"].close()


def test_distinct_selectors_over_a_whole_namespace_stay_within_the_budget(gateway: Gateway, cluster: Cluster) -> None:
    answers = gateway.app.extensions["gateway_answers"]
    for i in range(SELECTORS):  # each matches every VM of the namespace, and pages to one
        response = gateway.get("/namespaces/big/vms", limit="1", labelSelector=f"probe!=v{i}")
        assert response.status_code == 200 and len(response.json()["items"]) == 1
    kept = len(answers)
    assert kept > SELECTORS // 2  # remembered ...
    entries = answers.dependents.entries()
    assert entries <= 2 * kept  # ... each filed once for its search, not under each of the 300 VMs it read
    assert entries * INDEX_BYTES < answers.used <= BUDGET_MB * 1024 * 1024  # and what the index costs is charged

    vms = next(r for r in cluster.resources if r.kind == "VirtualMachine")
    vm = copy.deepcopy(cluster.get(vms, "big", "vm-00007"))
    assert vm is not None
    vm["metadata"].setdefault("labels", {})["probe"] = "changed"
    cluster.apply(vm)  # one label change concerns every one of those searches ...
    eventually(lambda: len(answers) == 0)  # ... and drops them all
    assert answers.dependents.entries() == 0
    assert gateway.get("/healthz").status_code == 200
