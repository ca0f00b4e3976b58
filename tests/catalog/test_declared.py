"""Declared links (DESIGN section 12) over `serve --manifests DIR --links FILE`: every resolver and inverse, batched
reads, /catalog, and every error a LinkCatalog file can hold, each named by file, line and field."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from gateway.app import create_app
from gateway.catalog import BUILTIN
from gateway.catalog.declared import OWNER_FIELDS, REFERENCE_FIELDS
from gateway.catalog.upstream import BY_JSON
from gateway.cli.commands import main
from gateway.config import Config, from_env
from tests.catalog.declared_scenario import LINKS, check_every_resolver, names, targets, widgets
from tests.support.gateway import Gateway, serving

HOME, AWAY = "home", "away"


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("declared")
    (root / "links.yaml").write_text(LINKS)
    objects = targets(HOME, AWAY) + widgets(HOME, AWAY, "9d0c6d0e-0000-4000-8000-000000000001")
    (root / "objects.yaml").write_text(yaml.safe_dump_all(objects))
    return root / "objects.yaml", root / "links.yaml"


def _gateway(files: tuple[Path, Path], **settings: Any) -> Iterator[Gateway]:
    manifests, links = files
    config = Config(manifests=(str(manifests),), links=(str(links),), extra={"TESTING": True}, **settings)
    with serving(create_app(config)) as gateway:
        yield gateway


@pytest.fixture(scope="module")
def gateway(files: tuple[Path, Path]) -> Iterator[Gateway]:
    yield from _gateway(files)


@pytest.fixture(scope="module")
def generic(files: tuple[Path, Path]) -> Iterator[Gateway]:
    yield from _gateway(files, optimize=False)


def test_every_resolver_and_inverse_answers_as_the_objects_say(gateway: Gateway) -> None:
    check_every_resolver(lambda path, follow: gateway.json(path, follow=follow), HOME, AWAY)


def test_a_collection_with_declared_links_costs_one_read_per_link_as_a_built_in_one(
    gateway: Gateway, generic: Gateway
) -> None:
    path = f"/namespaces/{HOME}/widgets"
    batched, naive = gateway.get(path, follow="vms,peers,config"), generic.get(path, follow="vms,peers,config")
    assert batched.content == naive.content  # the batch handlers answer exactly as the generic followers
    # the list, then one read per link: every widget's VMs are in one namespace, as are its peers and configs
    assert Gateway.reads(batched) == 1 + 3
    assert Gateway.reads(naive) > Gateway.reads(batched)
    # an inverse across namespaces: one search of every namespace for the whole level
    vms = gateway.get(f"/namespaces/{AWAY}/vms", follow="widgets")
    assert Gateway.reads(vms) == 1 + 1
    assert vms.content == generic.get(f"/namespaces/{AWAY}/vms", follow="widgets").content


def test_the_catalog_lists_declared_kinds_and_links_and_the_links_map_has_them(gateway: Gateway) -> None:
    kinds = {k["kind"]: k for k in gateway.json("/catalog")["kinds"]}
    widget = kinds["Widget"]
    assert (widget["apiVersion"], widget["collection"], widget["shortNames"]) == ("example.com/v1", "widgets", ["wdg"])
    links = {link["rel"]: link for link in widget["links"]}
    assert {r: (link["resolver"], link["cardinality"]) for r, link in links.items()} == {
        "vms": ("Named", "many"), "peers": ("Selected", "many"), "config": ("Named", "one"),
        "owner": ("Named", "one"),
    }  # fmt: skip
    assert links["vms"]["resolvedFrom"] == ".spec.vms[*].name, in the namespace at .spec.vmNamespace"
    vm_links = {link["rel"]: link for link in kinds["VirtualMachine"]["links"]}
    assert vm_links["widgets"]["resolver"] == "Referrers" and vm_links["selectors"]["resolver"] == "Selected"
    vm = gateway.json(f"/namespaces/{AWAY}/vms/alpha")
    assert vm["links"]["widgets"] == {"href": f"/namespaces/{AWAY}/vms/alpha/widgets"}
    assert names(gateway.json(f"/namespaces/{AWAY}/vms/alpha/widgets")["items"]) == ["w1", "w2"]
    assert gateway.json("/")["links"]["widgets"] == {
        "href": "/namespaces/{namespace}/widgets", "kind": "Widget", "namespaced": True,
    }  # fmt: skip


HEAD = """\
apiVersion: kubevirt-gateway.io/v1alpha1
kind: LinkCatalog
kinds:
- {kind: Widget, apiVersion: example.com/v1, resource: widgets}
links:
"""
LINK = "- from: Widget\n  rel: vms\n  to: VirtualMachine\n"  # lines 6, 7, 8: a resolver comes at line 9


@pytest.mark.parametrize(
    ("document", "error"),
    [
        (HEAD + LINK + "  name: .spec.vm\n  colour: red\n",
         "10: links[0].colour: unknown field (known: from, rel, to, inverse, name, ref, selector, owner, namespace, "
         "many, description)"),
        (HEAD + LINK, "6: links[0]: no resolver: give exactly one of name, ref, selector, owner"),
        (HEAD + LINK + "  name: .spec.vm\n  owner: any\n",
         "10: links[0].owner: two resolvers (name, owner): give exactly one of name, ref, selector, owner"),
        (HEAD + LINK + "  name: .spec.vms[*\n", "9: links[0].name: JSONPath does not parse: "),
        (HEAD + LINK + "  selector: '.spec.selector[?(@.a==)]'\n", "9: links[0].selector: JSONPath does not parse: "),
        (HEAD + LINK + "  name: '{.spec.vm}'\n",
         "9: links[0].name: JSONPath does not parse: write '{.spec.vm}' without braces"),
        (HEAD + LINK.replace("VirtualMachine", "VirtualMachin") + "  name: .spec.vm\n",
         "8: links[0].to: unknown kind VirtualMachin (declare it under kinds)"),
        (HEAD + LINK.replace("Widget", "Gizmo") + "  name: .spec.vm\n",
         "6: links[0].from: unknown kind Gizmo (declare it under kinds)"),
        (HEAD + "- {from: VirtualMachine, rel: vmi, to: Widget, owner: any}\n",
         "6: links[0].rel: VirtualMachine already has a link named 'vmi'"),
        (HEAD + "- {from: Secret, rel: data, to: Widget, owner: any}\n",
         "6: links[0].rel: Secret already has a field named 'data'"),
        (HEAD + "- {from: Widget, rel: spec, to: Widget, owner: any}\n",
         "6: links[0].rel: Widget already has a field named 'spec'"),
        (HEAD + LINK + "  name: .spec.vm\n  inverse: pool\n",
         "10: links[0].inverse: VirtualMachine already has a link named 'pool'"),
        (HEAD + LINK + "  name: .spec.vm\n" + LINK + "  name: .spec.other\n",
         "11: links[1].rel: Widget already has a link named 'vms'"),
        (HEAD + LINK.replace("rel: vms", "rel: Vms") + "  name: .spec.vm\n",
         "7: links[0].rel: 'Vms' is not a rel ([a-z][a-z0-9_]*)"),
        (HEAD + LINK + "  ref: .spec.vm\n  namespace: .spec.ns\n", "10: links[0].namespace: does not go with `ref`"),
        (HEAD + LINK + "  owner: sometimes\n", "9: links[0].owner: must be controller or any"),
        (HEAD + LINK.replace("to: VirtualMachine", "to: [VirtualMachine, Pod]") + "  name: .spec.vm\n",
         "8: links[0].to: several kinds need a `ref` resolver (its `kind` says which)"),
        (HEAD + LINK.replace("to: VirtualMachine", "to: Volume") + "  name: .spec.vm\n",
         "8: links[0].to: Volume is a part of another object, not an API kind"),
        (HEAD + LINK + "  name: [.spec.vm\n", "10: invalid YAML: "),
        (HEAD.replace("v1alpha1", "v1"), "1: apiVersion: must be kubevirt-gateway.io/v1alpha1"),
        (HEAD.replace("kind: LinkCatalog", "kind: Catalog"), "2: kind: must be LinkCatalog"),
        (HEAD.replace("resource: widgets", "resource: widgets, collection: vms"),
         "4: kinds[0].collection: 'vms' is already taken by VirtualMachine"),
        (HEAD.replace("resource: widgets", "resource: widgets, shortNames: [vm]"),
         "4: kinds[0].shortNames: 'vm' is already taken by VirtualMachine"),
        (HEAD.replace("kind: Widget", "kind: Pod"), "4: kinds[0].kind: Pod is already a kind"),
        (HEAD + "- {from: Widget, rel: ns, to: Namespace, name: .spec.ns, inverse: widgets}\n",
         "6: links[0].inverse: 'widgets' would be at /namespaces/NAME/widgets, the path of the Widgets in that "
         "namespace: choose another rel"),
        (HEAD.replace(", resource: widgets", ""), "4: kinds[0].resource: required"),
        (HEAD.replace("example.com/v1", "v1"), "4: kinds[0].apiVersion: 'v1' is not group/version"),
        (HEAD.replace("resource: widgets", "resource: widgets, namespaced: perhaps"),
         "4: kinds[0].namespaced: must be true or false"),
    ],
)  # fmt: skip
def test_a_bad_links_file_stops_the_gateway_with_one_line_naming_file_line_and_field(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], document: str, error: str
) -> None:
    path = tmp_path / "links.yaml"
    path.write_text(document)
    assert main(["serve", "--links", str(path), "--port", "0"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1, err
    assert err.startswith(f"kubevirt-gateway: error: {path}:{error}"), err


def test_a_kind_declared_in_one_file_is_linked_from_another_and_a_clash_names_the_later_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "a.yaml").write_text(HEAD)
    (tmp_path / "b.yaml").write_text(HEAD.replace("kinds:\n- {kind: Widget, apiVersion: example.com/v1, resource: "
                                                  "widgets}\n", "") + LINK + "  name: .spec.vm\n")  # fmt: skip
    app = create_app(Config(links=(str(tmp_path),), extra={"TESTING": True}))
    with serving(app) as gateway:
        kinds = {k["kind"]: k for k in gateway.json("/catalog")["kinds"]}
        assert [link["rel"] for link in kinds["Widget"]["links"]] == ["vms"]
    (tmp_path / "c.yaml").write_text((tmp_path / "b.yaml").read_text())
    assert main(["serve", "--links", str(tmp_path), "--port", "0"]) == 2
    assert capsys.readouterr().err == (
        f"kubevirt-gateway: error: {tmp_path / 'c.yaml'}:5: links[0].rel: Widget already has a link named 'vms'\n"
    )
    (tmp_path / "c.yaml").write_text(HEAD.replace("Widget", "Gizmo").replace("widgets", "gizmos").split("links:")[0])
    (tmp_path / "b.yaml").write_text(
        (tmp_path / "b.yaml").read_text()
        + "- {from: Widget, rel: ns, to: Namespace, name: .spec.ns, inverse: gizmos}\n"
    )
    assert main(["serve", "--links", str(tmp_path), "--port", "0"]) == 2
    assert capsys.readouterr().err == (
        f"kubevirt-gateway: error: {tmp_path / 'b.yaml'}:8: links[1].inverse: 'gizmos' would be at "
        "/namespaces/NAME/gizmos, the path of the Gizmos in that namespace: choose another rel\n"
    )
    assert main(["serve", "--links", str(tmp_path / "absent"), "--port", "0"]) == 2
    assert capsys.readouterr().err == f"kubevirt-gateway: error: {tmp_path / 'absent'}: no such file or directory\n"


def test_the_cli_gets_declared_kinds_by_the_names_the_gateway_lists(
    gateway: Gateway, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["get", "wdg", "-n", HOME, "-o", "name", "--gateway", gateway.url]) == 0
    assert capsys.readouterr().out.split() == [f"widget.example.com/{w}" for w in ("w1", "w2", "w3")]
    assert main(["get", "widget/w1", "-n", HOME, "-f", "vms", "-o", "jsonpath={.vms[*].metadata.name}",
                 "--gateway", gateway.url]) == 0  # fmt: skip
    assert capsys.readouterr().out == "alpha beta"
    assert main(["get", "widgetz", "-n", HOME, "--gateway", gateway.url]) == 1
    assert "unknown kind 'widgetz'; did you mean 'widget'?" in capsys.readouterr().err


def test_every_json_name_builtin_yaml_reads_has_an_upstream_record() -> None:
    """The built-in links moved to builtin.yaml keep the check tests/catalog/test_upstream.py makes of the Python
    ones: every JSON name has its record (a Go field name such as UserDataSecretRef cannot slip in)."""
    read = {word for link in BUILTIN.links for path in (link.path, link.namespace) if path is not None
            for word in re.findall(r"[A-Za-z_][A-Za-z0-9_]*", path.text)}  # fmt: skip
    # what the resolvers themselves read: a reference's fields, an owner reference's
    read |= set(REFERENCE_FIELDS) | set(OWNER_FIELDS)
    assert len(read) > 30
    assert sorted(read - BY_JSON.keys()) == []


def test_the_application_graph_connects_objects_of_declared_links_to_the_workloads(gateway: Gateway) -> None:
    """A widget naming VMs (their `widgets` inverse), or selecting one, connects Outbound to each, as a Service
    does; the VMs connect Inbound from it. Built-in links add no such resources (the demo's graphs are unchanged)."""
    graph = {r["id"]: r for r in gateway.json(f"/namespaces/{AWAY}/graph")["resources"]}
    w1, alpha = f"/namespaces/{HOME}/widgets/w1", f"/namespaces/{AWAY}/vms/alpha"
    assert graph[w1]["type"] == "example.com/Widget" and graph[w1]["name"] == "w1"
    assert graph[w1]["connections"] == [{"id": alpha, "direction": "Outbound"},
                                        {"id": f"/namespaces/{AWAY}/vms/beta", "direction": "Outbound"}]  # fmt: skip
    w2 = f"/namespaces/{HOME}/widgets/w2"
    assert graph[alpha]["connections"] == [{"id": w1, "direction": "Inbound"}, {"id": w2, "direction": "Inbound"}]
    home = {r["id"]: r for r in gateway.json(f"/namespaces/{HOME}/graph")["resources"]}
    # gamma is w1's owner and selected by it: one connection, however many links lead there
    assert home[f"/namespaces/{HOME}/vms/gamma"]["connections"] == [{"id": w1, "direction": "Inbound"}]


def test_wsgi_takes_the_links_files_from_the_environment(files: tuple[Path, Path], tmp_path: Path) -> None:
    manifests, links = files
    more = tmp_path / "more.yaml"  # a second path, `:`-separated as in KUBEVIRT_GATEWAY_MANIFESTS
    more.write_text(HEAD.replace("Widget", "Gizmo").replace("widgets", "gizmos"))
    config = from_env({"KUBEVIRT_GATEWAY_MANIFESTS": str(manifests), "KUBEVIRT_GATEWAY_LINKS": f"{links}:{more}"})
    assert config.links == (str(links), str(more))
    with serving(create_app(config)) as gateway:
        assert names(gateway.json(f"/namespaces/{AWAY}/vms/beta", follow="widgets")["widgets"]) == ["w1"]
        assert [d["source"] for d in gateway.json("/catalog")["declared"]] == [str(links), str(more)]
