"""The application graph's pieces built together: one read per kind per step for all of them, and
each kept with what it alone read, so a change drops exactly the pieces it would have dropped had
each been built alone (counted over every object of the cluster, not timed)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from gateway.access.policy import CallerPolicy
from gateway.access.reviews import Authorizer, User
from gateway.app import build_documents
from gateway.catalog import CATALOG, Entity, ObjectRef, Query
from gateway.catalog.selectors import LabelSelector
from gateway.changes.pieces import PieceMemory
from gateway.changes.reads import ReadRecorder
from gateway.config import Config
from gateway.follow.policy import Policy
from gateway.graph.appgraph import ApplicationGraphBuilder, Piece
from gateway.store import Store
from gateway.store.feed import Change, ChangeFeed
from gateway.store.snapshot import SnapshotStore, demo_objects
from tests.support.emulator.rbac import Rbac, Rule
from tests.support.policies import RbacReviewer, ScopedPolicy
from tests.support.synthetic import synthetic_cluster

NS = "bench"
EXTRA: list[dict[str, Any]] = [
    # a Service selecting one VM, a standalone VMI, and a VM whose disk's DataVolume and PVC are gone
    {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "front", "namespace": NS},
     "spec": {"selector": {"app": "vm-00001"}}},
    {"apiVersion": "kubevirt.io/v1", "kind": "VirtualMachineInstance",
     "metadata": {"name": "solo", "namespace": NS, "uid": "uid-solo"}, "status": {"phase": "Running"}},
    {"apiVersion": "kubevirt.io/v1", "kind": "VirtualMachine",
     "metadata": {"name": "orphan", "namespace": NS, "uid": "uid-orphan"},
     "spec": {"template": {"spec": {"volumes": [{"name": "root", "dataVolume": {"name": "gone"}}]}}}},
]  # fmt: skip


class OneByOne:
    """Only the one-piece protocol: the builder builds each piece alone, through its own recorder."""

    def __init__(self, memory: PieceMemory) -> None:
        self.memory = memory

    def __call__(self, of: Entity, store: Store, access: Policy | None, build: Callable[[Store], Piece]) -> Piece:
        return self.memory(of, store, access, build)


def touched(obj: dict[str, Any]) -> dict[str, Any]:
    """The same object, changed (an annotation), as a watch would deliver it."""
    meta = dict(obj["metadata"])
    meta["annotations"] = {**meta.get("annotations", {}), "touched": "yes"}
    return {**obj, "metadata": meta}


def test_pieces_built_together_read_once_per_kind_and_are_dropped_by_exactly_what_each_read() -> None:
    objects = [*synthetic_cluster(6, NS), *EXTRA]
    store = SnapshotStore.from_objects(CATALOG, objects, "unit")
    engine = build_documents(Config()).engine
    at_once = ApplicationGraphBuilder(engine)
    counted = ReadRecorder(store)
    expected = at_once.build(counted, NS, LabelSelector())
    feeds = {"together": ChangeFeed(), "alone": ChangeFeed()}
    memories = {name: PieceMemory(store, feed, CATALOG, 64 * 1024 * 1024) for name, feed in feeds.items()}
    builders = {"together": ApplicationGraphBuilder(engine, memories["together"]),
                "alone": ApplicationGraphBuilder(engine, OneByOne(memories["alone"]))}  # fmt: skip

    def build(name: str) -> ReadRecorder:
        reads = ReadRecorder(store, feeds[name])
        assert builders[name].build(reads, NS, LabelSelector()) == expected
        return reads

    together, alone = build("together"), build("alone")
    # one read per kind per step, as built at once, and the workloads read again (VMs, VMIs: two)
    assert together.reads == counted.reads + 2 < alone.reads
    assert together.objects == alone.objects  # the request depends on the same objects either way
    vms = store.select(Query("VirtualMachine", NS))
    solo = store.get(ObjectRef("VirtualMachineInstance", NS, "solo"))
    workloads = [*(Entity.root(CATALOG.kind("VirtualMachine"), o) for o in vms),
                 Entity.root(CATALOG.kind("VirtualMachineInstance"), solo)]  # fmt: skip
    assert len(workloads) == 8 and all(memories["together"].holds(w) for w in workloads)
    dropped: list[int] = []
    for obj in objects:
        for feed in feeds.values():
            feed.publish(Change(obj["kind"], obj, touched(obj)))
        held = {name: [memory.holds(w) for w in workloads] for name, memory in memories.items()}
        assert held["together"] == held["alone"], obj["metadata"]
        dropped.append(held["together"].count(False))
        for name in feeds:  # the dropped pieces rebuilt: together, those alone
            rebuilt = build(name)
            assert (rebuilt.reads > 2) == (dropped[-1] > 0)
    assert dropped.count(1) > len(objects) // 2  # most objects are one VM's, and drop its piece alone
    assert max(dropped) == 6  # a shared one (the instancetype) drops the six VMs' that use it, no other
    assert dropped.count(0) > 0  # and some concern no piece: a Node
    added = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "back", "namespace": NS},
             "spec": {"selector": {"app": "vm-00003"}}}  # fmt: skip
    for feed in feeds.values():  # an object that comes to match one piece's search
        feed.publish(Change("Service", None, added))
    assert [w.name for w in workloads if not memories["together"].holds(w)] == ["vm-00003"]
    assert [w.name for w in workloads if not memories["alone"].holds(w)] == ["vm-00003"]


class ChangingWhileRead:
    """A store whose one launcher pod changes while a batch reads the pods: the change is published
    between the batch's first read and the pieces being kept."""

    def __init__(self, store: SnapshotStore, pod: dict[str, Any]) -> None:
        self.store, self.feed, self.pod = store, ChangeFeed(), pod
        self.get, self.get_many, self.readiness = store.get, store.get_many, store.readiness
        self.referrers, self.referrers_many = store.referrers, store.referrers_many

    def select(self, query: Query) -> list[Any]:
        found = self.store.select(query)
        if query.kind == "Pod" and self.pod:
            pod, self.pod = self.pod, {}
            self.feed.publish(Change("Pod", pod, touched(pod)))
        return found


def test_a_change_while_pieces_are_built_together_drops_only_the_piece_it_concerns() -> None:
    objects = synthetic_cluster(4, NS)
    pod = next(o for o in objects if o["kind"] == "Pod" and o["metadata"]["labels"]["app"] == "vm-00002")
    store = ChangingWhileRead(SnapshotStore.from_objects(CATALOG, objects, "unit"), pod)
    memory = PieceMemory(store, store.feed, CATALOG, 64 * 1024 * 1024)
    ApplicationGraphBuilder(build_documents(Config()).engine, memory).build(
        ReadRecorder(store, store.feed), NS, LabelSelector()
    )
    vms = [Entity.root(CATALOG.kind("VirtualMachine"), o) for o in store.select(Query("VirtualMachine", NS))]
    assert not store.pod  # the change was published while the batch read
    assert [vm.name for vm in vms if not memory.holds(vm)] == ["vm-00002"]  # by a kind's count: all of them


class ChangedAfterListing:
    """A store whose VM `vm-00001` changes right after the VMs are listed, before any piece is built:
    the change is published, and from then on the store holds the new object."""

    def __init__(self, store: SnapshotStore) -> None:
        self.store, self.feed, self.changed = store, ChangeFeed(), None
        self.readiness, self.referrers, self.referrers_many = store.readiness, store.referrers, store.referrers_many

    def select(self, query: Query) -> list[Any]:
        found = self.store.select(query)
        if query.kind == "VirtualMachine" and self.changed is None:
            old = next(o for o in found if o["metadata"]["name"] == "vm-00001")
            self.changed = touched(old)
            self.feed.publish(Change("VirtualMachine", old, self.changed))
        return found

    def get(self, ref: Any) -> Any:
        return self.get_many(ref.kind, ref.namespace, [ref.name]).get(ref.name)

    def get_many(self, kind: str, namespace: str | None, names: Any) -> dict[str, Any]:
        found = self.store.get_many(kind, namespace, names)
        if kind == "VirtualMachine" and self.changed is not None and "vm-00001" in found:
            found["vm-00001"] = self.changed
        return found


def test_a_workload_that_changed_after_it_was_listed_is_not_kept_as_listed() -> None:
    store = ChangedAfterListing(SnapshotStore.from_objects(CATALOG, synthetic_cluster(3, NS), "unit"))
    memory = PieceMemory(store, store.feed, CATALOG, 64 * 1024 * 1024)
    ApplicationGraphBuilder(build_documents(Config()).engine, memory).build(
        ReadRecorder(store, store.feed), NS, LabelSelector()
    )
    vms = [Entity.root(CATALOG.kind("VirtualMachine"), o) for o in store.store.select(Query("VirtualMachine", NS))]
    assert store.changed is not None  # published before the pieces were built: no piece was filed to hear it
    assert [vm.name for vm in vms if not memory.holds(vm)] == ["vm-00001"]


@pytest.mark.parametrize("namespace", ["demo", "lab"])
def test_in_the_demo_pieces_built_together_are_dropped_by_what_each_alone_read(namespace: str) -> None:
    """The demo's namespaces: every volume source, a clone, pools, imports with credentials, networks
    named across namespaces; each object changed in turn drops the same pieces either way."""
    objects = [obj for _, obj in demo_objects(CATALOG)]
    store = SnapshotStore.demo(CATALOG)
    engine = build_documents(Config()).engine
    feeds = {"together": ChangeFeed(), "alone": ChangeFeed()}
    memories = {name: PieceMemory(store, feed, CATALOG, 64 * 1024 * 1024) for name, feed in feeds.items()}
    builders = {"together": ApplicationGraphBuilder(engine, memories["together"]),
                "alone": ApplicationGraphBuilder(engine, OneByOne(memories["alone"]))}  # fmt: skip
    for name in feeds:
        builders[name].build(ReadRecorder(store, feeds[name]), namespace, LabelSelector())
    workloads = [Entity.root(CATALOG.kind(k), o) for k in ("VirtualMachine", "VirtualMachineInstance")
                 for o in store.select(Query(k, namespace))]  # fmt: skip
    workloads = [w for w in workloads if memories["alone"].holds(w)]  # a VM's own VMI is no workload
    assert len(workloads) > 2 and all(memories["together"].holds(w) for w in workloads)
    dropped = 0
    for obj in objects:
        for feed in feeds.values():
            feed.publish(Change(obj["kind"], obj, touched(obj)))
        held = {name: [memory.holds(w) for w in workloads] for name, memory in memories.items()}
        assert held["together"] == held["alone"], obj["metadata"]
        dropped += held["together"].count(False)
        for name in feeds:
            builders[name].build(ReadRecorder(store, feeds[name]), namespace, LabelSelector())
    assert dropped > len(workloads)


ALICE, BOB = User("alice"), User("bob")
EVERY_RESOURCE = frozenset(kind.plural for kind in CATALOG.kinds() if not kind.part)


def reader(resources: frozenset[str]) -> Rbac:
    """Alice and Bob may read these resources in NS (and nothing cluster-wide)."""
    return Rbac(rules=[Rule(frozenset({"alice", "bob"}), resources=resources, namespaces=frozenset({NS}))])


@pytest.mark.parametrize("kept", ["together", "alone"])
def test_pieces_are_kept_for_their_caller_and_recalled_only_while_the_access_they_stood_on_holds(kept: str) -> None:
    store = SnapshotStore.from_objects(CATALOG, synthetic_cluster(3, NS), "unit")
    engine = build_documents(Config()).engine
    feed = ChangeFeed()
    memory = PieceMemory(store, feed, CATALOG, 64 * 1024 * 1024)
    builder = ApplicationGraphBuilder(engine, memory if kept == "together" else OneByOne(memory))
    rbac = reader(EVERY_RESOURCE)

    def caller(user: User) -> CallerPolicy:  # a fresh authorizer: every decision reviewed now
        return CallerPolicy(user, Authorizer(RbacReviewer(rbac)))

    def graph(user: User) -> tuple[dict[str, Any], int]:
        reads = ReadRecorder(store, feed)
        return builder.build(reads, NS, LabelSelector(), caller(user)), reads.reads

    def at_once(user: User) -> dict[str, Any]:
        return ApplicationGraphBuilder(engine).build(store, NS, LabelSelector(), caller(user))

    first, reads = graph(ALICE)
    assert first == at_once(ALICE) and reads > 2
    vms = [Entity.root(CATALOG.kind("VirtualMachine"), o) for o in store.select(Query("VirtualMachine", NS))]
    assert all(memory.holds(vm, ALICE) for vm in vms) and not any(memory.holds(vm) for vm in vms)
    assert graph(ALICE) == (first, 2)  # all recalled: the two listings alone are read
    assert graph(BOB)[1] > 2  # Bob's own, built for him
    rbac.rules = reader(EVERY_RESOURCE - {"persistentvolumeclaims"}).rules
    hidden, reads = graph(ALICE)  # the pieces stood on reading the claims: built again, as she may see them now
    assert hidden == at_once(ALICE) != first and reads > 2
    assert graph(ALICE) == (hidden, 2)


@pytest.mark.parametrize("kept", ["together", "alone"])
def test_pieces_built_without_a_recorder_or_for_a_policy_it_cannot_record_are_not_kept(kept: str) -> None:
    store = SnapshotStore.from_objects(CATALOG, synthetic_cluster(2, NS), "unit")
    engine = build_documents(Config()).engine
    memory = PieceMemory(store, ChangeFeed(), CATALOG, 64 * 1024 * 1024)
    builder = ApplicationGraphBuilder(engine, memory if kept == "together" else OneByOne(memory))
    policy = ScopedPolicy(NS, kinds={"PersistentVolumeClaim"})  # decided without the reviews a piece keeps
    at_once = ApplicationGraphBuilder(engine)
    guarded = builder.build(ReadRecorder(store), NS, LabelSelector(), policy)
    assert guarded == at_once.build(store, NS, LabelSelector(), policy)
    assert builder.build(store, NS, LabelSelector()) == at_once.build(store, NS, LabelSelector())  # no recorder
    assert len(memory) == 0


@pytest.mark.parametrize("kept", ["together", "alone"])
def test_a_request_that_built_pieces_is_unchanged_until_a_change_to_what_they_read(kept: str) -> None:
    """The request's own recorder takes each kind's count as the pieces read it: its whole answer
    can be remembered too, until a change to a kind they read."""
    objects = synthetic_cluster(2, NS)
    store = SnapshotStore.from_objects(CATALOG, objects, "unit")
    feed = ChangeFeed()
    for obj in objects:  # the store's first listing, published: every kind's count above 0
        feed.publish(Change(obj["kind"], None, obj))
    memory = PieceMemory(store, feed, CATALOG, 64 * 1024 * 1024)
    engine = build_documents(Config()).engine
    builder = ApplicationGraphBuilder(engine, memory if kept == "together" else OneByOne(memory))
    reads = ReadRecorder(store, feed)
    builder.build(reads, NS, LabelSelector())
    assert reads.reads > 2 and reads.unchanged() and len(memory) == 2
    pod = next(o for o in objects if o["kind"] == "Pod")
    feed.publish(Change("Pod", pod, touched(pod)))
    assert not reads.unchanged()
