"""The application graph with user-declared links, in-process: the objects a declared link leads to from
a workload (or that name it, through an `inverse`) are resources of their own, connected to it both ways
and once each, whether its piece was built with all the others, alone, or recalled."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from gateway.app import build_documents
from gateway.catalog import Catalog, parse_link_catalog
from gateway.catalog import build as catalogue
from gateway.catalog.selectors import LabelSelector
from gateway.changes.pieces import PieceMemory
from gateway.changes.reads import ReadRecorder
from gateway.config import Config
from gateway.graph.appgraph import ApplicationGraphBuilder, KeepsPieces
from gateway.store.feed import ChangeFeed
from gateway.store.snapshot import SnapshotStore
from tests.catalog.declared_scenario import LINKS, targets, widgets
from tests.core.test_appgraph_units import NS, DictMemo, pvc, vm
from tests.support.policies import ScopedPolicy

HOME, AWAY = "home", "away"
# a link from the workload kind itself, beside the scenario's inverses into it: Outbound from the VM
SETTINGS = """\
apiVersion: kubevirt-gateway.io/v1alpha1
kind: LinkCatalog
links:
- from: VirtualMachine
  rel: settings
  to: ConfigMap
  name: .metadata.labels.settings
"""
# the Services' selector declared again by a user: it leads to the same objects as the built-in search
FRONTS = """\
apiVersion: kubevirt-gateway.io/v1alpha1
kind: LinkCatalog
links:
- from: Service
  rel: backends
  to: VirtualMachine
  inverse: fronts
  selector: .spec.selector
"""


def href(namespace: str, collection: str, name: str) -> str:
    return f"/namespaces/{namespace}/{collection}/{name}"


def objects() -> list[dict[str, Any]]:
    """The declared-link scenario, with VM alpha naming the ConfigMap `settings` by a label."""
    found = targets(HOME, AWAY) + widgets(HOME, AWAY, "9d0c6d0e-0000-4000-8000-000000000001")
    alpha = next(o for o in found if o["kind"] == "VirtualMachine" and o["metadata"]["name"] == "alpha")
    alpha["metadata"]["labels"]["settings"] = "settings"
    return found


def with_links(*documents: str) -> Catalog:
    return catalogue([parse_link_catalog(text, f"links-{i}.yaml") for i, text in enumerate(documents)])


def graph(
    catalog: Catalog,
    found: list[dict[str, Any]],
    namespace: str,
    access: ScopedPolicy | None = None,
    pieces: KeepsPieces | None = None,
) -> dict[str, dict[str, Any]]:
    store = SnapshotStore.from_objects(catalog, found, "unit")
    builder = ApplicationGraphBuilder(build_documents(Config(), catalog).engine, pieces)
    built = builder.build(store, namespace, LabelSelector(), access)
    return {r["id"]: r for r in built["resources"]}


W1, W2 = href(HOME, "widgets", "w1"), href(HOME, "widgets", "w2")
ALPHA, BETA, GAMMA = href(AWAY, "vms", "alpha"), href(AWAY, "vms", "beta"), href(HOME, "vms", "gamma")
SETTINGS_ID = href(AWAY, "configmaps", "settings")


def test_objects_naming_a_vm_connect_outbound_to_it_and_what_it_names_inbound_from_it() -> None:
    resources = graph(with_links(LINKS, SETTINGS), objects(), AWAY)
    assert sorted(resources) == sorted([ALPHA, BETA, SETTINGS_ID, W1, W2])
    # a widget is a top-level resource of its own kind, in the state of an object that exists
    assert resources[W1] == {
        "id": W1, "type": "example.com/Widget", "name": "w1", "resources": [],
        "connections": [{"id": ALPHA, "direction": "Outbound"}, {"id": BETA, "direction": "Outbound"}],
        "provisioningState": "Succeeded",
    }  # fmt: skip
    assert resources[W2]["connections"] == [{"id": ALPHA, "direction": "Outbound"}]
    # alpha names the ConfigMap itself: it connects Outbound to it, the ConfigMap Inbound from alpha
    # (in the catalogue's order of the links: the scenario's inverses were declared first)
    assert resources[ALPHA]["connections"] == [
        {"id": W1, "direction": "Inbound"},
        {"id": W2, "direction": "Inbound"},
        {"id": SETTINGS_ID, "direction": "Outbound"},
    ]
    assert resources[SETTINGS_ID] == {
        "id": SETTINGS_ID, "type": "core/ConfigMap", "name": "settings", "resources": [],
        "connections": [{"id": ALPHA, "direction": "Inbound"}], "provisioningState": "Succeeded",
    }  # fmt: skip
    assert resources[BETA]["connections"] == [{"id": W1, "direction": "Inbound"}]


def test_two_links_from_the_same_object_are_one_connection() -> None:
    """gamma is named by w1's owner reference's inverse and selected by w1's selector: one connection."""
    resources = graph(with_links(LINKS), objects(), HOME)
    assert resources[GAMMA]["connections"] == [{"id": W1, "direction": "Inbound"}]
    assert resources[W1]["connections"] == [{"id": GAMMA, "direction": "Outbound"}]


def test_a_declared_link_to_a_service_that_selects_the_vm_adds_no_second_connection() -> None:
    """A Service found by the built-in search and by a user's link alike is one resource, connected once."""
    service = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "front", "namespace": AWAY},
               "spec": {"selector": {"tier": "web"}}}  # fmt: skip
    found = objects()
    alpha = next(o for o in found if o["kind"] == "VirtualMachine" and o["metadata"]["name"] == "alpha")
    alpha["spec"]["template"]["metadata"] = {"labels": {"tier": "web"}}  # its VMI's labels: the built-in search's
    resources = graph(with_links(LINKS, FRONTS), [*found, service], AWAY)
    front = href(AWAY, "services", "front")
    assert resources[front]["connections"] == [{"id": ALPHA, "direction": "Outbound"}]
    assert resources[front]["type"] == "core/Service"
    assert resources[ALPHA]["connections"] == [
        {"id": front, "direction": "Inbound"},
        {"id": W1, "direction": "Inbound"},
        {"id": W2, "direction": "Inbound"},
    ]


def test_objects_the_caller_may_not_know_of_are_no_connections() -> None:
    """A caller who may read `away` only: the widgets at home that name its VMs stay unknown to them,
    what its VM names in `away` is connected; and one who may not read ConfigMaps does not see that."""
    resources = graph(with_links(LINKS, SETTINGS), objects(), AWAY, ScopedPolicy(AWAY))
    assert sorted(resources) == sorted([ALPHA, BETA, SETTINGS_ID])
    assert resources[ALPHA]["connections"] == [{"id": SETTINGS_ID, "direction": "Outbound"}]
    assert resources[BETA]["connections"] == []
    hidden = graph(with_links(LINKS, SETTINGS), objects(), AWAY, ScopedPolicy(AWAY, kinds={"ConfigMap"}))
    assert sorted(hidden) == sorted([ALPHA, BETA])
    assert hidden[ALPHA]["connections"] == []


@pytest.mark.parametrize("namespace", [AWAY, HOME])
def test_kept_pieces_connect_declared_objects_as_a_graph_built_at_once(namespace: str) -> None:
    catalog, found = with_links(LINKS, SETTINGS), objects()
    at_once = graph(catalog, found, namespace)
    assert graph(catalog, found, namespace, pieces=DictMemo()) == at_once
    store = SnapshotStore.from_objects(catalog, found, "unit")
    feed = ChangeFeed()
    memory = PieceMemory(store, feed, catalog, 1024 * 1024)
    builder = ApplicationGraphBuilder(build_documents(Config(), catalog).engine, memory)
    for _ in range(2):  # built together, then recalled
        built = builder.build(ReadRecorder(store, feed), namespace, LabelSelector())
        assert {r["id"]: r for r in built["resources"]} == at_once


def test_a_workload_without_declared_links_has_only_its_built_in_connections() -> None:
    """The built-in catalogue: the same objects give the VMs alone, unconnected (widgets are unknown)."""
    plain = [copy.deepcopy(o) for o in objects() if o["kind"] != "Widget"]
    resources = graph(with_links(), plain, AWAY)
    assert sorted(resources) == sorted([ALPHA, BETA])
    assert all(r["connections"] == [] for r in resources.values())


BACKUP = """\
apiVersion: kubevirt-gateway.io/v1alpha1
kind: LinkCatalog
links:
- from: VirtualMachine
  rel: backup
  to: PersistentVolumeClaim
  name: .metadata.labels.backup
"""


def test_a_shared_claim_a_declared_link_names_keeps_every_connection_once() -> None:
    """Claim `shared` is the disk of VMs a and b, so a resource of its own; a (again) and c name it in a
    label of a user's link: every VM connects Outbound to it once, and it Inbound from each of them."""
    a, b, c = vm("a", "shared"), vm("b", "shared"), vm("c", "own")
    a["metadata"]["labels"] = {"backup": "shared"}
    c["metadata"]["labels"] = {"backup": "shared"}
    resources = graph(with_links(BACKUP), [a, b, c, pvc("shared"), pvc("own")], NS)
    shared, ids = f"/namespaces/{NS}/pvcs/shared", {name: f"/namespaces/{NS}/vms/{name}" for name in "abc"}
    assert resources[shared] == {
        "id": shared, "type": "core/PersistentVolumeClaim", "name": "shared", "resources": [],
        "connections": [{"id": ids[name], "direction": "Inbound"} for name in "acb"],
        "provisioningState": "Succeeded",
    }  # fmt: skip
    for name in "abc":
        assert resources[ids[name]]["connections"] == [{"id": shared, "direction": "Outbound"}]


MOUNTED = """\
apiVersion: kubevirt-gateway.io/v1alpha1
kind: LinkCatalog
links:
- from: VirtualMachine
  rel: mounted
  to: ConfigMap
  name: .spec.template.spec.volumes[*].configMap.name
"""


def test_what_a_declared_link_names_but_is_absent_is_no_resource_and_the_rest_are_connected() -> None:
    web = vm("web", "disk")
    web["spec"]["template"]["spec"]["volumes"] += [
        {"name": "gone", "configMap": {"name": "gone"}},
        {"name": "app", "configMap": {"name": "app-config"}},
    ]
    config = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "app-config", "namespace": NS}, "data": {}}
    resources = graph(with_links(MOUNTED), [web, pvc("disk"), config], NS)
    app = f"/namespaces/{NS}/configmaps/app-config"
    assert sorted(resources) == sorted([f"/namespaces/{NS}/vms/web", app])
    assert resources[f"/namespaces/{NS}/vms/web"]["connections"] == [{"id": app, "direction": "Outbound"}]
    assert resources[app]["connections"] == [{"id": f"/namespaces/{NS}/vms/web", "direction": "Inbound"}]
