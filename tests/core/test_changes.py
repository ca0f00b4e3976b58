"""Change tracking as a library (unit tests): the feed, the re-list's difference, the memory's
budget, answers recalled only while access holds, and streams' pins and caps."""

from __future__ import annotations

import gc
from collections import Counter
from collections.abc import Collection
from typing import Any

import pytest

from gateway.access.policy import CallerPolicy
from gateway.access.reviews import Authorizer, User
from gateway.catalog import CATALOG, Catalog, Entity, ObjectRef, Query, part_entity
from gateway.catalog.kinds import meta
from gateway.changes.answers import ANSWER_OVERHEAD_BYTES, Answer, Answers
from gateway.changes.cooperation import collector_paused
from gateway.changes.dependents import INDEX_BYTES
from gateway.changes.memory import Remembered
from gateway.changes.reads import BatchRecorder, ReadRecorder
from gateway.changes.streams import Subscriptions, TooManySubscribers
from gateway.store.feed import Change, ChangeFeed
from gateway.store.indexes import ObjectIndex
from gateway.store.snapshot import SnapshotStore
from tests.support.emulator.rbac import Rbac, Rule
from tests.support.policies import RbacReviewer


def obj(name: str, rv: str, uid: str = "u", namespace: str = "ns", **labels: str) -> dict[str, Any]:
    return {"metadata": {"name": name, "namespace": namespace, "uid": f"{uid}-{name}", "resourceVersion": rv,
                         "labels": labels}}  # fmt: skip


def vm_using(claim: str) -> dict[str, Any]:
    volume = {"name": "d", "persistentVolumeClaim": {"claimName": claim}}
    return {"metadata": {"name": "v", "namespace": "ns"}, "spec": {"template": {"spec": {"volumes": [volume]}}}}


def recorder(feed: ChangeFeed, *, name: str = "a", kind: str = "ConfigMap") -> ReadRecorder:
    reads = ReadRecorder(SnapshotStore.from_objects(CATALOG, [], "unit"), feed)
    reads.get(ObjectRef(kind, "ns", name))
    return reads


def test_the_feed_counts_each_kinds_changes_before_its_subscribers_hear_of_them() -> None:
    feed = ChangeFeed()
    heard: list[tuple[str, int]] = []
    feed.subscribe(lambda change: heard.append((change.kind, feed.count(change.kind))))
    feed.publish(Change("Pod", None, obj("a", "1")))
    feed.publish(Change("Pod", obj("a", "1"), None))
    feed.publish(Change("Node", None, obj("n", "1")))
    assert heard == [("Pod", 1), ("Pod", 2), ("Node", 1)]
    assert feed.count("Pod") == 2 and feed.count("Service") == 0


def test_a_relist_is_published_as_the_difference_it_made() -> None:
    index = ObjectIndex(CATALOG)
    for o in (obj("same", "1"), obj("changed", "1"), obj("gone", "1")):
        index.put("ConfigMap", o)
    kept = index.get(ObjectRef("ConfigMap", "ns", "same"))
    made = index.replace_kind("ConfigMap", [obj("same", "1"), obj("changed", "2"), obj("new", "1")])
    summary = sorted(((o or n or {})["metadata"]["name"], o is not None, n is not None) for o, n in made)
    assert summary == [("changed", True, True), ("gone", True, False), ("new", False, True)]
    assert index.get(ObjectRef("ConfigMap", "ns", "same")) is kept  # unchanged: kept as it was, memo and all
    recreated = index.replace_kind("ConfigMap", [obj("same", "1", uid="other"), obj("changed", "2"), obj("new", "1")])
    assert [n["metadata"]["uid"] for _, n in recreated if n] == ["other-same"]  # same name and version, new uid
    assert sorted(o["metadata"]["name"] for o in index.clear_kind("ConfigMap")) == ["changed", "new", "same"]
    assert index.count("ConfigMap") == 0


def test_an_object_without_a_resource_version_is_always_taken_as_changed() -> None:
    index = ObjectIndex(CATALOG)
    index.put("ConfigMap", obj("a", ""))
    assert len(index.replace_kind("ConfigMap", [obj("a", "")])) == 1


def test_the_memory_charges_each_value_its_index_entries_and_drops_what_a_change_concerns() -> None:
    feed = ChangeFeed()
    memory: Remembered[str, bytes] = Remembered(10_000, len, CATALOG, feed)
    memory.keep("a", b"x" * 100, recorder(feed, name="a"))
    memory.keep("b", b"y" * 100, recorder(feed, name="b"))
    assert memory.used == 2 * (100 + INDEX_BYTES) and len(memory.dependents) == 2
    feed.publish(Change("ConfigMap", obj("a", "1"), obj("a", "2")))
    assert memory.get("a") is None and memory.get("b") == b"y" * 100
    assert memory.used == 100 + INDEX_BYTES and len(memory.dependents) == 1


def test_the_memory_evicts_the_least_recently_used_with_its_index_entries() -> None:
    feed = ChangeFeed()
    memory: Remembered[str, bytes] = Remembered(3 * (100 + INDEX_BYTES), len, CATALOG, feed)
    for name in "abc":
        memory.keep(name, b"x" * 100, recorder(feed, name=name))
    assert memory.get("a") is not None  # a is used: b is now the least recent
    memory.keep("d", b"x" * 100, recorder(feed, name="d"))
    assert [memory.get(k) is not None for k in "abcd"] == [True, False, True, True]
    assert len(memory.dependents) == 3 and memory.dependents.entries() == 3


def test_the_memory_keeps_nothing_that_a_change_came_while_it_was_built() -> None:
    feed = ChangeFeed()
    memory: Remembered[str, bytes] = Remembered(10_000, len, CATALOG, feed)
    reads = recorder(feed)
    feed.publish(Change("ConfigMap", None, obj("elsewhere", "1")))  # the same kind, after it was read
    memory.keep("a", b"x", reads)
    assert memory.get("a") is None and len(memory.dependents) == 0
    too_big = recorder(feed)
    memory.keep("big", b"x" * 20_000, too_big)  # larger than the whole memory: not kept, not filed
    assert memory.get("big") is None and len(memory.dependents) == 0


def test_answers_are_recalled_only_while_the_callers_decisions_hold() -> None:
    feed = ChangeFeed()
    answers = Answers(16 * 1024, CATALOG, feed)
    answer = Answer("etag", b"{}", "application/json", ("ConfigMap",))
    answers.keep("k", answer, recorder(feed))
    assert answers.recall("k", None) is answer and len(answers) == 1
    answers.keep("huge", Answer("e", b"x" * 1025, "application/json", ()), recorder(feed))
    assert answers.recall("huge", None) is None  # over a sixteenth of the memory: never kept


class Pins:
    def __init__(self) -> None:
        self.pinned: Counter[str] = Counter()

    def pin(self, kinds: Collection[str]) -> None:
        self.pinned.update(kinds)

    def unpin(self, kinds: Collection[str]) -> None:
        self.pinned.subtract(kinds)


def test_a_stream_pins_the_kinds_its_latest_build_read_until_it_closes() -> None:
    feed, pins = ChangeFeed(), Pins()
    streams = Subscriptions(10, 2, CATALOG, feed, pins)
    first = streams.open("alice")
    streams.depend(first, recorder(feed, kind="ConfigMap"))
    assert +pins.pinned == Counter({"ConfigMap": 1})
    reads = recorder(feed, kind="ConfigMap")
    reads.select(Query("Pod", "ns"))
    streams.depend(first, reads)  # built again, reading one more kind
    assert +pins.pinned == Counter({"ConfigMap": 1, "Pod": 1})
    feed.publish(Change("Pod", None, obj("p", "1")))
    assert first.changed.is_set()
    streams.close(first)
    streams.close(first)  # closing twice frees one slot and unpins once
    assert +pins.pinned == Counter() and len(streams) == 0


def test_each_caller_has_a_cap_of_their_own_and_the_whole_a_cap_too() -> None:
    streams = Subscriptions(3, 2, CATALOG, None, None)
    mine = [streams.open("alice"), streams.open("alice")]
    with pytest.raises(TooManySubscribers, match="--max-subscribers-per-caller"):
        streams.open("alice")
    streams.open("bob")
    with pytest.raises(TooManySubscribers, match=r"\(--max-subscribers\)"):
        streams.open("carol")
    streams.close(mine[0])
    assert streams.open("alice") is not None


def test_a_recorder_takes_in_what_another_read_with_each_kinds_count_as_of_now() -> None:
    feed = ChangeFeed()
    mine = recorder(feed, name="mine")
    feed.publish(Change("Pod", None, obj("p", "1")))
    piece = ReadRecorder(SnapshotStore.from_objects(CATALOG, [], "unit"), feed)
    piece.get_many("Pod", "ns", ["p"])
    piece.select(Query("Service", "ns"))
    piece.referrers(ObjectRef("PersistentVolumeClaim", "ns", "disk"), "VirtualMachine")
    piece.get(ObjectRef("ConfigMap", "ns", "mine"))
    feed.publish(Change("Service", None, obj("s", "1")))
    mine.absorb(piece)  # a remembered piece: valid now, read for nothing now
    assert mine.reads == 1 and mine.unchanged()
    assert mine.counts == {"ConfigMap": 0, "Pod": 1, "Service": 1, "VirtualMachine": 0}
    assert mine.objects == {ObjectRef("ConfigMap", "ns", "mine"), ObjectRef("Pod", "ns", "p")}
    assert [q.kind for q in mine.queries] == ["Service"] and len(mine.referrer_queries) == 1
    mine.absorb(piece, counted=True)  # built for this request: its reads are this request's
    assert mine.reads == 1 + piece.reads and len(mine.queries) == 2
    feed.publish(Change("VirtualMachine", None, obj("v", "1")))
    assert not mine.unchanged()


def test_every_read_notes_its_kind_so_a_change_to_it_is_seen() -> None:
    for read in (
        lambda r: r.get_many("Pod", "ns", ["a"]),
        lambda r: r.referrers(ObjectRef("PersistentVolumeClaim", "ns", "d"), "Pod"),
        lambda r: r.referrers_many("Pod", "ns", [ObjectRef("PersistentVolumeClaim", "ns", "d")]),
        lambda r: r.select(Query("Pod", "ns")),
        lambda r: r.get(ObjectRef("Pod", "ns", "a")),
    ):
        feed = ChangeFeed()
        reads = ReadRecorder(SnapshotStore.from_objects(CATALOG, [], "unit"), feed)
        read(reads)
        assert reads.unchanged() and reads.reads == 1
        feed.publish(Change("Pod", None, obj("b", "1")))
        assert not reads.unchanged()


def test_the_memory_charges_every_index_entry_and_drops_by_reverse_links_too() -> None:
    feed = ChangeFeed()
    memory: Remembered[str, bytes] = Remembered(10_000, len, CATALOG, feed)
    reads = recorder(feed)
    reads.referrers(ObjectRef("PersistentVolumeClaim", "ns", "disk"), "VirtualMachine")
    memory.keep("a", b"x" * 10, reads)
    assert memory.used == 10 + 2 * INDEX_BYTES
    user = vm_using("disk")
    feed.publish(Change("VirtualMachine", None, user))
    assert memory.get("a") is None and memory.used == 0


def test_answers_are_kept_up_to_a_sixteenth_of_the_memory_each_and_charged_their_overhead() -> None:
    feed = ChangeFeed()
    answers = Answers(16 * 1024, CATALOG, feed)
    answers.keep("empty", Answer("e", b"", "application/json", ()), recorder(feed))
    answers.keep("largest", Answer("l", b"x" * 1024, "application/json", ()), recorder(feed))
    answers.keep("smallest", Answer("s", b"0", "application/json", ()), recorder(feed, name="b"))
    assert answers.recall("empty", None) is None and answers.recall("largest", None) is not None
    assert answers.recall("smallest", None) is not None
    assert answers.used == 1024 + 1 + 2 * (ANSWER_OVERHEAD_BYTES + INDEX_BYTES)
    assert len(answers.dependents) == 2


def test_closing_a_stream_gives_its_caller_the_slot_back_and_it_hears_nothing_more() -> None:
    feed = ChangeFeed()
    streams = Subscriptions(10, 1, CATALOG, feed, None)  # no store to pin kinds in
    first = streams.open("alice")
    with pytest.raises(TooManySubscribers) as refused:
        streams.open("alice")
    assert refused.value.message == ("you have 1 live streams open, the most one caller may hold "
                                     "(--max-subscribers-per-caller)")  # fmt: skip
    streams.depend(first, recorder(feed))
    streams.close(first)
    feed.publish(Change("ConfigMap", None, obj("a", "1")))
    assert not first.changed.is_set()  # closed: filed nowhere
    second = streams.open("alice")
    two = Subscriptions(10, 2, CATALOG, feed, None)
    a, _ = two.open("bob"), two.open("bob")
    two.close(a)
    two.open("bob")
    with pytest.raises(TooManySubscribers):
        two.open("bob")  # two open again: the cap holds
    assert second is not None


def test_a_stream_is_woken_by_an_object_that_comes_to_refer_to_what_it_reads() -> None:
    feed = ChangeFeed()
    streams = Subscriptions(10, 2, CATALOG, feed, None)
    stream = streams.open("alice")
    reads = ReadRecorder(SnapshotStore.from_objects(CATALOG, [], "unit"), feed)
    reads.referrers(ObjectRef("PersistentVolumeClaim", "ns", "disk"), "VirtualMachine")
    streams.depend(stream, reads)
    feed.publish(Change("VirtualMachine", None, {"metadata": {"name": "v", "namespace": "ns"}}))
    assert not stream.changed.is_set()
    user = vm_using("disk")
    feed.publish(Change("VirtualMachine", None, user))
    assert stream.changed.is_set()


def vm_on(name: str, network: str, namespace: str = "ns") -> dict[str, Any]:
    """A VM on a multus network, named as KubeVirt reads `networkName`: `name`, or `namespace/name`."""
    networks = [{"name": "default", "pod": {}}, {"name": "net", "multus": {"networkName": network}}]
    return {"apiVersion": "kubevirt.io/v1", "kind": "VirtualMachine",
            "metadata": {"name": name, "namespace": namespace, "uid": f"uid-{namespace}-{name}"},
            "spec": {"template": {"spec": {"networks": networks}}}}  # fmt: skip


def test_a_recorder_searches_for_referrers_in_the_namespace_it_is_asked_about() -> None:
    store = SnapshotStore.from_objects(CATALOG, [vm_on("here", "ns/net"), vm_on("there", "ns/net", "other")], "unit")
    network = ObjectRef("NetworkAttachmentDefinition", "ns", "net")
    reads = ReadRecorder(store, ChangeFeed())
    found = reads.referrers_many("VirtualMachine", "other", [network])
    assert [meta(o)["name"] for o in found[network]] == ["there"]
    assert reads.referrer_queries == [(network, "VirtualMachine")]


def test_a_recorder_that_takes_in_another_keeps_its_own_searches_too() -> None:
    feed = ChangeFeed()
    mine = recorder(feed)
    own = (ObjectRef("PersistentVolumeClaim", "ns", "mine"), "VirtualMachine")
    mine.referrers(*own)
    piece = recorder(feed, name="b")
    theirs = (ObjectRef("PersistentVolumeClaim", "ns", "theirs"), "VirtualMachine")
    piece.referrers(*theirs)
    mine.absorb(piece)
    assert mine.referrer_queries == [own, theirs]
    assert piece.referrer_queries == [theirs]  # the piece's own record is left as it was


def test_what_was_read_under_another_edition_of_the_catalogue_is_not_unchanged() -> None:
    reads = recorder(ChangeFeed())
    assert reads.unchanged()
    declared = Catalog()
    declared.freeze()
    Catalog().adopt(declared)  # declarations applied: a catalogue in use took other entries
    assert not reads.unchanged()


def roots(store: SnapshotStore) -> list[Entity]:
    return [Entity.root(CATALOG.kind("VirtualMachine"), o) for o in store.select(Query("VirtualMachine", "ns"))]


def test_a_batch_records_each_roots_share_apart_and_only_the_batch_reads() -> None:
    store = SnapshotStore.from_objects(CATALOG, [vm_on("a", "net"), vm_on("b", "net")], "unit")
    a, b = roots(store)
    batch = BatchRecorder(store, ChangeFeed(), [a, b])
    share_a, share_b = batch.attributed(a), batch.attributed(b)
    assert isinstance(share_a, ReadRecorder) and isinstance(share_b, ReadRecorder) and share_a is not share_b
    network = ObjectRef("NetworkAttachmentDefinition", "ns", "net")
    part = part_entity(a, "networks", CATALOG.kind("Network"), a.obj["spec"]["template"]["spec"]["networks"][1])
    reached = Entity(CATALOG.kind("NetworkAttachmentDefinition"), {"metadata": {"name": "net", "namespace": "ns"}},
                     "ns", "/namespaces/ns/networkattachmentdefinitions/net", part, "nad")  # fmt: skip
    assert batch.attributed(reached) is share_a  # reached from a, through its network: a's share
    assert batch.attributed(Entity.root(CATALOG.kind("VirtualMachine"), vm_on("c", "net"))) is None
    assert [meta(o)["name"] for o in batch.select(Query("VirtualMachine", "ns"))] == ["a", "b"]
    assert share_a.get(network) is None and share_a.select(Query("Pod", "ns")) == []  # the batch read them
    assert batch.reads == 1 and share_a.reads == share_b.reads == 0
    assert share_a.objects == {a.ref(), network} and share_b.objects == {b.ref()}  # each depends on its root
    assert [q.kind for q in share_a.queries] == ["Pod"] and share_b.queries == []


def test_a_batch_counts_each_kind_as_of_its_first_reading_by_the_batch_or_a_part() -> None:
    feed = ChangeFeed()
    objects = [vm_on("a", "net"), vm_on("b", "net")]
    store = SnapshotStore.from_objects(CATALOG, objects, "unit")
    for o in objects:  # what the store held so far, published: every count above 0
        feed.publish(Change("VirtualMachine", None, o))
    feed.publish(Change("Pod", None, obj("p", "1")))
    a, b = roots(store)
    batch = BatchRecorder(store, feed, [a, b])
    share_a = batch.attributed(a)
    assert isinstance(share_a, ReadRecorder)
    share_a.select(Query("Pod", "ns"))  # the part asks before the batch reads pods
    calm = ReadRecorder(store, feed)
    calm.absorb(batch, counted=True)
    assert calm.unchanged()
    feed.publish(Change("Pod", obj("p", "1"), obj("p", "2")))
    batch.select(Query("Pod", "ns"))  # read after the change: its count stays as of the first reading
    request = ReadRecorder(store, feed)
    request.absorb(batch, counted=True)
    assert not request.unchanged()
    assert set(share_a.counts) == {"VirtualMachine", "Pod"}  # a request that recalls a's piece read these


def test_answers_are_recalled_for_a_caller_only_while_each_decision_they_stood_on_holds() -> None:
    feed = ChangeFeed()
    answers = Answers(16 * 1024, CATALOG, feed)
    rbac = Rbac(rules=[Rule(frozenset({"alice"}), namespaces=frozenset({"ns"}))])

    def alice() -> CallerPolicy:  # a fresh authorizer: every decision reviewed now
        return CallerPolicy(User("alice"), Authorizer(RbacReviewer(rbac)))

    building = alice()
    assert building.may_get(CATALOG.kind("ConfigMap"), "ns", "a")
    answer = Answer("etag", b"{}", "application/json", ("ConfigMap",), tuple(building.decisions.items()))
    answers.keep("k", answer, recorder(feed))
    assert answers.recall("k", alice()) is answer
    rbac.rules = [Rule(frozenset({"alice"}), resources=frozenset({"pods"}), namespaces=frozenset({"ns"}))]
    assert answers.recall("k", alice()) is None  # she may no longer get the ConfigMap it showed


def test_an_answer_is_kept_through_a_change_that_refers_to_another_target_than_its_reverse_link() -> None:
    feed = ChangeFeed()
    answers = Answers(16 * 1024, CATALOG, feed)
    reads = recorder(feed)
    reads.referrers(ObjectRef("PersistentVolumeClaim", "ns", "disk"), "VirtualMachine")
    answers.keep("disk's vms", Answer("e", b"{}", "application/json", ()), reads)
    feed.publish(Change("VirtualMachine", None, vm_using("other")))
    assert answers.recall("disk's vms", None) is not None
    feed.publish(Change("VirtualMachine", None, vm_using("disk")))
    assert answers.recall("disk's vms", None) is None


def test_forgetting_all_drops_every_value_and_what_it_was_filed_under() -> None:
    feed = ChangeFeed()
    memory: Remembered[str, bytes] = Remembered(10_000, len, CATALOG, feed)
    for name in "ab":
        memory.keep(name, b"x", recorder(feed, name=name))
    memory.forget_all()  # declarations applied
    assert memory.get("a") is None and memory.get("b") is None and len(memory) == 0 and memory.used == 0
    assert memory.dependents.leftovers() == 0
    memory.keep("a", b"x", recorder(feed, name="a"))
    assert memory.get("a") == b"x"


def test_values_built_together_are_each_kept_and_charged_unless_built_under_another_edition_or_too_large() -> None:
    feed = ChangeFeed()
    memory: Remembered[str, bytes] = Remembered(2_000, len, CATALOG, feed)
    stale = recorder(feed, name="stale")
    declared = Catalog()
    declared.freeze()
    Catalog().adopt(declared)  # declarations applied after `stale` was read
    fresh = recorder(feed, name="fresh")
    fresh.select(Query("Pod", "ns"))
    with memory.collecting() as changed:
        memory.keep_all(
            [("stale", b"x", stale), ("fresh", b"y" * 10, fresh), ("big", b"z" * 5_000, recorder(feed, name="big"))],
            changed,
        )
    assert memory.get("stale") is None and memory.get("fresh") == b"y" * 10 and memory.get("big") is None
    assert memory.used == 10 + 2 * INDEX_BYTES and len(memory.dependents) == 1


def test_waking_all_streams_wakes_every_open_one() -> None:
    streams = Subscriptions(10, 2, CATALOG, ChangeFeed(), None)
    opened = [streams.open("alice"), streams.open("bob")]
    streams.wake_all()  # declarations applied: each builds its document again
    assert all(s.changed.is_set() for s in opened)


def test_the_collector_is_off_while_any_block_pauses_it_and_on_again_after_the_last() -> None:
    assert gc.isenabled()
    with collector_paused():
        assert not gc.isenabled()
        with collector_paused():  # nested: the outer block still holds it off when this one ends
            assert not gc.isenabled()
        assert not gc.isenabled()
    assert gc.isenabled()
    gc.disable()
    try:
        with collector_paused():
            pass
        assert not gc.isenabled()  # off before the first block: left off
    finally:
        gc.enable()
