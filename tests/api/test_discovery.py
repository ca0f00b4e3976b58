"""What a new client discovers: the collections, the catalogue of links, health."""

from __future__ import annotations

from gateway.catalog import CATALOG
from tests.support.gateway import Gateway


def test_index_links_every_collection_to_a_path_that_answers(demo: Gateway) -> None:
    links = demo.json("/")["links"]
    for kind in CATALOG.collections():
        entry = links[kind.collection]
        assert entry["kind"] == kind.name
        href = entry["href"].replace("{namespace}", "demo")
        assert demo.get(href).status_code == 200, href
    for extra in ("catalog", "healthz", "readyz"):
        assert demo.get(links[extra]["href"]).status_code == 200


def test_catalog_lists_every_kind_with_its_links(demo: Gateway) -> None:
    catalog = demo.json("/catalog")
    kinds = {k["kind"]: k for k in catalog["kinds"]}
    assert set(kinds) == {k.name for k in CATALOG.kinds()}
    vm = kinds["VirtualMachine"]
    assert (vm["apiVersion"], vm["collection"], vm["namespaced"]) == ("kubevirt.io/v1", "vms", True)
    rels = {link["rel"]: link for link in vm["links"]}
    assert rels["volumes"] == {
        "rel": "volumes",
        "targets": ["Volume"],
        "cardinality": "many",
        "resolvedFrom": "spec.template.spec.volumes",
        "resolver": "Parts",
    }
    assert rels["instancetype"]["targets"] == [
        "VirtualMachineInstancetype",
        "VirtualMachineClusterInstancetype",
    ]
    revision = next(link for link in kinds["VirtualMachineClusterInstancetype"]["links"] if link["rel"] == "revision")
    assert revision["onlyVia"] == ["VirtualMachine.instancetype"]
    assert kinds["Volume"]["subEntity"] is True


def test_every_rel_the_catalog_lists_is_accepted_by_follow(demo: Gateway) -> None:
    for kind in demo.json("/catalog")["kinds"]:
        if kind["subEntity"] or not kind["links"]:
            continue
        rels = ",".join(link["rel"] for link in kind["links"] if "onlyVia" not in link)
        if not rels:
            continue
        response = demo.get("/" + kind["collection"], follow=rels, limit=1)
        assert response.status_code == 200, (kind["kind"], response.text)


def test_health_and_readiness(demo: Gateway) -> None:
    assert demo.json("/healthz") == {"status": "ok"}
    ready = demo.json("/readyz")
    assert ready["status"] == "ok"
    assert "demo cluster" in ready["reason"]
