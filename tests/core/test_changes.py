"""Change tracking as a library (unit tests): the feed, the re-list's difference, the memory's
budget, answers recalled only while access holds, and streams' pins and caps."""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection
from typing import Any

import pytest

from gateway.catalog import CATALOG, ObjectRef, Query
from gateway.changes.answers import Answer, Answers
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
