"""Small pure functions of the core, each through its public interface: DOT writers, selectors from
objects, follow's error messages and limits, a target's scope, and the index's removals."""

from __future__ import annotations

from typing import Any

import pytest

from gateway.catalog import CATALOG, ObjectRef
from gateway.catalog.selectors import SelectorError, selector_from_object
from gateway.follow.followers import Target
from gateway.follow.paths import FollowError, TooLarge, parse_follow
from gateway.follow.policy import scope_of
from gateway.follow.validate import Context, validate
from gateway.graph import appgraph, objectgraph
from gateway.store.indexes import ObjectIndex


def test_the_object_graph_as_dot_names_each_node_once_with_edges_parent_to_child() -> None:
    pvc = {"objectReference": {"apiGroup": "", "kind": "PersistentVolumeClaim", "name": "disk", "namespace": "lab"},
           "labels": {}, "optional": True}  # fmt: skip
    vm = {"apiGroup": "kubevirt.io", "kind": "VirtualMachine", "name": 'we"b', "namespace": "lab"}
    root = {"objectReference": vm, "labels": {}, "children": [pvc]}
    assert objectgraph.to_dot(root) == (
        "digraph objectgraph {\n"
        "  rankdir=LR;\n"
        "  node [shape=box, fontname=Helvetica, fontsize=10];\n"
        '  "VirtualMachine/lab/we\\"b" [label="VirtualMachine\\nwe\\"b"];\n'
        '  "PersistentVolumeClaim/lab/disk" [label="PersistentVolumeClaim\\ndisk", style=dashed];\n'
        '  "VirtualMachine/lab/we\\"b" -> "PersistentVolumeClaim/lab/disk";\n'
        "}\n"
    )
    assert objectgraph.quoted("a\\b") == '"a\\\\b"'


def test_the_application_graph_as_dot_draws_resources_outputs_and_connections() -> None:
    graph: dict[str, Any] = {"resources": [
        {"id": "/vm/a", "type": "kubevirt.io/VirtualMachine", "name": "a", "provisioningState": "Failed",
         "resources": [{"id": "/pvc/d", "type": "core/PersistentVolumeClaim", "name": "d",
                        "provisioningState": "Failed"}],
         "connections": [{"id": "/svc/s", "direction": "Outbound"}, {"id": "/x", "direction": "Inbound"}]},
        {"id": "/svc/s", "type": "core/Service", "name": "s", "provisioningState": "Succeeded",
         "resources": [], "connections": []},
    ]}  # fmt: skip
    assert appgraph.to_dot(graph, "lab") == (
        'digraph "lab" {\n'
        "  rankdir=LR;\n"
        "  node [fontname=Helvetica, fontsize=10];\n"
        '  "/vm/a" [label="VirtualMachine\\na", shape=box, style=filled, fillcolor="#f4cccc"];\n'
        '  "/svc/s" [label="Service\\ns", shape=box];\n'
        '  "/pvc/d" [label="PersistentVolumeClaim\\nd", shape=ellipse, style=dashed, color=red];\n'
        '  "/vm/a" -> "/pvc/d" [arrowhead=none, color=gray];\n'
        '  "/vm/a" -> "/svc/s";\n'
        "}\n"
    )


def test_a_label_selector_object_becomes_the_same_requirements_as_its_text() -> None:
    spec = {"matchLabels": {"tier": "db", "app": "web"},
            "matchExpressions": [{"key": "zone", "operator": "In", "values": ["a", "b"]},
                                 {"key": "canary", "operator": "DoesNotExist"},
                                 {"key": "env", "operator": "NotIn", "values": ["dev"]},
                                 {"key": "team", "operator": "Exists"}]}  # fmt: skip
    selector = selector_from_object(spec)
    assert str(selector) == "app=web,tier=db,zone in (a,b),!canary,env notin (dev),team"
    assert selector.matches({"app": "web", "tier": "db", "zone": "b", "env": "prod", "team": "x"})
    assert not selector.matches({"app": "web", "tier": "db", "zone": "c", "env": "prod", "team": "x"})
    assert not selector.matches({"app": "web", "tier": "db", "zone": "a", "env": "prod", "team": "x", "canary": "1"})
    assert not selector_from_object(None) and not selector_from_object({})


@pytest.mark.parametrize(
    ("spec", "problem"),
    [
        ("app=web", "labelSelector must be an object"),
        ({"matchLabels": ["app"]}, "matchLabels must be a map of strings"),
        ({"matchExpressions": [{"key": "a", "operator": "Near"}]}, "invalid matchExpression"),
        ({"matchExpressions": ["a"]}, "invalid matchExpression"),
        ({"matchExpressions": [{"key": "a", "operator": "In"}]}, "values do not fit operator"),
        ({"matchExpressions": [{"key": "a", "operator": "Exists", "values": ["x"]}]}, "values do not fit operator"),
        ({"matchLabels": {"bad key!": "x"}}, "invalid label key 'bad key!'"),
    ],
)
def test_a_malformed_label_selector_object_is_refused_with_its_problem(spec: Any, problem: str) -> None:
    with pytest.raises(SelectorError, match=problem.replace("(", r"\(")):
        selector_from_object(spec)


def test_an_unknown_rel_names_the_path_the_kind_and_the_valid_rels() -> None:
    with pytest.raises(FollowError) as caught:
        validate(parse_follow("volumes.pvcs"), {Context("VirtualMachine")}, CATALOG)
    message = str(caught.value)
    valid = ", ".join(sorted(CATALOG.links("Volume", ("VirtualMachine", "volumes"))))
    assert message == (f"unknown rel 'pvcs' in follow path 'volumes.pvcs': Volume has no link 'pvcs'; "
                       f"valid rels there: {valid}")  # fmt: skip
    assert caught.value.field == "follow" and caught.value.reason == "BadRequest"


def test_a_rel_reachable_only_another_way_says_through_what() -> None:
    with pytest.raises(FollowError, match=r"\('revision' is reachable only through ") as caught:
        validate(parse_follow("revision"), {Context("VirtualMachineClusterInstancetype")}, CATALOG)
    assert "VirtualMachine.instancetype" in str(caught.value)


def test_past_a_limit_the_error_is_too_large_on_the_follow_parameter() -> None:
    error = TooLarge("too much")
    assert (error.code, error.reason, error.field, str(error)) == (400, "RequestEntityTooLarge", "follow", "too much")


def test_a_targets_scope_is_its_objects_or_its_names_or_the_parents_namespace() -> None:
    pvc, node = CATALOG.kind("PersistentVolumeClaim"), CATALOG.kind("Node")
    found = Target(pvc, {"metadata": {"name": "disk", "namespace": "lab"}})
    assert scope_of(found, "other") == (pvc, "lab", "disk")
    named = Target(pvc, None, ObjectRef("PersistentVolumeClaim", "lab", "gone"))
    assert scope_of(named, "other") == (pvc, "lab", "gone")
    assert scope_of(Target(pvc), "here") == (pvc, "here", None)
    assert scope_of(Target(node, {"metadata": {"name": "n1", "namespace": "ignored"}}), "here") == (node, None, "n1")
    assert scope_of(Target(node), "here") == (node, None, None)


def pod(name: str, labels: dict[str, str], claim: str, ns: str = "lab") -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": ns, "labels": labels},
            "spec": {"volumes": [{"name": "v", "persistentVolumeClaim": {"claimName": claim}}]}}  # fmt: skip


def test_removing_an_object_takes_it_out_of_every_index_and_only_it() -> None:
    index = ObjectIndex(CATALOG)
    a, b = pod("a", {"app": "web"}, "disk"), pod("b", {"app": "web"}, "disk")
    for obj in (a, b):
        index.put("Pod", obj)
    assert index.get_key("Pod", {"metadata": {"name": "a", "namespace": "lab"}}) is a
    index.remove("Pod", {"metadata": {"name": "a", "namespace": "lab"}})
    disk = ObjectRef("PersistentVolumeClaim", "lab", "disk")
    assert index.referrers(disk, "Pod") == [b]
    assert [p["metadata"]["name"] for p in index.select(_query("app=web"))] == ["b"]
    assert index.get_many("Pod", "lab", ["a", "b"]) == {"b": b}
    assert (index.count("Pod"), len(index)) == (1, 1)
    index.remove("Pod", {"metadata": {"name": "nothing", "namespace": "lab"}})  # not there: nothing happens
    assert len(index) == 1


def test_replacing_a_kind_keeps_what_is_listed_and_clearing_it_keeps_other_kinds() -> None:
    index = ObjectIndex(CATALOG)
    pvc = {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": "disk", "namespace": "lab"}}
    index.put("PersistentVolumeClaim", pvc)
    for name in ("a", "b"):
        index.put("Pod", pod(name, {}, "disk"))
    fresh = pod("b", {"app": "new"}, "other")
    index.replace_kind("Pod", [fresh])
    assert index.get(ObjectRef("Pod", "lab", "a")) is None and index.get(ObjectRef("Pod", "lab", "b")) is fresh
    assert index.referrers(ObjectRef("PersistentVolumeClaim", "lab", "disk"), "Pod") == []
    index.clear_kind("Pod")
    assert (index.count("Pod"), index.count("PersistentVolumeClaim")) == (0, 1)


def _query(selector: str) -> Any:
    from gateway.catalog import Query
    from gateway.catalog.selectors import parse_selector

    return Query("Pod", "lab", parse_selector(selector))


def test_an_unknown_rel_below_a_path_counts_the_links_of_that_path_and_every_kind_there() -> None:
    with pytest.raises(FollowError) as caught:
        validate(parse_follow("instancetype.nope"), {Context("VirtualMachine")}, CATALOG)
    contexts = [("VirtualMachineClusterInstancetype", ("VirtualMachine", "instancetype")),
                ("VirtualMachineInstancetype", ("VirtualMachine", "instancetype"))]  # fmt: skip
    valid = ", ".join(sorted({r for kind, via in contexts for r in CATALOG.links(kind, via)}))
    assert "revision" in valid  # only through the VM's instancetype
    kinds = "VirtualMachineClusterInstancetype or VirtualMachineInstancetype"
    assert str(caught.value) == (f"unknown rel 'nope' in follow path 'instancetype.nope': {kinds} has no link 'nope'; "
                                 f"valid rels there: {valid}")  # fmt: skip


def test_an_unknown_rel_on_a_kind_without_links_says_none() -> None:
    with pytest.raises(FollowError) as caught:
        validate(parse_follow("vmi.pod.node.nope"), {Context("VirtualMachine")}, CATALOG)
    assert str(caught.value) == ("unknown rel 'nope' in follow path 'vmi.pod.node.nope': Node has no link 'nope'; "
                                 "valid rels there: (none)")  # fmt: skip


def test_a_reachable_only_elsewhere_message_keeps_its_first_part() -> None:
    with pytest.raises(FollowError) as caught:
        validate(parse_follow("revision"), {Context("VirtualMachineClusterInstancetype")}, CATALOG)
    assert str(caught.value).startswith("unknown rel 'revision' in follow path 'revision': ")
    assert str(caught.value).endswith("('revision' is reachable only through VirtualMachine.instancetype)")


def test_an_object_put_again_under_its_name_is_found_by_its_new_labels_and_joins_only() -> None:
    index = ObjectIndex(CATALOG)
    index.put("Pod", pod("a", {"app": "web"}, "disk"))
    index.remove("Pod", {"metadata": {"name": "a", "namespace": "lab"}})
    again = pod("a", {"app": "db"}, "other")
    index.put("Pod", again)
    assert index.select(_query("app=web")) == []
    assert index.select(_query("app=db")) == [again]
    assert index.referrers(ObjectRef("PersistentVolumeClaim", "lab", "disk"), "Pod") == []


def test_dot_declares_a_shared_output_once_and_dashes_only_missing_ones() -> None:
    disk = {"id": "/pvc/d", "type": "core/PersistentVolumeClaim", "name": "d", "provisioningState": "Succeeded"}
    graph: dict[str, Any] = {"resources": [
        {"id": f"/vm/{n}", "type": "kubevirt.io/VirtualMachine", "name": n, "provisioningState": "Succeeded",
         "resources": [disk], "connections": []} for n in ("a", "b")]}  # fmt: skip
    dot = appgraph.to_dot(graph, "lab")
    assert dot.count('"/pvc/d" [label="PersistentVolumeClaim\\nd", shape=ellipse];') == 1
    assert "dashed" not in dot and "fillcolor" not in dot


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("!", "invalid label selector '!': unexpected end"),
        ("a in x", "invalid label selector 'a in x': expected '(' after in"),
        ("a notin ()", "invalid label selector 'a notin ()': empty value set"),
        ("a in (b", "invalid label selector 'a in (b': unexpected end"),
        ("a b", "invalid label selector 'a b': unexpected 'b'"),
        ("a=b c", "invalid label selector 'a=b c': expected ','"),
        ("a=b,", "invalid label selector 'a=b,': trailing ','"),
        ("!in", "invalid label key 'in' in selector '!in'"),
        ("in=b", "invalid label key 'in' in selector 'in=b'"),
        ("notin=b", "invalid label key 'notin' in selector 'notin=b'"),
        ("app=web;tier=db", "invalid label selector 'app=web;tier=db' at position 7"),
        (f"a={'v' * 64}", f"invalid label value '{'v' * 64}' in selector 'a={'v' * 64}'"),
        (f"a in ({'v' * 64})", f"invalid label value '{'v' * 64}' in selector 'a in ({'v' * 64})'"),
    ],
)
def test_a_malformed_selector_is_refused_with_what_is_wrong_where(text: str, problem: str) -> None:
    from gateway.catalog.selectors import parse_selector

    with pytest.raises(SelectorError) as caught:
        parse_selector(text)
    assert str(caught.value) == problem


def test_an_empty_value_is_a_value_and_63_characters_fit() -> None:
    from gateway.catalog.selectors import parse_selector

    assert str(parse_selector("a=,b")) == "a=,b"
    assert str(parse_selector("a=")) == "a="
    assert parse_selector(f"a={'v' * 63}").matches({"a": "v" * 63})
    assert parse_selector("app in (web)").equalities() == {"app": "web"}
    assert parse_selector("app=web,tier in (a,b),x!=y").equalities() == {"app": "web"}


def test_a_malformed_selector_object_names_the_part_that_is_wrong() -> None:
    with pytest.raises(SelectorError) as caught:
        selector_from_object({"matchLabels": {"ok": "x" * 64}})
    assert str(caught.value) == f"invalid label value '{'x' * 64}' in selector 'ok'"
    with pytest.raises(SelectorError) as caught:
        selector_from_object({"matchExpressions": [{"operator": "Exists"}]})  # no key
    assert str(caught.value) == "invalid label key '' in selector {'operator': 'Exists'}"
    with pytest.raises(SelectorError) as caught:
        selector_from_object({"matchLabels": {"in": "x"}})
    assert str(caught.value) == "invalid label key 'in' in selector 'in'"
    for spec, problem in (
        ("x", "labelSelector must be an object"),
        ({"matchLabels": 1}, "matchLabels must be a map of strings"),
    ):
        with pytest.raises(SelectorError) as caught:
            selector_from_object(spec)
        assert str(caught.value) == problem


def test_a_catalogue_refuses_what_is_declared_twice_or_late_and_finds_its_kinds_by_any_name() -> None:
    from gateway.catalog import Catalog, Kind, Link, Named

    catalog = Catalog()
    disk = catalog.add_kind(Kind("Disk", "example.io", "v1", "disks", "dsks", True, short_names=("dk",)))
    part = catalog.add_kind(Kind("Slice", "", "", "", "slices", True, part=True))
    link = Link("twin", ("Disk",), False, Named(lambda e: []), "nothing")
    catalog.add_link("Disk", link)
    with pytest.raises(ValueError, match=r"^kind Disk declared twice$"):
        catalog.add_kind(disk)
    with pytest.raises(ValueError, match=r"^link Disk.twin declared twice$"):
        catalog.add_link("Disk", link)
    with pytest.raises(ValueError, match=r"^link Disk.other targets unknown kinds \['Nope'\]$"):
        catalog.add_link("Disk", Link("other", ("Nope",), False, Named(lambda e: []), "nothing"))
    assert catalog.kind("Disk") is disk and catalog.kind("Slice") is part
    assert catalog.by_collection("dsks") is disk and catalog.by_collection("slices") is None  # parts have no path
    assert [catalog.lookup(w) for w in ("dk", "disks", "disk", "DSKS", "slices")] == [disk, disk, disk, disk, None]
    assert catalog.collections() == [disk]
    catalog.add_graph("Disk", ())
    catalog.freeze()
    with pytest.raises(RuntimeError, match="frozen"):
        catalog.add_kind(Kind("Late", "", "v1", "lates", "lates", True))
    with pytest.raises(RuntimeError, match="frozen"):
        catalog.add_graph("Disk", ())
    assert catalog.graph("Disk") == () and catalog.graph("Slice") is None


def test_a_service_without_a_selector_routes_to_no_vm() -> None:
    from gateway.catalog import refs

    assert refs.labels_subset({"app": "web"}, {"app": "web", "tier": "db"})
    assert not refs.labels_subset({}, {"app": "web"})
    assert not refs.labels_subset(None, {"app": "web"})
    assert not refs.labels_subset({"app": "web"}, None)
    assert not refs.labels_subset({"app": "web"}, {"app": "db"})


def test_an_index_lists_by_namespace_then_name() -> None:
    index = ObjectIndex(CATALOG)
    for ns, name in (("zeta", "a"), ("alpha", "b"), ("alpha", "a")):
        index.put("Pod", pod(name, {"app": "web"}, "disk", ns=ns))
    from gateway.catalog import Query
    from gateway.catalog.selectors import parse_selector

    found = index.select(Query("Pod", None, parse_selector("app=web")))
    assert [(p["metadata"]["namespace"], p["metadata"]["name"]) for p in found] == [
        ("alpha", "a"), ("alpha", "b"), ("zeta", "a")]  # fmt: skip


def test_a_follow_parameter_is_parsed_and_checked_once_and_a_refused_one_every_time() -> None:
    from gateway.app import build_documents
    from gateway.config import Config

    documents = build_documents(Config())
    vm = {Context("VirtualMachine")}
    first = documents.follow_tree("volumes.pvc,vmi.pod", vm)
    assert first == parse_follow("vmi.pod,volumes.pvc")
    assert documents.follow_tree("volumes.pvc,vmi.pod", vm) is first  # remembered
    with pytest.raises(FollowError, match="PersistentVolumeClaim has no link"):  # checked where it starts
        documents.follow_tree("volumes.pvc,vmi.pod", {Context("PersistentVolumeClaim")})
    for _ in range(2):  # an error is not remembered: the same message each time
        with pytest.raises(FollowError, match="unknown rel 'nope'"):
            documents.follow_tree("volumes.nope", vm)
