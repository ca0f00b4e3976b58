"""Declared links from ConfigMaps, live, against the real API server: a ConfigMap labelled
kubevirt-gateway.io/links=true added, edited, broken and deleted while two gateways (the watch cache and
--cache none) serve, and Forklift's objects (tests/support/upstream/) followed through examples/links/.

The ConfigMaps live in a namespace of this module's own; every change is waited for by polling the
gateway's answers (bounded), never by sleeping."""

from __future__ import annotations

import copy
import logging
from collections.abc import Iterator
from functools import partial
from pathlib import Path
from typing import Any

import pytest
import yaml

from gateway.app import create_app
from tests.support.apiserver import Kube, KubeApiServer
from tests.support.gateway import Gateway, live_config, serving
from tests.support.processes import ROOT
from tests.support.waiting import eventually

FORKLIFT = (ROOT / "examples/links/forklift.yaml").read_text()
LABEL = {"kubevirt-gateway.io/links": "true"}
# two resolvers on one link, and a line no error may repeat: a caller sees where, never the document
BROKEN = """apiVersion: kubevirt-gateway.io/v1alpha1
kind: LinkCatalog
# not-for-callers-5e1f: a document's text stays in the ConfigMap
links:
- from: VirtualMachine
  rel: backed_by
  to: PersistentVolumeClaim
  name: .spec.template.spec.volumes[*].persistentVolumeClaim.claimName
  ref: .spec.dataVolumeTemplates[*]
"""


def upstream(name: str, namespaces: dict[str, str]) -> list[dict[str, Any]]:
    """tests/support/upstream/NAME.yaml with its namespaces renamed (every `namespace` field and the plan's
    targetNamespace): tests here change only namespaces of their own."""
    objects = [o for o in yaml.safe_load_all((ROOT / f"tests/support/upstream/{name}.yaml").read_text()) if o]

    def renamed(node: Any) -> Any:
        if isinstance(node, dict):
            return {k: namespaces.get(v, v) if k in ("namespace", "targetNamespace") and isinstance(v, str)
                    else renamed(v) for k, v in node.items()}  # fmt: skip
        return [renamed(v) for v in node] if isinstance(node, list) else node

    return [renamed(copy.deepcopy(o)) for o in objects if o["kind"] != "Namespace"]


def configmap(name: str, namespace: str, data: dict[str, str], labels: dict[str, str] = LABEL) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "namespace": namespace,
            "labels": labels}, "data": data}  # fmt: skip


class Cluster:
    """The namespaces of this module: Forklift's plan, the VMs it made, and the declaring ConfigMaps."""

    def __init__(self, api: Kube) -> None:
        self.api = api
        self.forklift, self.shop, self.links = api.namespace("forklift"), api.namespace("shop"), api.namespace("links")
        api.load(upstream("forklift", {"konveyor-forklift": self.forklift, "shop": self.shop}))
        self.plan = f"/namespaces/{self.forklift}/plans/migrate-web"
        self.vm = f"/namespaces/{self.shop}/vms/web-01"


@pytest.fixture(scope="module")
def cluster(apiserver: KubeApiServer) -> Cluster:
    return Cluster(apiserver.api)


@pytest.fixture(scope="module")
def gateways(
    apiserver: KubeApiServer, cluster: Cluster, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[list[Gateway]]:
    """Both cache modes, over the same ConfigMaps (discovery at its default: a declared kind is discovered when
    it is declared)."""
    kubeconfig = apiserver.kubeconfig(tmp_path_factory.mktemp("declared") / "kubeconfig")
    apps = [create_app(live_config(kubeconfig, cache=cache, links_namespace=cluster.links))
            for cache in ("watch", "none")]  # fmt: skip
    with serving(apps[0]) as watch, serving(apps[1]) as direct:
        yield [watch, direct]
    for app in apps:
        app.extensions["gateway_links_source"].close()
        store = app.extensions["gateway"].store
        if hasattr(store, "close"):
            store.close()


def status(gateway: Gateway, path: str, **params: str) -> int:
    return gateway.get(path, **params).status_code


def answers(gateway: Gateway, code: int, path: str, **params: str) -> bool:
    return status(gateway, path, **params) == code


def declared(gateway: Gateway) -> dict[str, dict[str, Any]]:
    """/catalog's `declared` sources, by source name."""
    return {entry["source"]: entry for entry in gateway.json("/catalog").get("declared", [])}


def declares(gateway: Gateway, source: str, present: bool = True) -> bool:
    return (source in declared(gateway)) == present


def names_in_readyz(gateway: Gateway, text: str, present: bool = True) -> bool:
    """/readyz is 200, and its reason names `text` (or not)."""
    ready = gateway.get("/readyz")
    return ready.status_code == 200 and (text in ready.json()["reason"]) == present


def test_a_configmap_added_edited_broken_and_deleted_takes_effect_while_the_gateway_serves(
    apiserver: KubeApiServer, cluster: Cluster, gateways: list[Gateway], caplog: pytest.LogCaptureFixture
) -> None:
    api = apiserver.api
    for gateway in gateways:  # nothing declared yet: Plan is no kind, `plans` no link
        assert status(gateway, cluster.vm, follow="plans") == 400
        assert status(gateway, cluster.plan) == 404

    good = api.create(configmap("forklift", cluster.links, {"forklift.yaml": FORKLIFT}))
    for gateway in gateways:
        eventually(partial(answers, gateway, 200, cluster.vm, follow="plans"))
        plans = gateway.json(cluster.vm, follow="plans")["plans"]
        assert [p["metadata"]["name"] for p in plans] == ["migrate-web"]
        eventually(partial(answers, gateway, 200, cluster.plan))  # the declared kind served (discovery)
        plan = gateway.json(cluster.plan, follow="vms.volumes.pvc")
        found = {vm["metadata"]["name"]: [v["pvc"]["metadata"]["name"] for v in vm["volumes"]]
                 for vm in plan["vms"] if "metadata" in vm}  # fmt: skip
        assert found == {"web-01": ["migrate-web-vm-1001-jz4dk"], "web-02": ["migrate-web-vm-1002-q8r2m"]}
        assert [m.get("name") for m in plan["vms"] if "metadata" not in m] == ["web-03"]  # never migrated

    api.patch(good, {"data": {"forklift.yaml": FORKLIFT.replace("  rel: vms\n", "  rel: targets\n")}})
    for gateway in gateways:  # a rel renamed: the new name follows, the old one is unknown
        eventually(partial(answers, gateway, 200, cluster.plan, follow="targets"))
        assert status(gateway, cluster.plan, follow="vms") == 400

    with caplog.at_level(logging.INFO, logger="gateway.store.declared"):
        broken = api.create(configmap("broken", cluster.links, {"bad.yaml": BROKEN}))
        source = f"configmap/{cluster.links}/broken/bad.yaml"
        for gateway in gateways:
            eventually(partial(declares, gateway, source))
            entry = declared(gateway)[source]
            assert entry["status"] == "Error" and entry["error"].startswith(f"{source}:")
            eventually(partial(names_in_readyz, gateway, source))  # and still ready
            ready = gateway.get("/readyz")
            assert status(gateway, cluster.plan, follow="targets") == 200  # the good declarations still work
            assert declared(gateway)[f"configmap/{cluster.links}/forklift/forklift.yaml"]["status"] == "Applied"
            for answer in (gateway.get("/catalog").text, ready.text):
                assert "not-for-callers-5e1f" not in answer and ".spec.dataVolumeTemplates" not in answer
        # another change elsewhere: the broken document is not logged again
        api.patch(good, {"data": {"forklift.yaml": FORKLIFT, "velero.yaml": (ROOT / "examples/links/velero.yaml")
                                  .read_text()}})  # fmt: skip
        for gateway in gateways:
            eventually(partial(answers, gateway, 200, cluster.plan, follow="vms"))
    left_out = [r for r in caplog.records if source in r.getMessage() and "left out" in r.getMessage()]
    assert len(left_out) == len(gateways)  # once per gateway, though the ConfigMaps changed since
    assert all("not-for-callers-5e1f" not in r.getMessage() for r in caplog.records)

    api.patch(broken, {"metadata": {"labels": {"kubevirt-gateway.io/links": None}}})
    api.delete(good)
    for gateway in gateways:  # unlabelled and deleted: both gone, and with them the kinds and links
        eventually(partial(answers, gateway, 400, cluster.vm, follow="plans"))
        eventually(partial(declares, gateway, source, present=False))
        assert status(gateway, cluster.plan) == 404
        eventually(partial(names_in_readyz, gateway, "left out", present=False))


def test_a_gateway_started_after_the_configmaps_answers_with_them_from_its_first_request(
    apiserver: KubeApiServer, cluster: Cluster, tmp_path: Path
) -> None:
    """The first request waits for the first list (once): no replica calls a declared rel unknown."""
    links = apiserver.api.namespace("links")
    apiserver.api.create(configmap("forklift", links, {"forklift.yaml": FORKLIFT}))
    app = create_app(live_config(apiserver.kubeconfig(tmp_path / "kubeconfig"), links_namespace=links))
    with serving(app) as gateway:
        plans = gateway.json(cluster.vm, follow="plans")["plans"]  # the very first request, no retry
        assert [p["metadata"]["name"] for p in plans] == ["migrate-web"]
    app.extensions["gateway_links_source"].close()
    app.extensions["gateway"].close()


def test_a_gateway_that_may_not_list_the_configmaps_is_not_ready_and_says_why(
    apiserver: KubeApiServer, tmp_path: Path
) -> None:
    """Without the Role of deploy/base/rbac.yaml (bob may do nothing but discovery), /readyz names the 403."""
    links = apiserver.api.namespace("links")
    kubeconfig = apiserver.kubeconfig(tmp_path / "kubeconfig", "bob-token")
    app = create_app(live_config(kubeconfig, links_namespace=links, api_timeout=2))
    with serving(app) as gateway:
        ready = gateway.get("/readyz")
        assert ready.status_code == 503
        assert (
            f"cannot list the ConfigMaps labelled kubevirt-gateway.io/links=true in {links}" in ready.json()["message"]
        )
        assert "403" in ready.json()["message"]
    app.extensions["gateway_links_source"].close()
    app.extensions["gateway"].close()
