"""Declared links over the real kube-apiserver (a made-up example.com Widget CRD installed): every resolver and
inverse through the watch cache and through direct reads, the batched read count, and RBAC on selector and inverse
links (a link found by a query needs `list` on its target, where the target is)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from gateway.app import create_app
from tests.catalog.declared_scenario import (
    LINKS,
    WIDGET_CRD,
    check_every_resolver,
    names,
    targets,
    vm,
    widget,
    widgets,
)
from tests.support import apiserver as support
from tests.support.apiserver import ADMIN_TOKEN, KubeApiServer, crd
from tests.support.gateway import Caller, Gateway, gateway_over, live_config, serving
from tests.support.sse import watching
from tests.support.waiting import eventually

RBAC = "rbac.authorization.k8s.io/v1"
GIZMOS = """\
apiVersion: kubevirt-gateway.io/v1alpha1
kind: LinkCatalog
kinds:
- {kind: Gizmo, apiVersion: example.com/v1, resource: gizmos}
links:
- {from: Gizmo, rel: widget, to: Widget, name: .spec.widget, inverse: gizmos}
"""


@pytest.fixture(scope="module")
def cluster(apiserver: KubeApiServer, tmp_path_factory: pytest.TempPathFactory) -> tuple[KubeApiServer, str, str, Path]:
    """The Widget CRD, two namespaces of this module's own, the widgets and what they name; the links file."""
    apiserver.install_crds([crd(WIDGET_CRD)])
    support.RESOURCES[("example.com/v1", "Widget")] = ("widgets", True)  # for the test's hands to create widgets
    api = apiserver.api
    home, away = api.namespace("home"), api.namespace("away")
    for obj in targets(home, away):
        api.create(obj)
    gamma = api.get("kubevirt.io/v1", "VirtualMachine", home, "gamma")
    for obj in widgets(home, away, gamma["metadata"]["uid"]):
        api.create(obj)
    links = tmp_path_factory.mktemp("links") / "links.yaml"
    links.write_text(LINKS)
    return apiserver, home, away, links


@pytest.mark.parametrize("cache", ["watch", "none"])
def test_every_resolver_and_inverse_over_the_api_server(
    cluster: tuple[KubeApiServer, str, str, Path], tmp_path: Path, cache: str
) -> None:
    apiserver, home, away, links = cluster
    gizmos = tmp_path / "gizmos.yaml"  # a kind no CRD serves: listed as not served, read as empty
    gizmos.write_text(GIZMOS)
    with gateway_over(apiserver.kubeconfig(tmp_path / "kc"), cache=cache, links=(str(links), str(gizmos))) as gateway:
        check_every_resolver(lambda path, follow: gateway.json(path, follow=follow), home, away)
        kinds = {k["kind"]: k for k in gateway.json("/catalog")["kinds"]}
        assert kinds["Gizmo"]["served"] is False and "served" not in kinds["Widget"]
        assert gateway.json(f"/namespaces/{home}/gizmos")["items"] == []
        assert [s["status"] for s in gateway.json("/catalog")["declared"]] == ["Applied", "Applied"]
        batched = gateway.get(f"/namespaces/{home}/widgets", follow="vms,peers,config")
        assert Gateway.reads(batched) == 1 + 3  # the list, then one read per link for the whole level
        assert names(batched.json()["items"]) == ["w1", "w2", "w3"]
        inverse = gateway.get(f"/namespaces/{away}/vms", follow="widgets")
        assert Gateway.reads(inverse) == 1 + 1  # one search of every namespace for the level's widgets


def _role(namespace: str, name: str, rules: list[dict[str, Any]], user: str) -> list[dict[str, Any]]:
    meta = {"name": name, "namespace": namespace}
    return [
        {"apiVersion": RBAC, "kind": "Role", "metadata": meta, "rules": rules},
        {"apiVersion": RBAC, "kind": "RoleBinding", "metadata": meta,
         "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": name},
         "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": user}]},
    ]  # fmt: skip


def _may(resources: str, group: str, *verbs: str) -> dict[str, Any]:
    return {"apiGroups": [group], "resources": [resources], "verbs": list(verbs)}


@pytest.fixture(scope="module")
def guarded(
    cluster: tuple[KubeApiServer, str, str, Path], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Gateway, str, str]]:
    """erin may get widgets at home but list none, and get but not list VMs there; dave may list widgets at home.
    Both may read the VMs in `away`."""
    apiserver, home, away, links = cluster
    policy = [
        *_role(home, "erin", [_may("widgets", "example.com", "get"), _may("virtualmachines", "kubevirt.io", "get")],
               "erin"),
        *_role(home, "dave", [_may("widgets", "example.com", "get", "list")], "dave"),
        *_role(away, "erin", [_may("virtualmachines", "kubevirt.io", "get", "list")], "erin"),
        *_role(away, "dave", [_may("virtualmachines", "kubevirt.io", "get", "list")], "dave"),
    ]  # fmt: skip
    for obj in policy:
        apiserver.api.apply(obj)
    kubeconfig = apiserver.kubeconfig(tmp_path_factory.mktemp("kc") / "kc")
    config = live_config(kubeconfig, auth="kubernetes", cache="none", links=(str(links),))
    with serving(create_app(config)) as gateway:
        yield gateway, home, away


def test_an_inverse_link_needs_list_on_its_sources_where_they_are(guarded: tuple[Gateway, str, str]) -> None:
    gateway, _, away = guarded
    admin, dave, erin = Caller(gateway, ADMIN_TOKEN), Caller(gateway, "dave-token"), Caller(gateway, "erin-token")
    alpha = f"/namespaces/{away}/vms/alpha"
    assert names(admin.json(alpha, follow="widgets")["widgets"]) == ["w1", "w2"]
    assert names(dave.json(alpha, follow="widgets")["widgets"]) == ["w1", "w2"]  # dave may list them at home
    assert erin.json(alpha, follow="widgets")["widgets"] == []  # erin may get each, but not learn who names alpha
    response = erin.get(f"{alpha}/widgets")
    assert response.status_code == 403 and "list" in response.json()["message"]


def test_a_selector_link_needs_list_on_its_target(guarded: tuple[Gateway, str, str]) -> None:
    gateway, home, _ = guarded
    admin, erin = Caller(gateway, ADMIN_TOKEN), Caller(gateway, "erin-token")
    w1 = f"/namespaces/{home}/widgets/w1"
    assert names(admin.json(w1, follow="peers")["peers"]) == ["gamma"]
    answer = erin.json(w1, follow="peers,owner")
    assert answer["peers"] == []  # erin may get gamma, but not list the VMs a selector searches
    assert answer["owner"]["metadata"]["name"] == "gamma"  # a named target needs only get
    response = erin.get(f"{w1}/peers")
    assert response.status_code == 403 and "list" in response.json()["message"]


BAD = LINKS.replace("rel: peers", "rel: vmi").replace("from: Widget\n  rel: vmi", "from: VirtualMachine\n  rel: vmi")


def test_documents_applied_at_run_time_take_effect_and_a_bad_one_is_left_out_alone(
    cluster: tuple[KubeApiServer, str, str, Path], tmp_path: Path
) -> None:
    """What the ConfigMap source calls with every current document: the catalogue in use changes at once,
    remembered answers of the old one are not served, and a bad document is named with its error."""
    apiserver, home, away, _ = cluster
    # heartbeats often: a closed stream is noticed at its next one, and the server stops without waiting long
    with gateway_over(apiserver.kubeconfig(tmp_path / "kc"), heartbeat_seconds=0.2) as gateway:
        declared = gateway.app.extensions["gateway_declared"]
        alpha = f"/namespaces/{away}/vms/alpha"
        assert "widgets" not in gateway.json(alpha)["links"]
        assert "widgets" not in gateway.json(alpha)["links"]  # remembered now
        assert gateway.get(f"/namespaces/{home}/widgets").status_code == 404
        with watching(gateway, alpha) as events:  # a live stream builds its document again, from the new links
            assert "widgets" not in events.next()[1]["links"]
            statuses = declared.apply({"configmap/gw/widgets/links.yaml": LINKS, "configmap/gw/broken/links.yaml": BAD})
            assert events.next()[1]["links"]["widgets"] == {"href": f"{alpha}/widgets"}
        assert [s.document() for s in statuses] == [
            {"source": "configmap/gw/broken/links.yaml", "status": "Error",
             "error": "configmap/gw/broken/links.yaml:4: kinds[0].kind: Widget is already a kind"},
            {"source": "configmap/gw/widgets/links.yaml", "status": "Applied"},
        ]  # fmt: skip
        assert gateway.json(alpha)["links"]["widgets"] == {"href": f"{alpha}/widgets"}  # not the remembered one
        check_every_resolver(lambda path, follow: gateway.json(path, follow=follow), home, away)
        assert gateway.json("/catalog")["declared"] == [s.document() for s in statuses]
        # the broken document alone, its kind now free: applied; the other's links are gone with it
        statuses = declared.apply({"configmap/gw/broken/links.yaml": BAD})
        assert [s.error for s in statuses] == ["configmap/gw/broken/links.yaml:16: links[1].rel: VirtualMachine "
                                               "already has a link named 'vmi'"]  # fmt: skip
        declared.apply({})
        assert gateway.get(f"/namespaces/{home}/widgets").status_code == 404
        assert "widgets" not in gateway.json(alpha)["links"]
        assert "declared" not in gateway.json("/catalog")


def test_a_remembered_answer_with_declared_links_is_dropped_only_by_a_change_it_read(
    cluster: tuple[KubeApiServer, str, str, Path], tmp_path: Path
) -> None:
    """Declared links file their reads as built-in ones do: a change to an unrelated VM keeps the answer; the
    VM a widget names appearing, or a VM its selector finds, is on the next request."""
    apiserver, _, _, links = cluster
    api = apiserver.api
    ns = api.namespace("inv")
    api.create(vm(ns, "noise", "db"))
    api.create(widget(ns, "w9", {"vms": [{"name": "later"}], "selector": {"tier": "web"}}))
    page = f"/namespaces/{ns}/widgets/w9"
    with gateway_over(apiserver.kubeconfig(tmp_path / "kc"), links=(str(links),)) as gateway:

        def remembered() -> bool:
            response = gateway.get(page, follow="vms,peers")
            return response.headers.get("X-Gateway-Cache") == "hit" and Gateway.reads(response) == 0

        eventually(remembered)
        api.patch(vm(ns, "noise", "db"), {"metadata": {"annotations": {"touched": "yes"}}})
        eventually(lambda: gateway.json(f"/namespaces/{ns}/vms/noise")["metadata"].get("annotations"))
        assert remembered()  # neither named nor selected: nothing the answer read
        api.create(vm(ns, "later", "web"))  # named by w9, and selected by it too
        answer = eventually(lambda: (d := gateway.json(page, follow="vms,peers"))["peers"] and d)
        assert names(answer["vms"]) == ["later"] and names(answer["peers"]) == ["later"]
