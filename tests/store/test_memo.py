"""Direct mode's per-request memo: lists once, and keeps objects of the same name in different namespaces apart."""

from __future__ import annotations

from typing import Any

from gateway.catalog import CATALOG
from gateway.catalog.kinds import ObjectRef
from gateway.catalog.links import Query
from gateway.changes.reads import ReadRecorder
from gateway.store.direct import MemoStore
from gateway.store.snapshot import SnapshotStore


def vm(name: str, namespace: str, tier: str) -> dict[str, Any]:
    return {"apiVersion": "kubevirt.io/v1", "kind": "VirtualMachine",
            "metadata": {"name": name, "namespace": namespace, "uid": f"{namespace}-{name}", "labels": {"tier": tier}},
            "spec": {"template": {"spec": {}}}}  # fmt: skip


def memo() -> tuple[MemoStore, ReadRecorder]:
    objects = [vm("lost", "a", "one"), vm("lost", "b", "two"), vm("only", "b", "two")]
    counted = ReadRecorder(SnapshotStore.from_objects(CATALOG, objects, "test"), None)
    return MemoStore(counted), counted


def test_a_listing_of_every_namespace_keeps_objects_of_the_same_name_apart() -> None:
    store, counted = memo()
    listed = store.select(Query("VirtualMachine", None))
    assert sorted((o["metadata"]["namespace"], o["metadata"]["name"]) for o in listed) == [
        ("a", "lost"), ("b", "lost"), ("b", "only")]  # fmt: skip
    assert store.select(Query("VirtualMachine", None)) == listed and counted.reads == 1  # listed once


def test_gets_after_a_namespace_listing_answer_from_it_by_namespace_and_name() -> None:
    store, counted = memo()
    assert len(store.select(Query("VirtualMachine", "b"))) == 2
    assert store.get(ObjectRef("VirtualMachine", "b", "lost"))["metadata"]["labels"] == {"tier": "two"}  # type: ignore[index]
    assert store.get_many("VirtualMachine", "b", ["lost", "only", "absent"]).keys() == {"lost", "only"}
    assert counted.reads == 1
    assert store.get(ObjectRef("VirtualMachine", "a", "lost"))["metadata"]["labels"] == {"tier": "one"}  # type: ignore[index]
