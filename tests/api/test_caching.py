"""ETags on every GET; 304 for an unchanged answer, without building it where the store can tell."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from gateway.app import create_app
from gateway.config import Config
from tests.support.emulator.server import EmulatorServer
from tests.support.gateway import Gateway, live_config, serving
from tests.support.waiting import eventually


def revalidate(gateway: Gateway, path: str, etag: str, **params: str) -> requests.Response:
    return gateway.session.get(gateway.url + path, params=params, headers={"If-None-Match": etag}, timeout=10)


def test_every_get_has_an_etag_and_equal_answers_share_it(demo: Gateway, demo_generic: Gateway) -> None:
    for path in (
        "/namespaces/demo/vms",
        "/catalog",
        "/namespaces/demo/vms/fedora/objectgraph",
        "/namespaces/demo/graph",
    ):
        assert demo.get(path).headers["ETag"].startswith('"')
    fast = demo.get("/namespaces/demo/vms", follow="volumes.pvc")
    slow = demo_generic.get("/namespaces/demo/vms", follow="volumes.pvc")
    assert fast.headers["ETag"] == slow.headers["ETag"]  # from the answer, not the replica
    assert demo.get("/namespaces/demo/vms", follow="vmi").headers["ETag"] != fast.headers["ETag"]


@pytest.fixture(scope="module")
def fresh() -> Iterator[Gateway]:
    """A demo gateway of its own: nothing in memory yet."""
    with serving(create_app(Config(demo=True, extra={"TESTING": True}))) as gateway:
        yield gateway


def test_an_unchanged_answer_is_304_without_reading_the_store(fresh: Gateway) -> None:
    demo = fresh
    first = demo.get("/namespaces/demo/vms/fedora", follow="volumes.pvc.pv,vmi.pod")
    assert Gateway.reads(first) > 0
    again = revalidate(demo, "/namespaces/demo/vms/fedora", first.headers["ETag"], follow="volumes.pvc.pv,vmi.pod")
    assert again.status_code == 304 and again.content == b""
    assert again.headers["ETag"] == first.headers["ETag"]
    assert Gateway.reads(again) == 0
    stale = revalidate(demo, "/namespaces/demo/vms/fedora", '"not-it"', follow="volumes.pvc.pv,vmi.pod")
    assert stale.status_code == 200 and stale.content == first.content
    assert stale.headers["X-Gateway-Cache"] == "hit" and Gateway.reads(stale) == 0  # the same bytes, from memory


def test_answers_are_built_again_without_the_memory(demo_generic: Gateway) -> None:
    first = demo_generic.get("/namespaces/demo/vms/rhel9", follow="vmi")
    again = demo_generic.get("/namespaces/demo/vms/rhel9", follow="vmi")
    assert Gateway.reads(first) == Gateway.reads(again) > 0
    assert "X-Gateway-Cache" not in again.headers
    assert (
        revalidate(demo_generic, "/namespaces/demo/vms/rhel9", first.headers["ETag"], follow="vmi").status_code == 304
    )


def test_a_change_to_any_object_in_the_answer_changes_the_etag(emulator: EmulatorServer, tmp_path: Path) -> None:
    """Emulator: it changes a PVC of the demo, which tests on the real server read unchanged."""
    app = create_app(live_config(emulator.kubeconfig(tmp_path / "kc")))
    with serving(app) as live:
        first = live.get("/namespaces/demo/vms/fedora", follow="volumes.pvc")
        etag = first.headers["ETag"]
        assert revalidate(live, "/namespaces/demo/vms/fedora", etag, follow="volumes.pvc").status_code == 304
        # a change to an embedded PVC, not to the VM itself
        cluster = emulator.cluster
        pvc = cluster.get(
            cluster.resource_of({"apiVersion": "v1", "kind": "PersistentVolumeClaim"}), "demo", "fedora-root"
        )
        assert pvc is not None
        pvc["metadata"].setdefault("labels", {})["touched"] = "yes"
        cluster.apply(pvc)
        changed = eventually(
            lambda: (
                (r := revalidate(live, "/namespaces/demo/vms/fedora", etag, follow="volumes.pvc")).status_code == 200
                and r
            )
        )
        assert changed.headers["ETag"] != etag
        assert changed.json()["volumes"][0]["pvc"]["metadata"]["labels"]["touched"] == "yes"
        # a change to a kind the answer never read leaves it a 304, answered without building
        cluster.apply({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "unrelated", "namespace": "demo"}})
        again = revalidate(live, "/namespaces/demo/vms/fedora", changed.headers["ETag"], follow="volumes.pvc")
        assert again.status_code == 304 and Gateway.reads(again) == 0
    app.extensions["gateway"].close()


def test_a_body_on_a_get_is_never_answered_from_memory(fresh: Gateway) -> None:
    path = fresh.url + "/namespaces/demo/vms/win11/objectgraph"
    everything = fresh.session.get(path, timeout=10).json()
    storage_only = fresh.session.get(
        path, json={"labelSelector": {"matchLabels": {"kubevirt.io/dependency-type": "storage"}}}, timeout=10
    ).json()
    assert len(storage_only["children"]) < len(everything["children"])
    assert fresh.session.get(path, timeout=10).json() == everything
