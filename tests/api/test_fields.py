"""Sparse fieldsets over HTTP: `fields=` for every entity, `fields[<collection>]=` for one kind's."""

from __future__ import annotations

import pytest

from tests.support.gateway import Gateway

VM = "/namespaces/demo/vms/fedora"


def test_fields_keep_the_named_paths_and_what_says_what_an_entity_is(demo: Gateway) -> None:
    whole = demo.json(VM)
    doc = demo.json(VM, fields="status.printableStatus,metadata.labels")
    assert doc == {
        "kind": "VirtualMachine",
        "metadata": {"name": "fedora", "namespace": "demo", "labels": whole["metadata"]["labels"]},
        "status": {"printableStatus": whole["status"]["printableStatus"]},
        "href": VM,
    }


def test_followed_rels_stay_and_their_entities_are_trimmed_alike(demo: Gateway) -> None:
    doc = demo.json(VM, follow="volumes.pvc,instancetype.revision", fields="metadata.uid")
    whole = demo.json(VM, follow="volumes.pvc,instancetype.revision")
    revision = doc["instancetype"]["revision"]
    assert set(revision) == {"kind", "metadata", "href"}
    assert revision["metadata"] == {
        k: whole["instancetype"]["revision"]["metadata"][k] for k in ("name", "namespace", "uid")
    }
    root_volume = next(v for v in doc["volumes"] if "pvc" in v)
    assert set(root_volume) == {"name", "href", "pvc"}  # a sub-entity keeps its name
    assert "spec" not in root_volume["pvc"]


def test_a_collection_fieldset_wins_for_its_kind(demo: Gateway) -> None:
    doc = demo.json(VM, follow="volumes.pvc", fields="metadata.uid", **{"fields[pvcs]": "spec.resources"})
    pvc = next(v["pvc"] for v in doc["volumes"] if "pvc" in v)
    assert set(pvc) == {"kind", "metadata", "href", "spec"}
    assert set(pvc["spec"]) == {"resources"}
    assert set(pvc["metadata"]) == {"name", "namespace"}  # `fields` is not for pvcs here
    assert "uid" in doc["metadata"]


def test_links_are_a_field_like_any_other(demo: Gateway) -> None:
    whole = demo.json(VM)
    assert "links" not in demo.json(VM, fields="metadata.uid")
    assert demo.json(VM, fields="links")["links"] == whole["links"]
    assert demo.json(VM, fields="links.vmi")["links"] == {"vmi": whole["links"]["vmi"]}


def test_collections_and_repeated_parameters(demo: Gateway) -> None:
    response = demo.session.get(
        demo.url + "/namespaces/demo/vms",
        params=[("fields", "status.printableStatus"), ("fields", "spec.running")],
        timeout=30,
    )
    assert response.status_code == 200
    body = response.json()
    assert body["kind"] == "VirtualMachineList"
    for item in body["items"]:
        assert set(item) <= {"kind", "metadata", "href", "status", "spec"}
        assert set(item.get("spec", {})) <= {"running"}


@pytest.mark.parametrize(
    ("params", "parameter"),
    [
        ({"fields": ""}, "fields"),
        ({"fields": "metadata..name"}, "fields"),
        ({"fields": "metadata.name,"}, "fields"),
        ({"fields[nopes]": "spec"}, "fields[nopes]"),
        ({"fields[pvcs]": ".spec"}, "fields[pvcs]"),
    ],
)
def test_a_bad_fields_value_is_a_400_naming_the_parameter(
    demo: Gateway, params: dict[str, str], parameter: str
) -> None:
    response = demo.get(VM, **params)
    assert response.status_code == 400
    status = response.json()
    assert status["kind"] == "Status"
    assert status["details"]["causes"][0]["field"] == parameter
    assert status["message"].startswith(parameter + ":")


def test_fields_where_there_are_no_entities_is_a_400(demo: Gateway) -> None:
    response = demo.get("/namespaces/demo/graph", **{"fields[vms]": "spec"})
    assert response.status_code == 400


def test_answers_with_fields_are_remembered_and_validated_apart_from_the_whole(demo: Gateway) -> None:
    """The whole VM and the VM with fields are two answers: each its own ETag, each remembered as itself,
    and a validator of one never a 304 for the other."""
    path = "/namespaces/demo/vms/rhel9"
    sparse = {"fields": "status.printableStatus"}
    wholes = [demo.get(path) for _ in range(2)]
    trims = [demo.get(path, **sparse) for _ in range(2)]
    assert wholes[1].headers.get("X-Gateway-Cache") == trims[1].headers.get("X-Gateway-Cache") == "hit"
    assert wholes[1].json() == wholes[0].json() and "spec" in wholes[1].json()
    assert trims[1].json() == trims[0].json() and "spec" not in trims[1].json()
    assert wholes[0].headers["ETag"] != trims[0].headers["ETag"]
    crossed = demo.session.get(
        demo.url + path, params=sparse, headers={"If-None-Match": wholes[0].headers["ETag"]}, timeout=30
    )
    assert crossed.status_code == 200 and crossed.json() == trims[0].json()
    same = demo.session.get(
        demo.url + path, params=sparse, headers={"If-None-Match": trims[0].headers["ETag"]}, timeout=30
    )
    assert same.status_code == 304
