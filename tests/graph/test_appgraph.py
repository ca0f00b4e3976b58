"""The application graph of the demo namespace, node by node; DOT; the page and its script."""

from __future__ import annotations

import shutil
import subprocess
from typing import Any

from gateway.catalog import CATALOG, href_for
from tests.support.gateway import Gateway

VM = "/namespaces/demo/vms/"
NAD = "/namespaces/demo/networkattachmentdefinitions/vlan10"
SERVICE = "/namespaces/demo/services/fedora-ssh"


def by_id(graph: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {r["id"]: r for r in graph["resources"]}


def test_the_demo_application_node_by_node(demo: Gateway) -> None:
    resources = by_id(demo.json("/namespaces/demo/graph"))
    assert set(resources) == {VM + n for n in ("cirros", "fedora", "rhel9", "win11")} | {SERVICE, NAD}

    service = resources[SERVICE]
    assert (service["type"], service["name"], service["provisioningState"]) == (
        "core/Service",
        "fedora-ssh",
        "Succeeded",
    )
    assert service["connections"] == [{"id": VM + "fedora", "direction": "Outbound"}]

    nad = resources[NAD]
    assert nad["type"] == "k8s.cni.cncf.io/NetworkAttachmentDefinition"
    assert nad["connections"] == [
        {"id": VM + "fedora", "direction": "Inbound"},
        {"id": VM + "rhel9", "direction": "Inbound"},
    ]

    fedora = resources[VM + "fedora"]
    assert fedora["type"] == "kubevirt.io/VirtualMachine" and fedora["provisioningState"] == "Succeeded"
    assert fedora["connections"] == [{"id": SERVICE, "direction": "Inbound"}, {"id": NAD, "direction": "Outbound"}]
    assert resources[VM + "rhel9"]["connections"] == [{"id": NAD, "direction": "Outbound"}]
    assert resources[VM + "win11"]["connections"] == []

    # a VM's output resources are its object graph, flattened, each by its path here
    for name in ("cirros", "fedora", "rhel9", "win11"):
        graph = demo.json(f"/namespaces/demo/vms/{name}/objectgraph", format="flat")["items"][1:]
        expected = [(i["objectReference"]["kind"], i["objectReference"]["name"]) for i in graph]
        outputs = resources[VM + name]["resources"]
        assert [(o["type"].rsplit("/", 1)[1], o["name"]) for o in outputs] == expected
        for out in outputs:
            assert demo.get(out["id"]).status_code == (404 if out["provisioningState"] == "Failed" else 200)

    # cirros names a secret that does not exist: it cannot start
    cirros = resources[VM + "cirros"]
    assert cirros["provisioningState"] == "Failed"
    assert [o["name"] for o in cirros["resources"] if o["provisioningState"] == "Failed"] == ["app-credentials"]


def test_a_label_selector_scopes_the_application(demo: Gateway) -> None:
    graph = demo.json("/namespaces/demo/graph", labelSelector="app.kubernetes.io/part-of=shop")
    assert {r["id"] for r in graph["resources"]} == {VM + "fedora", VM + "rhel9", SERVICE, NAD}


def test_an_empty_scope_is_404_and_a_bad_selector_400(demo: Gateway) -> None:
    empty = demo.get("/namespaces/demo/graph", labelSelector="app=nothing")
    assert empty.status_code == 404 and "empty" in empty.json()["message"]
    assert demo.get("/namespaces/nowhere/graph").status_code == 404
    assert demo.get("/namespaces/demo/graph", labelSelector="a in b").status_code == 400


def test_dot_output_names_every_resource_and_connection(demo: Gateway) -> None:
    response = demo.get("/namespaces/demo/graph", format="dot")
    assert response.headers["Content-Type"].startswith("text/vnd.graphviz")
    dot = response.text
    assert dot.startswith('digraph "demo" {') and dot.rstrip().endswith("}")
    assert f'"{SERVICE}" -> "{VM}fedora";' in dot
    assert f'"{VM}rhel9" -> "{NAD}";' in dot
    assert '[label="VirtualMachine\\ncirros", shape=box, style=filled' in dot
    dot_binary = shutil.which("dot")
    if dot_binary:  # Graphviz, where installed, must accept it
        subprocess.run([dot_binary, "-Tsvg", "-o", "/dev/null"], input=dot, text=True, check=True)


def test_reverse_links_answer_for_every_relationship_a_vm_declares(demo: Gateway) -> None:
    """Every object a VM names (through any Named link, its parts included) lists the VM back."""
    vm_kind = CATALOG.kind("VirtualMachine")
    checked = 0
    for vm in demo.json("/namespaces/demo/vms")["items"]:
        for ref in set(CATALOG.references(vm_kind, vm)):
            kind = CATALOG.kind(ref.kind)
            if "vms" not in CATALOG.all_links(kind.name):
                continue
            target = demo.get(href_for(kind, ref.namespace, ref.name), follow="vms")
            if target.status_code == 404:
                continue  # named but absent: nothing to ask
            names = [v["metadata"]["name"] for v in target.json()["vms"]]
            assert vm["metadata"]["name"] in names, (ref, names)
            checked += 1
    assert checked >= 10  # the demo VMs name 14 objects that have a reverse link


def test_the_page_is_html(demo: Gateway) -> None:
    """The page and its script (drawn in chromium by test_page.py), both by relative URL, neither asking for a
    token: they hold no cluster data."""
    response = demo.get("/ui/graph", namespace="demo")
    assert response.headers["Content-Type"].startswith("text/html")
    assert '<script src="graph.js"></script>' in response.text
    script = demo.get("/ui/graph.js")
    assert script.status_code == 200 and script.headers["Content-Type"].startswith("text/javascript")
    assert "cytoscape" in script.text


def test_standalone_vmis_are_workloads_of_the_application_graph(demo: Gateway) -> None:
    resources = {r["id"]: r for r in demo.json("/namespaces/lab/graph")["resources"]}
    probe = resources["/namespaces/lab/vmis/probe"]
    assert probe["type"] == "kubevirt.io/VirtualMachineInstance" and probe["provisioningState"] == "Succeeded"
    assert {"id": "/namespaces/lab/services/probe-http", "direction": "Inbound"} in probe["connections"]
    assert {o["id"] for o in probe["resources"]} >= {"/namespaces/lab/secrets/probe-userdata",
                                                   "/namespaces/lab/secrets/probe-password"}  # fmt: skip
    service = resources["/namespaces/lab/services/probe-http"]
    assert service["connections"] == [{"id": "/namespaces/lab/vmis/probe", "direction": "Outbound"}]
    # a replica set's VMI stands alone too; a VM's VMI is part of its VM, not a workload of its own
    assert "/namespaces/lab/vmis/batch7q2kx" in resources and "/namespaces/lab/vms/web-0" in resources
    assert not any(i.startswith("/namespaces/demo/vmis/") for i in demo_ids(demo))


def demo_ids(demo: Gateway) -> set[str]:
    return {r["id"] for r in demo.json("/namespaces/demo/graph")["resources"]}
