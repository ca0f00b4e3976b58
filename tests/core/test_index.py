"""The pure core as a library: the object index and queries, without HTTP (unit tests)."""

from __future__ import annotations

from typing import Any

from gateway.catalog import CATALOG, Join, ObjectRef, Query
from gateway.catalog.selectors import LabelSelector, parse_selector
from gateway.store.indexes import ObjectIndex


def pod(
    name: str, namespace: str, labels: dict[str, str] | None = None, claims: tuple[str, ...] = ()
) -> dict[str, Any]:
    return {
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "namespace": namespace, "labels": labels or {}},
        "spec": {"volumes": [{"name": c, "persistentVolumeClaim": {"claimName": c}} for c in claims]},
    }  # fmt: skip


def names(objects: list[dict[str, Any]]) -> list[tuple[str, str]]:
    return [(o["metadata"]["namespace"], o["metadata"]["name"]) for o in objects]


def test_a_second_namespace_with_the_same_labels_is_not_mixed_in() -> None:
    index = ObjectIndex(CATALOG)
    index.put("Pod", pod("a", "one", {"app": "web"}))
    index.put("Pod", pod("a", "two", {"app": "web"}))
    web = LabelSelector.from_labels({"app": "web"})
    assert names(index.select(Query("Pod", "one", web))) == [("one", "a")]
    assert names(index.select(Query("Pod", None, web))) == [("one", "a"), ("two", "a")]
    assert index.get(ObjectRef("Pod", "two", "a")) is not None and index.get(ObjectRef("Pod", "three", "a")) is None


def test_query_matches_checks_the_namespace_first() -> None:
    obj = pod("a", "two", {"app": "web"})
    assert not Query("Pod", "one").matches(obj)
    assert Query("Pod", "two").matches(obj) and Query("Pod", None).matches(obj)
    assert not Query("Pod", "one", where=lambda o: True).matches(obj)


def test_set_based_selectors_and_partial_matches() -> None:
    index = ObjectIndex(CATALOG)
    for name, labels in (("a", {"tier": "web", "env": "prod"}), ("b", {"tier": "db"}), ("c", {"env": "dev"})):
        index.put("Pod", pod(name, "ns", labels))

    def select(text: str) -> list[str]:
        return [n for _, n in names(index.select(Query("Pod", "ns", parse_selector(text))))]

    assert select("tier in (web,db)") == ["a", "b"]
    assert select("tier notin (web)") == ["b", "c"]
    assert select("env,tier") == ["a"]  # both keys must be there: one is a partial match
    assert select("!env") == ["b"]
    assert select("tier=web,env=dev") == []


def test_references_follow_updates_deletes_and_relists() -> None:
    index = ObjectIndex(CATALOG)
    pvc = ObjectRef("PersistentVolumeClaim", "ns", "disk-1")
    other = ObjectRef("PersistentVolumeClaim", "ns", "disk-2")
    index.put("Pod", pod("p", "ns", claims=("disk-1",)))
    assert names(index.referrers(pvc, "Pod")) == [("ns", "p")]
    index.put("Pod", pod("p", "ns", claims=("disk-2",)))  # an update that changes what it references
    assert index.referrers(pvc, "Pod") == [] and names(index.referrers(other, "Pod")) == [("ns", "p")]
    index.remove("Pod", pod("p", "ns"))
    assert index.referrers(other, "Pod") == [] and index.count("Pod") == 0
    index.put("Pod", pod("q", "ns", claims=("disk-1",)))
    index.put("Pod", pod("r", "ns", claims=("disk-1",)))
    index.replace_kind("Pod", [pod("r", "ns", claims=("disk-1",))])  # a re-list: q was deleted meanwhile
    assert names(index.referrers(pvc, "Pod")) == [("ns", "r")] and len(index) == 1


def test_labels_of_a_removed_object_no_longer_select_it() -> None:
    index = ObjectIndex(CATALOG)
    index.put("Pod", pod("a", "ns", {"app": "web"}))
    index.put("Pod", pod("a", "ns", {"app": "db"}))
    assert index.select(Query("Pod", "ns", LabelSelector.from_labels({"app": "web"}))) == []
    index.clear_kind("Pod")
    assert index.select(Query("Pod", None)) == [] and index.count("Pod") == 0


def test_a_kind_the_catalogue_does_not_know_is_kept_and_names_nothing() -> None:
    # a declared kind whose declaration went away: its objects are still held until its watch stops
    index = ObjectIndex(CATALOG)
    widget = {"apiVersion": "example.io/v1", "kind": "Widget", "metadata": {"name": "w", "namespace": "ns"}}
    index.put("Widget", widget)
    assert index.get(ObjectRef("Widget", "ns", "w")) is widget
    assert index.select(Query("Widget", None)) == [widget] == index.select(Query("Widget", "ns"))
    index.remove("Widget", widget)
    assert index.select(Query("Widget", None)) == [] and len(index) == 0


def test_a_kind_never_listed_selects_nothing_and_its_first_list_adds_everything() -> None:
    index = ObjectIndex(CATALOG)
    assert index.select(Query("Pod", None)) == [] and index.clear_kind("Pod") == []
    a, b = pod("a", "ns"), pod("b", "ns")
    assert index.replace_kind("Pod", [a, b]) == [(None, a), (None, b)]
    assert names(index.select(Query("Pod", None))) == [("ns", "a"), ("ns", "b")]


def vm_on(name: str, network: str, namespace: str) -> dict[str, Any]:
    """A VM on a multus network, named as KubeVirt reads `networkName`: `namespace/name`."""
    networks = [{"name": "default", "pod": {}}, {"name": "net", "multus": {"networkName": network}}]
    return {"apiVersion": "kubevirt.io/v1", "kind": "VirtualMachine",
            "metadata": {"name": name, "namespace": namespace, "uid": f"uid-{namespace}-{name}"},
            "spec": {"template": {"spec": {"networks": networks}}}}  # fmt: skip


def test_referrers_of_many_targets_are_those_in_the_namespace_asked() -> None:
    index = ObjectIndex(CATALOG)
    for namespace in ("one", "two"):  # each names the network of namespace `infra`
        index.put("VirtualMachine", vm_on("vm", "infra/br0", namespace))
    network = ObjectRef("NetworkAttachmentDefinition", "infra", "br0")
    assert names(index.referrers_many("VirtualMachine", "one", [network])[network]) == [("one", "vm")]
    assert names(index.referrers_many("VirtualMachine", None, [network])[network]) == [("one", "vm"), ("two", "vm")]


def test_a_join_hint_the_index_does_not_keep_only_narrows_nothing() -> None:
    index = ObjectIndex(CATALOG)
    index.put("Pod", pod("a", "ns", {"app": "web"}))
    index.put("Pod", pod("b", "ns", {"app": "db"}))
    unknown = Join(parent=lambda e: [], candidate=lambda o: [])  # of another catalogue's link
    query = Query("Pod", "ns", LabelSelector.from_labels({"app": "web"}), joined=(unknown, frozenset({"anything"})))
    assert names(index.select(query)) == [("ns", "a")]
