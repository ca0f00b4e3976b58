"""Every path also under /apis/kubevirt-gateway.io/v1alpha1 (DESIGN section 13), over real HTTP: the same
answers with hrefs under the prefix the request came in on, whatever was answered before and however it
is encoded; the API group's discovery documents. tests/kube/test_aggregated.py goes through a real
kube-apiserver."""

from __future__ import annotations

import json

import requests
import yaml
from openapi_spec_validator import validate

from gateway.catalog import CATALOG
from tests.support.gateway import Gateway

PREFIX = "/apis/kubevirt-gateway.io/v1alpha1"
FEDORA = "/namespaces/demo/vms/fedora"


def _hrefs(document: object) -> list[str]:
    found: list[str] = []

    def walk(node: object) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "href" and isinstance(value, str):
                    found.append(value)
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(document)
    return found


def test_an_answer_under_the_prefix_is_the_same_with_its_hrefs_under_it(demo: Gateway) -> None:
    plain = demo.get(FEDORA, follow="volumes.pvc,vmi.pod")
    prefixed = demo.get(PREFIX + FEDORA, follow="volumes.pvc,vmi.pod")
    assert plain.status_code == prefixed.status_code == 200
    hrefs = _hrefs(prefixed.json())
    assert len(hrefs) > 10 and all(h.startswith(PREFIX + "/") for h in hrefs)
    assert json.loads(prefixed.text.replace(f'"href":"{PREFIX}/', '"href":"/')) == plain.json()
    for href in hrefs[:5]:  # each leads somewhere under the prefix
        assert demo.get(href).status_code == 200, href


def test_the_prefix_holds_after_the_plain_answer_was_remembered_and_compressed(demo: Gateway) -> None:
    """The plain answer first, gzip-encoded and remembered; then the prefixed one, twice (from memory the
    second time), plain and gzip: each has its own bytes and ETag, never the other's."""
    path = "/namespaces/demo/vms/rhel9"
    session = requests.Session()
    first = session.get(demo.url + path, headers={"Accept-Encoding": "gzip"}, timeout=30)
    assert first.json()["href"] == path
    tags = set()
    for encoding in ("gzip", "gzip", "identity", "gzip"):
        answer = session.get(demo.url + PREFIX + path, headers={"Accept-Encoding": encoding}, timeout=30)
        assert answer.json()["href"] == PREFIX + path, encoding
        tags.add(answer.headers["ETag"])
        again = session.get(demo.url + PREFIX + path, headers={"If-None-Match": answer.headers["ETag"]}, timeout=30)
        assert again.status_code == 304
    assert first.headers["ETag"] not in tags


def test_a_collection_is_also_named_as_discovery_names_it(demo: Gateway) -> None:
    by_resource = demo.get(f"{PREFIX}/namespaces/demo/virtualmachines/fedora")
    assert by_resource.status_code == 200
    assert by_resource.json()["href"] == PREFIX + FEDORA
    assert demo.get("/namespaces/demo/virtualmachines/fedora").status_code == 404  # only under the prefix


def test_a_live_stream_under_the_prefix_sends_prefixed_documents(demo: Gateway) -> None:
    url = f"{demo.url}{PREFIX}{FEDORA}"
    with requests.get(url, params={"watch": "true", "follow": "vmi"}, stream=True, timeout=30) as response:
        assert response.status_code == 200
        lines = response.iter_lines(decode_unicode=True)
        assert next(lines) == "event: document"
        document = json.loads(next(lines).removeprefix("data: "))
    assert document["href"] == PREFIX + FEDORA
    assert document["vmi"]["href"] == f"{PREFIX}/namespaces/demo/vmis/fedora"


def test_the_api_group_is_discovered_as_kubernetes_serves_discovery(demo: Gateway) -> None:
    """Field names as k8s.io/apimachinery's meta/v1 types.go writes them."""
    version = {"groupVersion": "kubevirt-gateway.io/v1alpha1", "version": "v1alpha1"}
    group = {"name": "kubevirt-gateway.io", "versions": [version], "preferredVersion": version}
    assert demo.json("/apis") == {"kind": "APIGroupList", "apiVersion": "v1", "groups": [group]}
    assert demo.json("/apis/kubevirt-gateway.io") == {"kind": "APIGroup", "apiVersion": "v1", **group}
    resources = demo.json(PREFIX)
    assert (resources["kind"], resources["groupVersion"]) == ("APIResourceList", "kubevirt-gateway.io/v1alpha1")
    by_name = {r["name"]: r for r in resources["resources"]}
    assert set(by_name) == {k.plural for k in CATALOG.kinds() if not k.part}
    assert by_name["virtualmachines"] == {
        "name": "virtualmachines",
        "singularName": "virtualmachine",
        "namespaced": True,
        "kind": "VirtualMachine",
        "verbs": ["get", "list", "watch"],
    }
    assert by_name["nodes"]["namespaced"] is False


def test_the_contract_under_the_prefix_names_it_as_its_server(demo: Gateway) -> None:
    """A client of the document served under the prefix (Swagger UI's "Try it out", a generated client)
    sends its calls there; the plain document names no server and is the checked-in one."""
    plain = demo.get("/openapi.json").json()
    assert "servers" not in plain
    for name in ("/openapi.json", "/openapi.yaml"):
        served = demo.get(PREFIX + name)
        document = served.json() if name.endswith(".json") else yaml.safe_load(served.text)
        assert document.pop("servers") == [{"url": PREFIX}]
        assert document == plain
    validate(demo.get(PREFIX + "/openapi.json").json())
