"""The follow engine in-process: what it resolves, the typed missing values, the policy it is
given, its limits, and the per-version memo of what links derive from an object."""

from __future__ import annotations

from typing import Any

import pytest

from gateway.catalog import CATALOG, Entity, ObjectRef, named_refs, part_entity, parts_of
from gateway.documents.representation import render
from gateway.follow.engine import FollowEngine, Missing, Resolved
from gateway.follow.optimized import register_batches
from gateway.follow.paths import DEFAULT_LIMITS, FollowLimits, TooLarge, parse_follow
from gateway.follow.registry import HandlerRegistry
from gateway.store.snapshot import SnapshotStore
from tests.support.policies import ScopedPolicy

NS = "lab"


def vm(name: str, volumes: list[dict[str, Any]], rv: str | None = "1", labels: dict[str, str] | None = None) -> Any:
    metadata: dict[str, Any] = {"name": name, "namespace": NS, "uid": f"uid-{name}"}
    if rv is not None:
        metadata["resourceVersion"] = rv
    return {"apiVersion": "kubevirt.io/v1", "kind": "VirtualMachine", "metadata": metadata,
            "spec": {"template": {"metadata": {"labels": labels or {}}, "spec": {"volumes": volumes}}}}  # fmt: skip


def claim(volume: str, name: str) -> dict[str, Any]:
    return {"name": volume, "persistentVolumeClaim": {"claimName": name}}


def data_volume(volume: str, name: str) -> dict[str, Any]:
    return {"name": volume, "dataVolume": {"name": name}}


def pvc(name: str, owner_dv: str | None = None) -> dict[str, Any]:
    metadata: dict[str, Any] = {"name": name, "namespace": NS, "resourceVersion": "5"}
    if owner_dv:
        metadata["ownerReferences"] = [{"apiVersion": "cdi.kubevirt.io/v1beta1", "kind": "DataVolume",
                                        "name": owner_dv, "uid": f"uid-{owner_dv}"}]  # fmt: skip
    return {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": metadata}


def service(name: str, selector: dict[str, str]) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Service", "metadata": {"name": name, "namespace": NS},
            "spec": {"selector": selector}}  # fmt: skip


def engine(limits: FollowLimits = DEFAULT_LIMITS, optimized: bool = True) -> FollowEngine:
    registry = None
    if optimized:
        registry = HandlerRegistry()
        register_batches(registry, CATALOG)
    return FollowEngine(CATALOG, registry, limits)


def followed(objects: list[dict[str, Any]], follow: str, **kw: Any) -> Resolved:
    store = SnapshotStore.from_objects(CATALOG, objects, "unit")
    root = Resolved(Entity.root(CATALOG.kind("VirtualMachine"), objects[0]))
    engine(**kw).follow(store, [root], parse_follow(follow))
    return root


def volumes(root: Resolved) -> list[Resolved]:
    found = root.followed["volumes"]
    assert isinstance(found, list)
    return [v for v in found if isinstance(v, Resolved)]


@pytest.mark.parametrize("optimized", [True, False])
def test_a_named_target_is_an_entity_and_an_absent_one_a_typed_missing_value(optimized: bool) -> None:
    objects = [vm("web", [claim("root", "disk"), claim("data", "gone")]), pvc("disk")]
    root = followed(objects, "volumes.pvc", optimized=optimized)
    first, second = volumes(root)
    target = first.followed["pvc"]
    assert isinstance(target, Resolved)
    assert target.entity.kind.name == "PersistentVolumeClaim" and target.entity.name == "disk"
    assert target.entity.href == f"/namespaces/{NS}/pvcs/disk"
    absent = second.followed["pvc"]
    assert isinstance(absent, Missing)
    assert (absent.kind, absent.reason, absent.ref and absent.ref.name) == ("PersistentVolumeClaim", "NotFound", "gone")
    assert absent.href == f"/namespaces/{NS}/vms/web/volumes/data/pvc"


@pytest.mark.parametrize("optimized", [True, False])
def test_a_collected_data_volume_is_missing_with_the_reason_its_pvc_gives(optimized: bool) -> None:
    # CDI deleted the DataVolume and left its PVC without the owner reference: GarbageCollected
    objects = [vm("web", [data_volume("root", "imported"), data_volume("data", "never")]), pvc("imported")]
    root = followed(objects, "volumes.datavolume", optimized=optimized)
    reasons = [v.followed["datavolume"] for v in volumes(root)]
    assert [m.reason for m in reasons if isinstance(m, Missing)] == ["GarbageCollected", "NotFound"]


def test_what_is_not_followed_is_not_resolved() -> None:
    root = followed([vm("web", [claim("root", "disk")]), pvc("disk")], "volumes")
    assert [v.followed for v in volumes(root)] == [{}]
    assert "instancetype" not in root.followed


def Denying(*kinds: str) -> ScopedPolicy:  # reads as the policy it makes
    """A caller who may see every kind but the ones named, in namespace `lab` only."""
    return ScopedPolicy(NS, kinds)


def test_a_named_target_the_policy_hides_is_forbidden_by_name_and_a_found_one_is_left_out() -> None:
    objects = [vm("web", [claim("root", "disk")], labels={"app": "web"}), pvc("disk"), service("front", {"app": "web"})]
    store = SnapshotStore.from_objects(CATALOG, objects, "unit")
    root = Resolved(Entity.root(CATALOG.kind("VirtualMachine"), objects[0]))
    policy = Denying("PersistentVolumeClaim", "Service")
    engine().follow(store, [root], parse_follow("volumes.pvc,services"), policy)
    hidden = volumes(root)[0].followed["pvc"]
    assert isinstance(hidden, Missing) and hidden.reason == "Forbidden"
    assert hidden.ref is not None and hidden.ref.name == "disk"  # the VM the caller sees names it
    assert root.followed["services"] == []  # a query's answer: not even that it exists
    assert "disk" in {name for _, _, name in policy.prefetched}, "reviews are asked for before the checks"


@pytest.mark.parametrize("optimized", [True, False])
def test_the_reason_of_a_missing_target_rests_on_evidence_the_caller_may_read(optimized: bool) -> None:
    objects = [vm("web", [data_volume("root", "imported")]), pvc("imported")]
    store = SnapshotStore.from_objects(CATALOG, objects, "unit")
    root = Resolved(Entity.root(CATALOG.kind("VirtualMachine"), objects[0]))
    policy = Denying("PersistentVolumeClaim")
    engine(optimized=optimized).follow(store, [root], parse_follow("volumes.datavolume"), policy)
    missing = volumes(root)[0].followed["datavolume"]
    assert isinstance(missing, Missing) and missing.reason == "Forbidden"
    assert {kind.name for kind, _, _ in policy.prefetched} == {"DataVolume"}  # no parts, nothing computed


def test_a_vmi_without_its_launcher_pod_is_missing_it_where_the_caller_may_look() -> None:
    metadata = {"name": "lonely", "namespace": NS, "uid": "uid-lonely", "resourceVersion": "81"}
    lonely = {"apiVersion": "kubevirt.io/v1", "kind": "VirtualMachineInstance", "metadata": metadata}
    store = SnapshotStore.from_objects(CATALOG, [lonely], "unit")
    root = Resolved(Entity.root(CATALOG.kind("VirtualMachineInstance"), lonely))
    engine().follow(store, [root], parse_follow("pod"), Denying("Secret"))
    assert root.followed["pod"] == Missing("Pod", None, f"/namespaces/{NS}/vmis/lonely/pod", "NotFound")
    hidden = Resolved(Entity.root(CATALOG.kind("VirtualMachineInstance"), lonely))
    engine().follow(store, [hidden], parse_follow("pod"), Denying("Pod"))
    assert hidden.followed["pod"] == Missing("Pod", None, f"/namespaces/{NS}/vmis/lonely/pod", "Forbidden")


def test_the_generic_follower_refuses_a_computed_link() -> None:
    from gateway.follow.followers import follow_one

    root = Entity.root(CATALOG.kind("VirtualMachine"), vm("g", []))
    store = SnapshotStore.from_objects(CATALOG, [], "unit")
    with pytest.raises(TypeError, match=r"^objectgraph is computed: the engine resolves it through its providers$"):
        follow_one(store, CATALOG, CATALOG.link("VirtualMachine", "objectgraph"), root)


def test_object_graphs_built_together_keep_each_vmis_pod_and_each_vms_collected_volume() -> None:
    from gateway.graph.objectgraph import ObjectGraphBuilder, flat

    def instance(name: str) -> dict[str, Any]:
        return {"apiVersion": "kubevirt.io/v1", "kind": "VirtualMachineInstance",
                "metadata": {"name": name, "namespace": NS, "uid": f"uid-{name}"}}  # fmt: skip

    labels = {"kubevirt.io": "virt-launcher"}
    launcher = {"apiVersion": "v1", "kind": "Pod",
                "metadata": {"name": "virt-launcher-second-x", "namespace": NS, "labels": labels,
                             "ownerReferences": [{"apiVersion": "kubevirt.io/v1", "kind": "VirtualMachineInstance",
                                                  "name": "second", "uid": "uid-second"}]}}  # fmt: skip
    collected = [vm("one", [data_volume("root", "gone-one")]), vm("two", [data_volume("root", "gone-two")])]
    objects = [instance("first"), instance("second"), launcher, *collected, pvc("gone-one"), pvc("gone-two")]
    store = SnapshotStore.from_objects(CATALOG, objects, "unit")
    builder = ObjectGraphBuilder(engine())
    roots = [Entity.root(CATALOG.kind("VirtualMachineInstance"), o) for o in objects[:2]]
    first, second = builder.build(store, roots)
    assert [n["objectReference"]["kind"] for n in flat(first)] == ["VirtualMachineInstance"]
    assert [n["objectReference"]["name"] for n in flat(second)] == ["second", "virt-launcher-second-x"]
    one, two = builder.build(store, [Entity.root(CATALOG.kind("VirtualMachine"), o) for o in collected])
    # CDI collected both DataVolumes: each graph shows its PVC in the DataVolume's place
    assert [n["objectReference"]["name"] for n in flat(one)] == ["one", "gone-one"]
    assert [n["objectReference"]["name"] for n in flat(two)] == ["two", "gone-two"]


def test_rendering_writes_entities_and_missing_markers_as_the_api_serves_them() -> None:
    root = followed([vm("web", [claim("root", "disk"), claim("data", "gone")]), pvc("disk")], "volumes.pvc")
    doc = render(root, CATALOG)
    assert doc["href"] == f"/namespaces/{NS}/vms/web"
    assert doc["links"]["volumes"] == {"href": f"/namespaces/{NS}/vms/web/volumes"}
    present, absent = doc["volumes"][0]["pvc"], doc["volumes"][1]["pvc"]
    assert present["metadata"]["name"] == "disk" and present["href"].endswith("/pvcs/disk")
    assert absent == {"href": f"/namespaces/{NS}/pvcs/gone", "kind": "PersistentVolumeClaim",
                      "name": "gone", "missing": True, "reason": "NotFound"}  # fmt: skip


def test_past_max_embedded_the_engine_refuses() -> None:
    objects = [vm("web", [claim(f"v{i}", f"d{i}") for i in range(4)]), *(pvc(f"d{i}") for i in range(4))]
    followed(objects, "volumes.pvc", limits=FollowLimits(max_embedded=8))  # 4 volumes + 4 PVCs: allowed
    with pytest.raises(TooLarge):
        followed(objects, "volumes.pvc", limits=FollowLimits(max_embedded=7))


def test_past_max_response_bytes_the_engine_refuses() -> None:
    objects = [vm("web", [claim("root", "disk")]), pvc("disk")]
    with pytest.raises(TooLarge):
        followed(objects, "volumes.pvc", limits=FollowLimits(max_response_bytes=200))


def test_what_links_derive_is_shared_while_a_store_holds_the_object_and_dropped_when_it_is_replaced() -> None:
    volume_link, pvc_link = CATALOG.link("VirtualMachine", "volumes"), CATALOG.link("Volume", "pvc")
    kind = CATALOG.kind("VirtualMachine")

    def claims(obj: dict[str, Any]) -> tuple[list[str], Entity]:
        entity = Entity.root(kind, obj)
        parts = [part_entity(entity, "volumes", CATALOG.kind("Volume"), p) for p in parts_of(entity, volume_link)]
        return [r.name for p in parts for r in named_refs(p, pvc_link)], entity

    first = vm("memo", [claim("root", "one")])
    store = SnapshotStore.from_objects(CATALOG, [first], "unit")
    stored = store.get(Entity.root(kind, first).ref())
    assert stored is not None
    names, entity = claims(stored)
    assert names == ["one"]
    again, other = claims(stored)
    assert again == ["one"] and other.memo() is entity.memo(), "a second request reuses what the first derived"
    # an object no store holds (or a new version of it) is derived afresh, never from another's memo
    loose = vm("memo", [claim("root", "two")])
    assert claims(loose)[0] == ["two"]
    assert claims(loose)[1].memo() is not claims(loose)[1].memo()


def test_a_held_object_keeps_its_own_memo_and_a_copy_of_it_has_none() -> None:
    import copy

    from gateway.catalog import Held, ObjectRef, memo_of
    from gateway.store.indexes import ObjectIndex

    index = ObjectIndex(CATALOG)  # stores hand the index `Held` objects (tests may hand it plain ones)
    old = Held(vm("memo-index", [claim("root", "one")]))
    new = Held(vm("memo-index", [claim("root", "two")], rv="2"))
    ref = ObjectRef("VirtualMachine", "lab", "memo-index")
    index.put("VirtualMachine", old)
    held = index.get(ref)
    assert held is old
    assert memo_of(held, "/x") is memo_of(held, "/x") and memo_of(held, "/x") is not memo_of(held, "/y")
    plain = vm("memo-index", [claim("root", "one")])
    assert memo_of(plain, "/x") is not memo_of(plain, "/x")  # a plain dict, as direct reads give: no memo kept
    index.put("VirtualMachine", new)  # the next version replaces it, with a memo of its own
    newer = index.get(ref)
    assert newer is new and memo_of(newer, "/x") is not memo_of(held, "/x")
    for copied in (copy.copy(newer), copy.deepcopy(newer), dict(newer)):
        assert type(copied) is dict and copied == new  # a copy may be changed: it shares no memo
        assert memo_of(copied, "/x") is not memo_of(copied, "/x")


def test_a_hidden_named_target_keeps_its_whole_name_and_a_missing_one_needs_no_evidence() -> None:
    objects = [vm("hidden", [claim("root", "disk"), claim("data", "gone")], rv="31"), pvc("disk")]
    store = SnapshotStore.from_objects(CATALOG, objects, "unit")
    root = Resolved(Entity.root(CATALOG.kind("VirtualMachine"), objects[0]))
    engine().follow(store, [root], parse_follow("volumes.pvc"), Denying("Secret"))  # PVCs visible
    hidden, absent = (v.followed["pvc"] for v in volumes(root))
    assert isinstance(hidden, Resolved) and isinstance(absent, Missing) and absent.reason == "NotFound"
    root = Resolved(Entity.root(CATALOG.kind("VirtualMachine"), objects[0]))
    engine().follow(store, [root], parse_follow("volumes.pvc"), Denying("PersistentVolumeClaim"))
    hidden = volumes(root)[0].followed["pvc"]
    assert isinstance(hidden, Missing)
    assert hidden.ref == ObjectRef("PersistentVolumeClaim", NS, "disk")


def test_a_golden_image_is_found_from_its_pvc_with_the_data_sources_namespace_by_default() -> None:
    source = {"apiVersion": "cdi.kubevirt.io/v1beta1", "kind": "DataSource",
              "metadata": {"name": "fedora", "namespace": NS},
              "spec": {"source": {"pvc": {"name": "golden"}}}}  # fmt: skip
    elsewhere = {"apiVersion": "cdi.kubevirt.io/v1beta1", "kind": "DataSource",
                 "metadata": {"name": "other", "namespace": "images"},
                 "spec": {"source": {"pvc": {"name": "golden"}}}}  # fmt: skip
    image = pvc("golden")
    for optimized in (True, False):
        store = SnapshotStore.from_objects(CATALOG, [image, elsewhere, source], "unit")
        root = Resolved(Entity.root(CATALOG.kind("PersistentVolumeClaim"), image))
        engine(optimized=optimized).follow(store, [root], parse_follow("datasource"))
        found = root.followed["datasource"]
        assert isinstance(found, Resolved) and found.entity.name == "fedora"


def test_an_object_graph_leaves_out_what_the_policy_hides_with_what_hangs_below_it() -> None:
    from gateway.graph.objectgraph import ObjectGraphBuilder, flat

    objects = [vm("graphed", [claim("root", "disk")], rv="41"), pvc("disk")]
    store = SnapshotStore.from_objects(CATALOG, objects, "unit")
    root = Entity.root(CATALOG.kind("VirtualMachine"), objects[0])
    builder = ObjectGraphBuilder(engine())

    def kinds(policy: ScopedPolicy | None) -> list[str]:
        (graph,) = builder.build(store, [root], access=policy)
        return [n["objectReference"]["kind"] for n in flat(graph)]

    assert kinds(None) == ["VirtualMachine", "PersistentVolumeClaim"]
    assert kinds(Denying("Secret")) == ["VirtualMachine", "PersistentVolumeClaim"]
    assert kinds(Denying("PersistentVolumeClaim")) == ["VirtualMachine"]
    assert builder.provide(store, [root], Denying("PersistentVolumeClaim")) == builder.build(
        store, [root], access=Denying("PersistentVolumeClaim")
    )


def test_an_instancetype_reached_from_two_vms_shows_each_its_own_pinned_revision() -> None:
    # the revision is the VM's (status.instancetypeRef.controllerRevisionRef): never shared between parents
    medium = {"apiVersion": "instancetype.kubevirt.io/v1beta1", "kind": "VirtualMachineClusterInstancetype",
              "metadata": {"name": "u1.medium", "resourceVersion": "3"}}  # fmt: skip

    def pinned(name: str, revision: str) -> dict[str, Any]:
        obj = vm(name, [], rv="9")
        obj["spec"]["instancetype"] = {"kind": "VirtualMachineClusterInstancetype", "name": "u1.medium"}
        obj["status"] = {"instancetypeRef": {"kind": "VirtualMachineClusterInstancetype", "name": "u1.medium",
                                             "controllerRevisionRef": {"name": revision}}}  # fmt: skip
        return obj

    first, second = pinned("first", "rev-a"), pinned("second", "rev-b")
    store = SnapshotStore.from_objects(CATALOG, [first, second, medium], "unit")
    for obj, revision in ((first, "rev-a"), (second, "rev-b"), (first, "rev-a")):
        root = Resolved(Entity.root(CATALOG.kind("VirtualMachine"), obj))
        engine().follow(store, [root], parse_follow("instancetype"))
        doc = render(root, CATALOG)
        assert doc["instancetype"]["links"]["revision"]["name"] == revision


def test_the_byte_budget_adds_up_every_object_and_the_limit_itself_is_allowed() -> None:
    objects = [vm("budget", [claim(f"v{i}", f"b{i}") for i in range(3)], rv="51"), *(pvc(f"b{i}") for i in range(3))]
    import orjson

    total = sum(len(orjson.dumps(o)) for o in objects)
    followed(objects, "volumes.pvc", limits=FollowLimits(max_response_bytes=total))  # exactly at the limit
    with pytest.raises(TooLarge, match=r"^the answer would be larger than .* --max-response-bytes$"):
        followed(objects, "volumes.pvc", limits=FollowLimits(max_response_bytes=total - 1))


def test_follow_counts_what_it_resolved_and_says_which_limit_refused() -> None:
    objects = [vm("count", [claim("a", "c1"), claim("b", "c2")], rv="61"), pvc("c1")]
    store = SnapshotStore.from_objects(CATALOG, objects, "unit")
    root = Resolved(Entity.root(CATALOG.kind("VirtualMachine"), objects[0]))
    assert engine().follow(store, [root], parse_follow("")) == 0
    assert engine().follow(store, [root], parse_follow("volumes.pvc")) == 4  # two volumes, one PVC, one missing
    advice = "follow fewer links, page the collection with limit, or raise the gateway's --max-embedded"
    with pytest.raises(TooLarge, match=rf"^follow would embed more than 3 objects; {advice}$"):
        engine(FollowLimits(max_embedded=3)).follow(store, [root], parse_follow("volumes.pvc"))


def test_a_hidden_to_one_query_target_is_missing_without_a_name_at_the_links_href() -> None:
    # a VM's backend-storage PVC is found by a query; hidden, it says only that the link leads nowhere visible
    objects = [vm("tpm", [], rv="71"), pvc("persistent-state-for-tpm-x")]
    objects[1]["metadata"]["labels"] = {"persistent-state-for": "tpm"}  # KubeVirt's backendstorage.PVCPrefix label
    objects[0]["spec"]["template"]["spec"]["domain"] = {"devices": {"tpm": {"persistent": True}}}
    store = SnapshotStore.from_objects(CATALOG, objects, "unit")
    root = Resolved(Entity.root(CATALOG.kind("VirtualMachine"), objects[0]))
    engine().follow(store, [root], parse_follow("backendstorage"), Denying("PersistentVolumeClaim"))
    hidden = root.followed.get("backendstorage")
    seen = Resolved(Entity.root(CATALOG.kind("VirtualMachine"), objects[0]))
    engine().follow(store, [seen], parse_follow("backendstorage"), Denying("Secret"))
    found = seen.followed["backendstorage"]
    assert isinstance(found, Resolved) and found.entity.name == "persistent-state-for-tpm-x"
    assert hidden == Missing("PersistentVolumeClaim", None, f"/namespaces/{NS}/vms/tpm/backendstorage", "Forbidden")


@pytest.mark.parametrize("optimized", [True, False])
def test_a_vmis_launcher_pod_is_looked_for_in_the_vmis_namespace_only(optimized: bool) -> None:
    # the kubevirt.io/domain annotation (the older fallback) names a VMI, not its namespace
    metadata = {"name": "twin", "namespace": NS, "uid": "uid-twin", "resourceVersion": "91"}
    twin = {"apiVersion": "kubevirt.io/v1", "kind": "VirtualMachineInstance", "metadata": metadata}
    elsewhere = {"apiVersion": "v1", "kind": "Pod",
                 "metadata": {"name": "virt-launcher-twin-x", "namespace": "other",
                              "labels": {"kubevirt.io": "virt-launcher"},
                              "annotations": {"kubevirt.io/domain": "twin"}}}  # fmt: skip
    store = SnapshotStore.from_objects(CATALOG, [twin, elsewhere], "unit")
    root = Resolved(Entity.root(CATALOG.kind("VirtualMachineInstance"), twin))
    engine(optimized=optimized).follow(store, [root], parse_follow("pod"))
    assert root.followed["pod"] == Missing("Pod", None, f"/namespaces/{NS}/vmis/twin/pod", "NotFound")


@pytest.mark.parametrize("optimized", [True, False])
def test_a_service_is_a_vms_only_when_its_whole_selector_matches_the_vms_labels(optimized: bool) -> None:
    objects = [vm("web", [], rv="95", labels={"app": "web"}), service("front", {"app": "web"}),
               service("database", {"app": "web", "tier": "db"})]  # fmt: skip
    root = followed(objects, "services", optimized=optimized)
    found = root.followed["services"]
    assert isinstance(found, list) and [s.entity.name for s in found if isinstance(s, Resolved)] == ["front"]
