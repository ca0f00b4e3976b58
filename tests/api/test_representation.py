"""DESIGN section 3 over HTTP: href, links, embedding, missing markers, secrets, collections."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from gateway.app import create_app
from gateway.catalog import CATALOG
from gateway.config import Config
from tests.api.embedded import embedded, kinds_and_names
from tests.support.gateway import Gateway, serving


def test_the_cards_example(demo: Gateway) -> None:
    doc = demo.json("/vms/fedora", namespace="demo", follow="volumes.pvc,instancetype.revision")
    assert (doc["kind"], doc["metadata"]["name"]) == ("VirtualMachine", "fedora")
    assert doc["href"] == "/namespaces/demo/vms/fedora"
    volumes = {v["name"]: v for v in doc["volumes"]}
    assert volumes["rootdisk"]["pvc"]["metadata"]["name"] == "fedora-root"
    assert volumes["rootdisk"]["pvc"]["href"] == "/namespaces/demo/pvcs/fedora-root"
    assert "pvc" not in volumes["cloudinitdisk"]  # a cloud-init disk reads no PVC
    revision = doc["instancetype"]["revision"]
    assert revision["kind"] == "ControllerRevision"
    assert revision["metadata"]["name"] == doc["status"]["instancetypeRef"]["controllerRevisionRef"]["name"]


def test_short_form_uses_the_default_namespace(demo: Gateway) -> None:
    # serving the demo, the default namespace is the demo's own: the card's URL answers
    doc = demo.json("/vms/fedora", follow="volumes.pvc,instancetype.revision")
    assert doc["href"] == "/namespaces/demo/vms/fedora"
    assert doc["instancetype"]["revision"]["kind"] == "ControllerRevision"


def test_the_default_namespace_is_default_beyond_the_demo() -> None:
    assert Config(manifests=("x.yaml",)).validated().default_namespace == "default"
    assert Config(demo=True, default_namespace="other").validated().default_namespace == "other"
    assert Config().validated().default_namespace == "demo"


def test_links_name_their_targets_without_reading_them(demo_generic: Gateway) -> None:
    response = demo_generic.get("/namespaces/demo/vms/fedora")
    assert Gateway.reads(response) == 1
    links = response.json()["links"]
    assert links["instancetype"] == {
        "href": "/clusterinstancetypes/u1.medium",
        "kind": "VirtualMachineClusterInstancetype",
        "name": "u1.medium",
    }
    assert links["volumes"] == {"href": "/namespaces/demo/vms/fedora/volumes"}
    assert "backendstorage" not in links  # fedora has no persistent TPM or EFI


def test_a_vm_without_a_preference_has_no_preference_link(demo: Gateway) -> None:
    doc = demo.json("/namespaces/demo/vms/rhel9", follow="preference")
    assert "preference" not in doc["links"]
    assert "preference" not in doc


def test_a_stopped_vm_has_no_vmi_link(demo: Gateway) -> None:
    doc = demo.json("/namespaces/demo/vms/win11", follow="vmi")
    assert "vmi" not in doc["links"] and "vmi" not in doc


def test_managed_fields_are_removed(demo: Gateway) -> None:
    doc = demo.json("/namespaces/demo/vms/fedora")
    assert "managedFields" not in doc["metadata"]


def test_pinned_revision_falls_back_to_spec_revision_name(demo: Gateway) -> None:
    doc = demo.json("/namespaces/demo/vms/rhel9", follow="instancetype.revision")
    assert "instancetypeRef" not in doc["status"]
    assert doc["instancetype"]["revision"]["metadata"]["name"] == doc["spec"]["instancetype"]["revisionName"]


def test_namespaced_instancetype_is_found_in_the_vms_namespace(demo: Gateway) -> None:
    doc = demo.json("/namespaces/demo/vms/win11", follow="instancetype")
    assert doc["instancetype"]["kind"] == "VirtualMachineInstancetype"
    assert doc["instancetype"]["href"] == "/namespaces/demo/instancetypes/win-large"


def test_garbage_collected_datavolume_is_marked_and_its_pvc_still_resolves(demo: Gateway) -> None:
    doc = demo.json("/namespaces/demo/vms/rhel9", follow="volumes.datavolume,volumes.pvc,datavolumetemplates")
    rootdisk = next(v for v in doc["volumes"] if v["name"] == "rootdisk")
    marker = {
        "href": "/namespaces/demo/datavolumes/rhel9-root",
        "kind": "DataVolume",
        "name": "rhel9-root",
        "missing": True,
        "reason": "GarbageCollected",
    }
    assert rootdisk["datavolume"] == marker
    assert doc["datavolumetemplates"] == [marker]
    assert rootdisk["pvc"]["metadata"]["name"] == "rhel9-root"
    assert not rootdisk["pvc"].get("missing")


def test_a_missing_datavolume_whose_pvc_is_missing_too_is_not_found(tmp_path: Any) -> None:
    (tmp_path / "vm.yaml").write_text(
        "apiVersion: kubevirt.io/v1\nkind: VirtualMachine\nmetadata: {name: lost, namespace: demo}\n"
        "spec:\n  template:\n    spec:\n      volumes:\n      - {name: root, dataVolume: {name: gone}}\n"
    )
    with serving(create_app(Config(manifests=(str(tmp_path),), extra={"TESTING": True}))) as gateway:
        doc = gateway.json("/namespaces/demo/vms/lost", follow="volumes.datavolume,volumes.pvc")
    volume = doc["volumes"][0]
    assert volume["datavolume"]["reason"] == "NotFound"
    assert volume["pvc"]["reason"] == "NotFound"


def test_a_missing_secret_is_data_not_an_error(demo: Gateway) -> None:
    response = demo.get("/namespaces/demo/vms/cirros", follow="volumes.secret,volumes.userdata")
    assert response.status_code == 200
    volumes = {v["name"]: v for v in response.json()["volumes"]}
    assert volumes["credentials"]["secret"] == {
        "href": "/namespaces/demo/secrets/app-credentials",
        "kind": "Secret",
        "name": "app-credentials",
        "missing": True,
        "reason": "NotFound",
    }
    assert volumes["cloudinitdisk"]["userdata"]["metadata"]["name"] == "cirros-userdata"


SECRET_VALUES = [
    base64.b64decode("c3NoLWVkMjU1MTkgQUFBQUMzTnphQzFsWkRJMU5URTVBQUFBSURlbW8gZGVtb0BrdWJldmlydA==").decode(),
    "c3NoLWVkMjU1MTkgQUFBQUMzTnphQzFsWkRJMU5URTVBQUFBSURlbW8gZGVtb0BrdWJldmlydA==",
    "demo-export-token-1f2e3d4c",
    "I2Nsb3VkLWNvbmZpZwp1c2VyOiBmZWRvcmEKcGFzc3dvcmQ6IGRlbW8tcGFzc3dvcmQKY2hwYXNzd2Q6IHsgZXhwaXJlOiBGYWxzZSB9Cg==",
]


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("/namespaces/demo/secrets", {}),
        ("/secrets", {}),
        ("/namespaces/demo/secrets/ssh-key", {}),
        ("/namespaces/demo/vms/fedora", {"follow": "accesscredentials,volumes.userdata,*.*"}),
        ("/namespaces/demo/vms", {"follow": "*.*.*"}),
        ("/namespaces/demo/vms/fedora/accesscredentials", {}),
    ],
)
def test_secret_contents_never_leave_the_gateway(demo: Gateway, path: str, params: dict[str, str]) -> None:
    response = demo.get(path, **params)
    assert response.status_code == 200
    for value in SECRET_VALUES:
        assert value not in response.text
    assert "last-applied-configuration" not in response.text


def test_secrets_carry_their_key_names(demo: Gateway) -> None:
    secrets = {s["metadata"]["name"]: s for s in demo.json("/namespaces/demo/secrets")["items"]}
    assert secrets["ssh-key"]["dataKeys"] == ["key"]
    assert secrets["fedora-export-token"]["dataKeys"] == ["token"]  # from stringData
    assert secrets["rhel9-tls"]["dataKeys"] == ["tls.crt", "tls.key"]
    for secret in secrets.values():
        assert "data" not in secret and "stringData" not in secret


def test_no_rel_is_named_like_a_field_of_its_entity(demo: Gateway) -> None:
    for kind in CATALOG.kinds():
        rels = set(CATALOG.all_links(kind.name))
        if kind.name == "ObjectGraph":
            continue  # a computed document with no links of its own
        if kind.part:
            owner = "/namespaces/demo/vms/fedora/" + kind.collection
            items = demo.json(owner)["items"]
        else:
            items = demo.json("/" + kind.collection)["items"]
        for item in items:
            fields = set(item) - {"href", "links"}
            assert not rels & fields, (kind.name, rels & fields)


def test_star_follows_every_link_of_each_entity(demo: Gateway) -> None:
    doc = demo.json("/namespaces/demo/vms/fedora", follow="*")
    assert set(doc["links"]) <= set(doc)
    volumes = demo.json("/namespaces/demo/vms/fedora", follow="volumes.*")["volumes"]
    rootdisk = next(v for v in volumes if v["name"] == "rootdisk")
    assert set(rootdisk["links"]) == {"pvc", "datavolume"} <= set(rootdisk)


def test_star_and_explicit_paths_merge(demo: Gateway) -> None:
    doc = demo.json("/namespaces/demo/vms/fedora", follow="*,instancetype.revision")
    assert doc["instancetype"]["revision"]["kind"] == "ControllerRevision"
    assert "vmi" in doc


def test_deep_follow_through_reverse_links(demo: Gateway) -> None:
    doc = demo.json("/namespaces/demo/secrets/ssh-key", follow="vms.vmi.pod.node")
    assert kinds_and_names(embedded(doc, "vms.vmi.pod.node")) == {("Node", "node01")}


# --- collections ---------------------------------------------------------------------------


def test_collection_envelope(demo: Gateway) -> None:
    doc = demo.json("/namespaces/demo/vms")
    assert doc["kind"] == "VirtualMachineList"
    assert doc["href"] == "/namespaces/demo/vms"
    assert doc["metadata"] == {}
    assert [i["metadata"]["name"] for i in doc["items"]] == ["cirros", "fedora", "rhel9", "win11"]
    assert all(i["href"] == f"/namespaces/demo/vms/{i['metadata']['name']}" for i in doc["items"])


def test_all_namespaces_and_cluster_scoped_collections(demo: Gateway) -> None:
    pvcs = demo.json("/pvcs")["items"]
    assert {p["metadata"]["namespace"] for p in pvcs} == {"demo", "kubevirt-os-images", "lab"}
    assert [p["metadata"]["name"] for p in demo.json("/pvcs", namespace="kubevirt-os-images")["items"]] == ["fedora-42"]
    nodes = demo.json("/nodes")
    assert nodes["href"] == "/nodes"
    assert [n["href"] for n in nodes["items"]] == ["/nodes/node01", "/nodes/node02"]


def test_label_selector(demo: Gateway) -> None:
    names = lambda sel: [i["metadata"]["name"] for i in demo.json("/vms", labelSelector=sel)["items"]]  # noqa: E731
    assert names("app.kubernetes.io/part-of=shop") == ["fedora", "rhel9"]
    assert names("app in (win11,cirros)") == ["cirros", "win11"]
    assert names("app.kubernetes.io/part-of!=shop") == ["cirros", "win11", "every-source", "web-0", "web-copy"]
    assert names("!app") == ["every-source", "web-0", "web-copy"]


def test_limit_and_continue_walk_the_whole_collection(demo: Gateway) -> None:
    everything = [(p["metadata"]["namespace"], p["metadata"]["name"]) for p in demo.json("/pvcs")["items"]]
    seen: list[tuple[str, str]] = []
    token = None
    pages = 0
    while True:
        params: dict[str, Any] = {"limit": 2}
        if token:
            params["continue"] = token
        doc = demo.json("/pvcs", **params)
        pages += 1
        assert len(doc["items"]) <= 2
        seen += [(p["metadata"]["namespace"], p["metadata"]["name"]) for p in doc["items"]]
        token = doc["metadata"].get("continue")
        if not token:
            break
    assert seen == everything
    assert pages == -(-len(everything) // 2)


def test_follow_applies_to_every_item_of_a_collection(demo: Gateway) -> None:
    doc = demo.json("/namespaces/demo/vms", follow="volumes.pvc")
    claims = {i["metadata"]["name"]: kinds_and_names(embedded(i, "volumes.pvc")) for i in doc["items"]}
    assert claims["fedora"] == {("PersistentVolumeClaim", "fedora-root")}
    assert claims["win11"] == {("PersistentVolumeClaim", "win11-root")}
    assert claims["cirros"] == set()


def test_sub_collection_and_sub_entity(demo: Gateway) -> None:
    volumes = demo.json("/namespaces/demo/vms/fedora/volumes", follow="pvc")
    assert volumes["kind"] == "VolumeList"
    assert [v["name"] for v in volumes["items"]] == ["rootdisk", "cloudinitdisk"]
    rootdisk = demo.json("/namespaces/demo/vms/fedora/volumes/rootdisk", follow="pvc.pv")
    assert rootdisk["href"] == "/namespaces/demo/vms/fedora/volumes/rootdisk"
    assert (rootdisk["type"], rootdisk["source"], rootdisk["disk"]["bootOrder"]) == (
        "dataVolume",
        {"name": "fedora-root"},
        1,
    )
    assert rootdisk["pvc"]["pv"]["kind"] == "PersistentVolume"
    assert demo.json("/vms/fedora/volumes/rootdisk", namespace="demo") == demo.json(
        "/namespaces/demo/vms/fedora/volumes/rootdisk"
    )


def test_to_one_link_path_returns_its_target(demo: Gateway) -> None:
    pod = demo.json("/namespaces/demo/vmis/fedora/pod")
    assert pod["metadata"]["name"] == "virt-launcher-fedora-h7l2d"
    # the revision needs a VM: only the reverse link is there
    assert demo.json("/clusterinstancetypes/u1.medium")["links"] == {
        "vms": {"href": "/clusterinstancetypes/u1.medium/vms"}
    }
