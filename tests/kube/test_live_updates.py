"""?watch=true against the real API server: the document again when (and only when) something in it changes.
Each test has a namespace of its own with one VM, its running instance, its PVC and its SSH key."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from gateway.app import create_app
from tests.support.apiserver import Kube, KubeApiServer
from tests.support.gateway import Gateway, live_config, serving
from tests.support.objects import pvc
from tests.support.sse import watching
from tests.support.waiting import eventually


@pytest.fixture
def live(apiserver: KubeApiServer, tmp_path: Path) -> Iterator[Gateway]:
    app = create_app(live_config(apiserver.kubeconfig(tmp_path / "kc"), heartbeat_seconds=0.2, max_subscribers=3))
    with serving(app) as gateway:
        yield gateway
    app.extensions["gateway"].close()


def vm(name: str, namespace: str) -> dict[str, Any]:
    return {
        "apiVersion": "kubevirt.io/v1", "kind": "VirtualMachine", "metadata": {"name": name, "namespace": namespace},
        "spec": {"runStrategy": "Always", "template": {"spec": {
            "accessCredentials": [{"sshPublicKey": {"source": {"secret": {"secretName": "ssh-key"}},
                                                    "propagationMethod": {"qemuGuestAgent": {"users": ["fedora"]}}}}],
            "domain": {"devices": {"disks": [{"name": "rootdisk", "disk": {"bus": "virtio"}}]}},
            "volumes": [{"name": "rootdisk", "persistentVolumeClaim": {"claimName": "root"}}]}}},
    }  # fmt: skip


def vmi(owner: dict[str, Any], phase: str = "Running") -> dict[str, Any]:
    meta = owner["metadata"]
    return {
        "apiVersion": "kubevirt.io/v1", "kind": "VirtualMachineInstance",
        "metadata": {"name": meta["name"], "namespace": meta["namespace"], "ownerReferences": [{
            "apiVersion": "kubevirt.io/v1", "kind": "VirtualMachine", "name": meta["name"], "uid": meta["uid"],
            "controller": True, "blockOwnerDeletion": True}]},
        "spec": owner["spec"]["template"]["spec"], "status": {"phase": phase},
    }  # fmt: skip


def running(api: Kube, obj: dict[str, Any]) -> dict[str, Any]:
    """A VM created, and its status as virt-controller writes it for a running VM."""
    created = api.create(obj)
    return api.patch(created, {"status": {"created": True, "ready": True, "printableStatus": "Running"}}, "/status")


def one_vm(api: Kube, name: str = "web") -> str:
    """A namespace with VM `name` running, its PVC and its SSH key; returns the namespace."""
    ns = api.namespace("stream")
    api.create(pvc("root", ns))
    key = base64.b64encode(b"ssh-ed25519 AAAA test").decode()
    api.create({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "ssh-key", "namespace": ns},
                "data": {"key": key}})  # fmt: skip
    api.apply(vmi(running(api, vm(name, ns))))
    return ns


def test_a_change_to_an_embedded_object_streams_a_new_document(live: Gateway, apiserver: KubeApiServer) -> None:
    ns = one_vm(apiserver.api)
    with watching(live, f"/namespaces/{ns}/vms/web", follow="vmi") as events:
        kind, first = events.next()
        assert kind == "document" and first["vmi"]["status"]["phase"] == "Running"
        apiserver.api.patch(first["vmi"], {"status": {"phase": "Paused"}}, "/status")
        kind, second = events.next()
        assert kind == "document" and second["vmi"]["status"]["phase"] == "Paused"


def test_changes_elsewhere_wake_no_document(live: Gateway, apiserver: KubeApiServer) -> None:
    api = apiserver.api
    ns = one_vm(api)
    api.apply(vmi(running(api, vm("other", ns))))
    with watching(live, f"/namespaces/{ns}/vms/web", follow="vmi") as events:
        events.next()
        api.create({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x", "namespace": ns}})
        api.patch(vmi(vm("other", ns) | {"metadata": {"name": "other", "namespace": ns, "uid": ""}}),
                  {"metadata": {"labels": {"touched": "yes"}}})  # fmt: skip
        assert events.documents_within(1.0) == []  # heartbeats only


def test_a_burst_of_changes_is_coalesced(live: Gateway, apiserver: KubeApiServer) -> None:
    ns = one_vm(apiserver.api)
    with watching(live, f"/namespaces/{ns}/vms/web", follow="vmi") as events:
        _, first = events.next()
        for i in range(10):
            apiserver.api.patch(first["vmi"], {"metadata": {"labels": {"step": str(i)}}})
        documents = eventually(lambda: events.documents_within(0.5) or None, timeout=10)
        documents += events.documents_within(1.0)
        assert 1 <= len(documents) <= 5  # ten changes, a handful of documents
        assert documents[-1]["vmi"]["metadata"]["labels"]["step"] == "9"


def test_graphs_stream_too(live: Gateway, apiserver: KubeApiServer) -> None:
    ns = one_vm(apiserver.api)
    with watching(live, f"/namespaces/{ns}/vms/web/objectgraph") as events:
        _, graph = events.next()
        assert "kubevirt-gateway.io/missing" not in str(graph)
        apiserver.api.delete({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "ssh-key", "namespace": ns}})
        _, graph = events.next()
        secret = next(c for c in graph["children"] if c["objectReference"]["name"] == "ssh-key")
        assert secret["labels"]["kubevirt-gateway.io/missing"] == "true"


def test_a_deleted_root_streams_its_status_and_returns_when_recreated(live: Gateway, apiserver: KubeApiServer) -> None:
    ns = one_vm(apiserver.api)
    with watching(live, f"/namespaces/{ns}/vms/web") as events:
        _, first = events.next()
        apiserver.api.delete(first)
        kind, status = events.next()
        assert kind == "status" and status["code"] == 404
        apiserver.api.create(vm("web", ns))
        kind, back = events.next()
        assert kind == "document" and back["metadata"]["name"] == "web"


def test_subscribers_are_bounded_and_released(live: Gateway) -> None:
    subscriptions = live.app.extensions["gateway_live"]
    with watching(live, "/namespaces/demo/vms/fedora") as a, watching(live, "/namespaces/demo/vms/rhel9") as b:
        a.next(), b.next()
        with watching(live, "/namespaces/demo/vms/win11") as c:
            c.next()
            refused = requests.get(live.url + "/namespaces/demo/vms/cirros", params={"watch": "true"}, timeout=10)
            assert refused.status_code == 429
            assert refused.json()["reason"] == "TooManyRequests" and "--max-subscribers" in refused.json()["message"]
    eventually(lambda: len(subscriptions) == 0, timeout=5)


def test_direct_mode_cannot_watch(apiserver: KubeApiServer, tmp_path: Path) -> None:
    with serving(create_app(live_config(apiserver.kubeconfig(tmp_path / "kc"), cache="none"))) as direct:
        response = direct.get("/namespaces/demo/vms/fedora", watch="true")
    assert response.status_code == 400 and "--cache none" in response.json()["message"]
