"""The follow engine over a batch read on behalf of several roots (`follow.attribution`): each root's
share records what resolving its parents alone reads, link by link, and a level costs one read per
(kind, namespace) however many parents it has. Unit tests of the engine against a snapshot store."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from gateway.catalog import CATALOG, Entity, Link, Query
from gateway.catalog.selectors import LabelSelector
from gateway.changes.reads import BatchRecorder, ReadRecorder
from gateway.follow.engine import FollowEngine, Missing, Resolved
from gateway.follow.followers import Target
from gateway.follow.paths import parse_follow
from gateway.follow.policy import Policy, scope_of
from gateway.store.snapshot import SnapshotStore
from tests.core.test_engine import NS, Denying, claim, data_volume, engine, pvc, service, vm
from tests.support.policies import ScopedPolicy

NAMES = ("alpha", "beta", "gamma")


def pinned(obj: dict[str, Any], revision: str) -> dict[str, Any]:
    """The VM with the cluster instancetype u1.medium, pinned to its ControllerRevision `revision`."""
    obj["spec"]["instancetype"] = {"kind": "VirtualMachineClusterInstancetype", "name": "u1.medium"}
    obj["status"] = {"instancetypeRef": {"kind": "VirtualMachineClusterInstancetype", "name": "u1.medium",
                                         "controllerRevisionRef": {"name": revision}}}  # fmt: skip
    return obj


def instance(name: str) -> dict[str, Any]:
    return {"apiVersion": "kubevirt.io/v1", "kind": "VirtualMachineInstance",
            "metadata": {"name": name, "namespace": NS, "uid": f"uid-vmi-{name}"}}  # fmt: skip


def launcher(vmi: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": f"virt-launcher-{vmi}-x", "namespace": NS, "labels": {"kubevirt.io": "virt-launcher"},
                         "ownerReferences": [{"apiVersion": "kubevirt.io/v1", "kind": "VirtualMachineInstance",
                                              "name": vmi, "uid": f"uid-vmi-{vmi}"}]}}  # fmt: skip


def revision(name: str) -> dict[str, Any]:
    return {"apiVersion": "apps/v1", "kind": "ControllerRevision", "metadata": {"name": name, "namespace": NS}}


MEDIUM = {"apiVersion": "instancetype.kubevirt.io/v1beta1", "kind": "VirtualMachineClusterInstancetype",
          "metadata": {"name": "u1.medium", "resourceVersion": "3"}}  # fmt: skip


def cluster() -> list[dict[str, Any]]:
    """Three VMs, each with a disk (one gone), a DataVolume (collected, its PVC left, or never made),
    a pinned revision (one gone), a Service, its VMI (one without a launcher pod)."""
    vms = [
        pinned(vm(name, [claim("root", f"disk-{name}"), data_volume("data", f"dv-{name}")], labels={"app": name}), rev)
        for name, rev in zip(NAMES, ("rev-alpha", "rev-beta", "rev-gone"), strict=True)
    ]
    return [
        *vms, MEDIUM, revision("rev-alpha"), revision("rev-beta"),
        pvc("disk-alpha"), pvc("disk-gamma"), pvc("dv-alpha"), pvc("dv-gamma"),  # disk-beta is gone; dv-beta never made
        service("front", {"app": "beta"}), service("back", {"app": "gamma"}),
        *(instance(name) for name in NAMES), launcher("alpha"), launcher("gamma"),
    ]  # fmt: skip


Level = Callable[[SnapshotStore], tuple[Link, list[Entity]]]


def roots(store: SnapshotStore, kind: str = "VirtualMachine") -> list[Entity]:
    return [Entity.root(CATALOG.kind(kind), o) for o in store.select(Query(kind, NS))]


def parts(rel: str, link: str) -> Level:
    """The link on the VMs' parts at `rel` (their volumes): several parents of each root."""

    def level(store: SnapshotStore) -> tuple[Link, list[Entity]]:
        vms = roots(store)
        found = engine().resolve(store, CATALOG.link("VirtualMachine", rel), vms)
        entities = [engine().target_entity(vm, rel, t) for vm, targets in zip(vms, found, strict=True) for t in targets]
        return CATALOG.link(entities[0].kind.name, link), entities

    return level


def on(kind: str, link: str) -> Level:
    def level(store: SnapshotStore) -> tuple[Link, list[Entity]]:
        return CATALOG.link(kind, link), roots(store, kind)

    return level


def revisions(store: SnapshotStore) -> tuple[Link, list[Entity]]:
    """Each VM's instancetype (the same object): its `revision` is the one that VM pinned."""
    vms = roots(store)
    found = engine().resolve(store, CATALOG.link("VirtualMachine", "instancetype"), vms)
    entities = [engine().target_entity(vm, "instancetype", t) for vm, (t,) in zip(vms, found, strict=True)]
    return CATALOG.links("VirtualMachineClusterInstancetype", entities[0].via)["revision"], entities


def root_of(entity: Entity) -> Entity:
    while entity.parent is not None:
        entity = entity.parent
    return entity


def recorded(reads: ReadRecorder, objects: list[dict[str, Any]]) -> tuple[set[Any], list[Any], list[Any]]:
    """What a change must be checked against: the objects asked for by name, each search with what
    of the cluster it matches (a query's predicate is a function made per parent: compared by what
    it admits), the reverse-link searches."""
    searches = [(q.kind, q.namespace, q.selector, q.joined, [o["metadata"]["name"] for o in objects if q.matches(o)])
                for q in reads.queries]  # fmt: skip
    return reads.objects, searches, reads.referrer_queries


LEVELS = {
    "named": parts("volumes", "pvc"),
    "named, why missing": parts("volumes", "datavolume"),
    "named by the path": revisions,
    "selected": on("VirtualMachine", "services"),
    "selected, joined": on("VirtualMachineInstance", "pod"),
    "referrers": on("PersistentVolumeClaim", "vms"),
}


@pytest.mark.parametrize(
    "policy", [None, Denying("Secret"), Denying("PersistentVolumeClaim")], ids=["no policy", "all", "no PVCs"]
)
@pytest.mark.parametrize("level", LEVELS.values(), ids=LEVELS.keys())
def test_a_batch_records_for_each_root_kept_apart_what_resolving_its_parents_alone_reads(
    level: Level, policy: ScopedPolicy | None
) -> None:
    objects = cluster()
    store = SnapshotStore.from_objects(CATALOG, objects, "unit")
    link, parents = level(store)
    every = sorted({root_of(p).href: root_of(p) for p in parents}.values(), key=lambda r: r.href)
    kept = every[1:]  # the first root is not kept apart: its parents come first in the level
    batch = BatchRecorder(store, None, kept)
    together = engine().resolve(batch, link, parents, policy)
    generic = engine(optimized=False)
    for root, part in zip(kept, batch.parts, strict=True):
        alone = ReadRecorder(store)
        alone.get(root.ref())  # a piece depends on its root: the part records it first
        mine = [p for p in parents if root_of(p) is root]
        assert generic.resolve(alone, link, mine, policy) == [
            targets for p, targets in zip(parents, together, strict=True) if root_of(p) is root
        ]
        assert recorded(part, objects) == recorded(alone, objects), root.name
        assert len(part.objects) + len(part.queries) + len(part.referrer_queries) > 1  # more than its root


def test_a_missing_revision_the_vm_pinned_is_recorded_by_its_name() -> None:
    store = SnapshotStore.from_objects(CATALOG, cluster(), "unit")
    link, parents = revisions(store)
    batch = BatchRecorder(store, None, [root_of(p) for p in parents])
    together = engine().resolve(batch, link, parents)
    assert [t.ref.name if t.ref else t.obj and t.obj["metadata"]["name"] for (t,) in together] == [
        "rev-alpha", "rev-beta", "rev-gone"
    ]  # fmt: skip
    gone = next(part for part, p in zip(batch.parts, parents, strict=True) if root_of(p).name == "gamma")
    assert {(r.kind, r.name) for r in gone.objects} == {("VirtualMachine", "gamma"), ("ControllerRevision", "rev-gone")}


class Asking(ScopedPolicy):
    """ScopedPolicy that also writes down each `knows` question (kind, namespace, name), and those it
    was asked before they were announced by `prefetch`."""

    def __init__(self, *args: Any, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self.asked: list[Any] = []
        self.unannounced: list[Any] = []

    def knows(self, link: Link, target: Target, namespace: str | None) -> bool:
        scope = scope_of(target, namespace)
        self.asked.append(scope)
        if scope not in self.prefetched:
            self.unannounced.append(scope)
        return super().knows(link, target, namespace)


@pytest.mark.parametrize("follow", ["volumes.pvc,volumes.datavolume,services,instancetype.revision", "pod"])
def test_every_access_question_the_engine_asks_was_announced_to_the_policy_before(follow: str) -> None:
    # the caller's policy reviews what is announced together (one SubjectAccessReview round): a question
    # it was not told of first costs a review of its own
    objects = cluster()
    store = SnapshotStore.from_objects(CATALOG, objects, "unit")
    kind = "VirtualMachineInstance" if follow == "pod" else "VirtualMachine"
    nodes = [Resolved(e) for e in roots(store, kind)]
    policy = Asking(NS, ["Secret"])
    engine().follow(store, nodes, parse_follow(follow), policy)
    assert policy.asked and policy.unannounced == []


def test_a_search_in_every_namespace_that_found_nothing_is_forbidden_to_a_caller_of_one_namespace() -> None:
    # a golden image's DataSource is searched for in every namespace: "none" is a listing of all of them
    image = pvc("golden")
    store = SnapshotStore.from_objects(CATALOG, [image], "unit")
    root = Resolved(Entity.root(CATALOG.kind("PersistentVolumeClaim"), image))
    engine().follow(store, [root], parse_follow("datasource"), Denying("Secret"))
    assert root.followed["datasource"] == Missing("DataSource", None, f"/namespaces/{NS}/pvcs/golden/datasource",
                                                  "Forbidden")  # fmt: skip
    everywhere = Resolved(Entity.root(CATALOG.kind("PersistentVolumeClaim"), image))
    engine().follow(store, [everywhere], parse_follow("datasource"), None)
    assert "datasource" not in everywhere.followed  # nothing found, and a caller who may look may know it


def test_a_named_target_the_policy_hides_is_a_forbidden_marker_of_its_kind_at_the_links_href() -> None:
    objects = cluster()
    store = SnapshotStore.from_objects(CATALOG, objects, "unit")
    root = Resolved(Entity.root(CATALOG.kind("VirtualMachine"), objects[0]))
    engine().follow(store, [root], parse_follow("instancetype"), Denying("VirtualMachineClusterInstancetype"))
    hidden = root.followed["instancetype"]
    assert isinstance(hidden, Missing)
    assert (hidden.kind, hidden.href, hidden.reason) == (
        "VirtualMachineClusterInstancetype", f"/namespaces/{NS}/vms/alpha/instancetype", "Forbidden"
    )  # fmt: skip


@pytest.mark.parametrize(
    ("kind", "follow", "kinds"),
    [
        ("VirtualMachine", "volumes.pvc", {"PersistentVolumeClaim"}),  # by name
        ("VirtualMachine", "services", {"Service"}),  # by a query
        ("PersistentVolumeClaim", "vms", {"VirtualMachine"}),  # by reference
    ],
)
def test_a_level_costs_one_read_per_kind_and_namespace_however_many_parents_it_has(
    kind: str, follow: str, kinds: set[str]
) -> None:
    store = SnapshotStore.from_objects(CATALOG, cluster(), "unit")
    nodes = [Resolved(e) for e in roots(store, kind)]
    assert len(nodes) >= 3
    reads = ReadRecorder(store)
    engine().follow(reads, nodes, parse_follow(follow))
    assert reads.reads == 1 and set(reads.counts) == kinds
    assert all(q.namespace == NS for q in reads.queries)  # a search of the parents' namespace, not every one
    one_by_one = ReadRecorder(store)
    engine(optimized=False).follow(one_by_one, [Resolved(e) for e in roots(store, kind)], parse_follow(follow))
    assert one_by_one.reads >= len(nodes)  # the generic followers: a read per parent (or per name)


def test_an_object_graph_followed_through_the_engine_leaves_out_what_the_policy_hides() -> None:
    from gateway.graph.objectgraph import ObjectGraphBuilder, flat

    objects = [vm("graphed", [claim("root", "disk")], rv="41"), pvc("disk")]
    store = SnapshotStore.from_objects(CATALOG, objects, "unit")
    follower: FollowEngine = engine()
    follower.providers["objectgraph"] = ObjectGraphBuilder(follower).provide

    def kinds(policy: Policy | None) -> list[str]:
        root = Resolved(Entity.root(CATALOG.kind("VirtualMachine"), objects[0]))
        follower.follow(store, [root], parse_follow("objectgraph"), policy)
        graph = root.followed["objectgraph"]
        assert isinstance(graph, dict)
        return [n["objectReference"]["kind"] for n in flat(graph)]

    assert kinds(None) == ["VirtualMachine", "PersistentVolumeClaim"]
    assert kinds(Denying("PersistentVolumeClaim")) == ["VirtualMachine"]


def test_a_star_with_a_path_below_it_follows_that_path_on_every_link_that_has_it() -> None:
    objects = [vm("web", [claim("root", "disk"), data_volume("data", "imported")]), pvc("disk"), pvc("imported")]
    store = SnapshotStore.from_objects(CATALOG, objects, "unit")
    root = Entity.root(CATALOG.kind("VirtualMachine"), objects[0])
    ((disk, _),) = engine().resolve(store, CATALOG.link("VirtualMachine", "volumes"), [root])
    node = Resolved(engine().target_entity(root, "volumes", disk))  # the `root` volume, claiming PVC disk
    engine().follow(store, [node], parse_follow("*.vms,pvc.pods"))
    found = node.followed["pvc"]
    assert isinstance(found, Resolved) and found.entity.name == "disk"
    assert set(found.followed) == {"vms", "pods"}  # `*.vms` and `pvc.pods` merged, not one for the other
    users = found.followed["vms"]
    assert isinstance(users, list) and [u.entity.name for u in users if isinstance(u, Resolved)] == ["web"]


def test_a_levels_one_search_keeps_the_label_selector_every_parents_search_shares() -> None:
    # direct mode lists with it: the API server sends launcher pods only, not every pod of the namespace
    store = SnapshotStore.from_objects(CATALOG, cluster(), "unit")
    reads = ReadRecorder(store)
    engine().follow(reads, [Resolved(e) for e in roots(store, "VirtualMachineInstance")], parse_follow("pod"))
    (search,) = reads.queries
    assert search.selector == LabelSelector.from_labels({"kubevirt.io": "virt-launcher"})
