"""Change tracking as a library (unit tests): the feed, the re-list's difference, the memory's
budget, answers recalled only while access holds, and streams' pins and caps."""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection
from typing import Any

import pytest

from gateway.catalog import CATALOG, ObjectRef, Query
from gateway.changes.answers import ANSWER_OVERHEAD_BYTES, Answer, Answers
from gateway.changes.dependents import INDEX_BYTES
from gateway.changes.memory import Remembered
from gateway.changes.reads import ReadRecorder
from gateway.changes.streams import Subscriptions, TooManySubscribers
from gateway.store.feed import Change, ChangeFeed
from gateway.store.indexes import ObjectIndex
from gateway.store.snapshot import SnapshotStore


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
    assert answers.recall("empty", None) is None and answers.recall("largest", None) is not None
    assert answers.used == 1024 + ANSWER_OVERHEAD_BYTES + INDEX_BYTES
    assert len(answers.dependents) == 1


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
