"""Every error is a Kubernetes Status with a message that says what to fix."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests

from gateway.app import create_app
from gateway.config import Config
from gateway.store.errors import StoreForbidden, StoreTimeout, StoreUnavailable
from gateway.store.kube import ApiError
from tests.support.gateway import Gateway, serving


def status_of(response: requests.Response, code: int) -> dict[str, Any]:
    assert response.status_code == code, response.text
    assert response.headers["Content-Type"] == "application/json"
    body = response.json()
    assert body["kind"] == "Status" and body["apiVersion"] == "v1" and body["status"] == "Failure"
    assert body["code"] == code
    assert "Traceback" not in response.text
    return body


def test_unknown_rel_names_the_rel_the_kind_and_the_valid_rels(demo: Gateway) -> None:
    body = status_of(demo.get("/namespaces/demo/vms/fedora", follow="volumes.pvcs"), 400)
    message = body["message"]
    assert "'pvcs'" in message and "Volume" in message and "volumes.pvcs" in message
    assert "valid rels there: configmap, datavolume, networkdata, pvc, secret, serviceaccount, userdata" in message
    assert body["details"]["causes"][0]["field"] == "follow"


def test_unknown_rel_is_rejected_before_anything_is_read(demo: Gateway) -> None:
    response = demo.get("/namespaces/demo/vms", follow="vmi.pod.nodes")
    status_of(response, 400)
    assert Gateway.reads(response) == 0


def test_unknown_rel_on_a_collection_names_the_kind(demo: Gateway) -> None:
    message = status_of(demo.get("/namespaces/demo/pvcs", follow="vm"), 400)["message"]
    assert "PersistentVolumeClaim has no link 'vm'" in message
    assert "valid rels there: datasource, datavolume, pods, pv, storageclass, vmis, vms" in message


def test_a_path_dependent_rel_says_how_to_reach_it(demo: Gateway) -> None:
    message = status_of(demo.get("/clusterinstancetypes/u1.medium", follow="revision"), 400)["message"]
    assert "reachable only through VirtualMachine.instancetype" in message


def test_syntax_errors_are_400(demo: Gateway) -> None:
    assert "empty rel" in status_of(demo.get("/namespaces/demo/vms/fedora", follow="volumes..pvc"), 400)["message"]


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("/namespaces/demo/nonsense", "unknown collection 'nonsense'; GET / lists the collections"),
        ("/nonsense/x", "unknown collection 'nonsense'"),
        ("/namespaces/demo/vms/nope", "virtualmachines \"nope\" not found in namespace 'demo'"),
        ("/nodes/nope", 'nodes "nope" not found'),
        ("/namespaces/demo/nodes", "nodes are cluster-scoped: GET /nodes"),
        ("/namespaces/demo/vms/fedora/nolink", "VirtualMachine has no link 'nolink'"),
        ("/namespaces/demo/vms/fedora/volumes/nope", "VirtualMachine 'fedora' has no volume 'nope'"),
        ("/namespaces/demo/vms/win11/vmi", "VirtualMachine 'win11' has no 'vmi'"),
        ("/a/b/c/d/e", "no such path; GET / lists the collections"),
    ],
)
def test_not_found(demo: Gateway, path: str, message: str) -> None:
    body = status_of(demo.get(path), 404)
    assert body["reason"] == "NotFound"
    assert message in body["message"]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"limit": "abc"}, "limit"),
        ({"limit": "0"}, "limit"),
        ({"folow": "vmi"}, "folow"),
        ({"labelSelector": "app in web"}, "labelSelector"),
        ({"continue": "not-a-token"}, "continue"),
    ],
)
def test_malformed_parameters_are_400(demo: Gateway, params: dict[str, str], field: str) -> None:
    body = status_of(demo.get("/namespaces/demo/vms", **params), 400)
    assert body["reason"] == "BadRequest"
    assert field in body["message"]
    assert body["details"]["causes"][0]["field"] == field


def test_wrong_method_is_a_status(demo: Gateway) -> None:
    response = demo.session.post(demo.url + "/namespaces/demo/vms/fedora", json={})
    body = status_of(response, 405)
    assert body["reason"] == "MethodNotAllowed"
    assert "GET" in response.headers["Allow"]


@pytest.fixture(scope="module")
def tight() -> Iterator[Gateway]:
    config = Config(max_embedded=5, max_follow_depth=2, max_follow_paths=3, extra={"TESTING": True})
    with serving(create_app(config)) as gateway:
        yield gateway


def test_limits_are_400_and_name_the_flag_that_raises_them(tight: Gateway) -> None:
    message = status_of(tight.get("/namespaces/demo/vms", follow="*"), 400)["message"]
    assert "more than 5 objects" in message and "--max-embedded" in message
    message = status_of(tight.get("/namespaces/demo/vms", follow="vmi.pod.node"), 400)["message"]
    assert "limit of 2" in message and "--max-follow-depth" in message
    message = status_of(tight.get("/namespaces/demo/vms", follow="vmi,volumes,networks,services"), 400)["message"]
    assert "limit of 3" in message and "--max-follow-paths" in message
    assert tight.get("/namespaces/demo/vms/fedora", follow="vmi.pod").status_code == 200


def test_an_unexpected_error_is_a_500_status_without_details(tmp_path: Any) -> None:
    # a store that fails: the kind of bug no test of ours foresaw
    class BrokenStore:
        def fail(self, *args: Any) -> Any:
            raise RuntimeError("secret internal detail")

        get = get_many = select = referrers = fail

        def readiness(self) -> tuple[bool, str]:
            return True, "broken on purpose"

    app = create_app(Config(extra={"TESTING": False}), store=BrokenStore())  # type: ignore[arg-type]
    with serving(app) as gateway:
        body = status_of(gateway.get("/namespaces/demo/vms/fedora"), 500)
    assert "secret internal detail" not in body["message"]
    assert body["reason"] == "InternalError"


def test_a_link_reached_only_through_a_vm_says_so(demo: Gateway) -> None:
    message = status_of(demo.get("/clusterinstancetypes/u1.medium/revision"), 404)["message"]
    assert "reached through VirtualMachine.instancetype" in message and "follow=instancetype.revision" in message


def test_repeated_follow_parameters_merge_like_commas(demo: Gateway) -> None:
    merged = demo.get("/namespaces/demo/vms/fedora?follow=vmi&follow=volumes.pvc").json()
    assert merged == demo.json("/namespaces/demo/vms/fedora", follow="vmi,volumes.pvc")


def test_the_object_graph_as_dot(demo: Gateway) -> None:
    response = demo.get("/namespaces/demo/vms/fedora/objectgraph", format="dot")
    assert response.status_code == 200 and response.headers["Content-Type"].startswith("text/vnd.graphviz")
    assert response.text.startswith("digraph objectgraph {") and '"VirtualMachine/demo/fedora"' in response.text


@pytest.mark.parametrize(
    ("error", "code", "reason"),
    [
        (StoreUnavailable("the API server at https://x is not reachable"), 503, "ServiceUnavailable"),
        (StoreTimeout("the API server at https://x did not answer in time"), 504, "Timeout"),
        (StoreForbidden("the gateway's service account may not read this"), 403, "Forbidden"),
        (ApiError.of(504, "Timeout", "slow"), 504, "Timeout"),  # the adapter's errors are store errors
        (ApiError.of(403, "Forbidden", "no"), 403, "Forbidden"),
        (ApiError.of(500, "InternalError", "boom"), 503, "ServiceUnavailable"),
    ],
)
def test_a_store_error_is_mapped_to_a_status_in_one_place(error: Exception, code: int, reason: str) -> None:
    class FailingStore:
        def fail(self, *args: Any) -> Any:
            raise error

        get = get_many = select = referrers = fail

        def readiness(self) -> tuple[bool, str]:
            return True, "failing on purpose"

    with serving(create_app(Config(extra={"TESTING": True}), store=FailingStore())) as gateway:  # type: ignore[arg-type]
        body = status_of(gateway.get("/namespaces/demo/vms/fedora"), code)
    assert (body["reason"], body["message"]) == (reason, str(error))
