"""No input can hurt the gateway: limits answer with a Status, malformed objects are skipped and counted."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.app import create_app
from gateway.config import Config
from gateway.follow.paths import FollowError, FollowLimits, parse_follow
from gateway.follow.tree import LinkTree
from tests.support.emulated import FAST
from tests.support.emulator.cluster import Cluster
from tests.support.emulator.server import EmulatorServer
from tests.support.gateway import Gateway, live_config, serving


@given(st.text(max_size=200))
@settings(max_examples=300, deadline=None)
def test_any_follow_text_parses_or_is_a_follow_error(text: str) -> None:
    try:
        tree = parse_follow(text, FollowLimits(max_depth=6, max_paths=64))
    except FollowError as e:
        assert e.code == 400 and e.message
    else:
        assert isinstance(tree, LinkTree) and tree.depth <= 6


@pytest.fixture(scope="module")
def small_limits() -> Iterator[Gateway]:
    with serving(create_app(Config(max_url_bytes=300, max_body_bytes=200, extra={"TESTING": True}))) as gateway:
        yield gateway


def test_an_over_long_url_is_414(small_limits: Gateway) -> None:
    response = small_limits.get("/namespaces/demo/vms", follow=",".join(["vmi"] * 80))
    assert response.status_code == 414
    assert response.json()["kind"] == "Status" and "--max-url-bytes" in response.json()["message"]


def test_an_over_large_body_is_413(small_limits: Gateway) -> None:
    body = {"labelSelector": {"matchLabels": {f"k{i}": "v" * 20 for i in range(20)}}}
    response = requests.post(small_limits.url + "/namespaces/demo/vms/fedora/objectgraph", json=body, timeout=10)
    assert response.status_code == 413
    assert response.json()["reason"] == "RequestEntityTooLarge"


def test_invalid_json_bodies_are_400(demo: Gateway) -> None:
    response = requests.post(
        demo.url + "/namespaces/demo/vms/fedora/objectgraph",
        data="{not json",
        headers={"Content-Type": "application/json"},
        timeout=10,
    )
    assert response.status_code == 400 and response.json()["kind"] == "Status"


MALFORMED = [
    # a volume without a source, a network without a type, a spec that is not a map
    {"apiVersion": "kubevirt.io/v1", "kind": "VirtualMachine", "metadata": {"name": "odd", "namespace": "demo"},
     "spec": {"template": {"spec": {"volumes": [{"name": "nothing"}, "not-a-volume"], "networks": [{"name": "n"}]}}}},
    {"apiVersion": "kubevirt.io/v1", "kind": "VirtualMachine",
     "metadata": {"name": "labels-list", "namespace": "demo", "labels": ["a", "b"], "ownerReferences": "x"},
     "spec": "garbage", "status": ["nope"]},
    {"apiVersion": "v1", "kind": "PersistentVolumeClaim",
     "metadata": {"name": "claim", "namespace": "demo", "annotations": "oops"}, "spec": {"volumeName": 42}},
]  # fmt: skip


@pytest.mark.parametrize("cache", ["watch", "none"])
def test_malformed_objects_are_served_unlinked_and_counted(cache: str, tmp_path: Path) -> None:
    """Emulator: it serves malformed objects, which a real API server refuses to store."""
    cluster = Cluster()
    cluster.load(MALFORMED)
    with EmulatorServer(cluster, settings=FAST).start() as emulator:
        app = create_app(live_config(emulator.kubeconfig(tmp_path / "kc"), cache=cache))
        with serving(app) as gateway:
            vms = gateway.get("/namespaces/demo/vms", follow="*.*")
            assert vms.status_code == 200, vms.text
            odd = next(v for v in vms.json()["items"] if v["metadata"]["name"] == "odd")
            assert [v.get("type") for v in odd["volumes"]] == [None]  # the unlinkable volume, with no links
            assert odd["volumes"][0]["links"] == {}
            listed = next(v for v in vms.json()["items"] if v["metadata"]["name"] == "labels-list")
            assert "labels" not in listed["metadata"] and "ownerReferences" not in listed["metadata"]
            assert gateway.get("/namespaces/demo/vms/labels-list/objectgraph").status_code == 200
            assert gateway.get("/namespaces/demo/graph").status_code == 200
            claim = gateway.json("/namespaces/demo/pvcs/claim", follow="*")
            assert "pv" not in claim["links"] and "annotations" not in claim["metadata"]
            if cache == "watch":
                metrics = gateway.get("/metrics").text
                assert 'gateway_malformed_objects{kind="VirtualMachine"} 1.0' in metrics
                assert 'gateway_malformed_objects{kind="PersistentVolumeClaim"} 1.0' in metrics
        if cache == "watch":
            app.extensions["gateway"].close()


def test_the_byte_budget_refuses_while_building_and_costs_little() -> None:
    """`--max-response-bytes` is checked as objects are embedded, not after the answer is built."""
    follow = "*.*.*"
    with serving(create_app(Config(answer_cache_mb=0, extra={"TESTING": True}))) as roomy:
        whole = roomy.get("/namespaces/demo/vms", follow=follow)
        assert whole.status_code == 200 and len(whole.content) > 60_000
    with serving(create_app(Config(max_response_bytes=60_000, answer_cache_mb=0, extra={"TESTING": True}))) as tight:
        refused = tight.get("/namespaces/demo/vms", follow=follow)
        assert refused.status_code == 400 and refused.json()["reason"] == "RequestEntityTooLarge"
        assert "60000 bytes" in refused.json()["message"] and "--max-response-bytes" in refused.json()["message"]
        # it stopped reading where the budget ran out
        assert Gateway.reads(refused) < Gateway.reads(whole)
        assert tight.get("/namespaces/demo/vms/fedora", follow="volumes.pvc").status_code == 200


def test_an_embedded_limit_refuses_a_level_before_rendering_it() -> None:
    with serving(create_app(Config(max_embedded=50, answer_cache_mb=0, extra={"TESTING": True}))) as tight:
        refused = tight.get("/namespaces/demo/vms", follow="*.*.*.*.*.*")
        assert refused.status_code == 400 and "--max-embedded" in refused.json()["message"]
    roomy_config = Config(
        max_embedded=1_000_000, max_response_bytes=1 << 30, answer_cache_mb=0, extra={"TESTING": True}
    )
    with serving(create_app(roomy_config)) as roomy:
        whole = roomy.get("/namespaces/demo/vms", follow="*.*.*.*.*.*")
        assert whole.status_code == 200
    assert Gateway.reads(refused) < Gateway.reads(whole)


def test_every_answer_is_a_status_or_the_documented_type(demo: Gateway) -> None:
    deep = "[" * 30_000 + "]" * 30_000
    response = requests.post(demo.url + "/namespaces/demo/vms/fedora/objectgraph", data=deep,
                             headers={"Content-Type": "application/json"}, timeout=10)  # fmt: skip
    assert response.status_code == 400 and response.json()["kind"] == "Status"
    options = requests.options(demo.url + "/namespaces/demo/vms/fedora", timeout=10)
    assert options.status_code == 204 and not options.content and "Content-Type" not in options.headers
    assert "GET" in options.headers["Allow"]
    for path in ("/namespaces//vms", "/namespaces/demo//fedora", "/namespaces/demo/vms//objectgraph"):
        response = requests.get(demo.url + path, timeout=10, allow_redirects=False)
        assert response.status_code == 404 and response.json()["kind"] == "Status", path
