"""The emulator speaks the Kubernetes API: the official client and kubectl both use it as they would a cluster."""

from __future__ import annotations

import os
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from kubernetes import client, config, watch
from kubernetes.client.exceptions import ApiException

from tests.support.apiserver import kube_bin
from tests.support.emulated import FAST, demo_cluster
from tests.support.emulator.server import EmulatorServer


@pytest.fixture(scope="module")
def server() -> Iterator[EmulatorServer]:
    with EmulatorServer(demo_cluster(), settings=FAST).start() as emulator:
        yield emulator


@pytest.fixture(scope="module")
def api(server: EmulatorServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[client.ApiClient]:
    configuration = client.Configuration()
    config.load_kube_config(
        config_file=server.kubeconfig(tmp_path_factory.mktemp("kc") / "config"), client_configuration=configuration
    )
    with client.ApiClient(configuration) as api_client:
        yield api_client


def test_discovery_lists_every_group_the_gateway_reads(api: client.ApiClient) -> None:
    groups = {g.name for g in client.ApisApi(api).get_api_versions().groups}
    assert {"apps", "storage.k8s.io", "kubevirt.io", "cdi.kubevirt.io", "instancetype.kubevirt.io",
            "snapshot.kubevirt.io", "export.kubevirt.io", "k8s.cni.cncf.io"} <= groups  # fmt: skip
    core = {r.name for r in client.CoreV1Api(api).get_api_resources().resources}
    assert {"pods", "persistentvolumeclaims", "secrets", "nodes"} <= core


def test_get_and_not_found(api: client.ApiClient) -> None:
    custom = client.CustomObjectsApi(api)
    vm = custom.get_namespaced_custom_object("kubevirt.io", "v1", "demo", "virtualmachines", "fedora")
    assert vm["metadata"]["name"] == "fedora"
    with pytest.raises(ApiException) as error:
        custom.get_namespaced_custom_object("kubevirt.io", "v1", "demo", "virtualmachines", "nope")
    assert error.value.status == 404


def test_list_with_label_and_field_selectors(api: client.ApiClient) -> None:
    core = client.CoreV1Api(api)
    pvcs = core.list_persistent_volume_claim_for_all_namespaces(label_selector="app.kubernetes.io/component=storage")
    assert sorted(p.metadata.name for p in pvcs.items) == ["fedora-42", "fedora-root", "rhel9-root"]
    by_name = core.list_namespaced_pod("demo", field_selector="metadata.name=virt-launcher-rhel9-tg8kd")
    assert [p.metadata.name for p in by_name.items] == ["virt-launcher-rhel9-tg8kd"]
    by_ns = core.list_secret_for_all_namespaces(field_selector="metadata.namespace=kubevirt-os-images")
    assert by_ns.items == []
    with pytest.raises(ApiException) as error:
        core.list_namespaced_pod("demo", field_selector="spec.nodeName=node01")
    assert error.value.status == 400


def test_limit_and_continue(api: client.ApiClient) -> None:
    core = client.CoreV1Api(api)
    seen, token = [], None
    while True:
        page = core.list_persistent_volume_claim_for_all_namespaces(limit=2, _continue=token)
        seen += [p.metadata.name for p in page.items]
        token = page.metadata._continue
        if not token:
            break
    everything = core.list_persistent_volume_claim_for_all_namespaces()
    assert seen == [p.metadata.name for p in everything.items] and len(seen) > 2


def test_watch_from_a_resource_version_with_bookmarks(api: client.ApiClient, server: EmulatorServer) -> None:
    custom = client.CustomObjectsApi(api)
    listed = custom.list_namespaced_custom_object("kubevirt.io", "v1", "demo", "virtualmachines")
    rv = listed["metadata"]["resourceVersion"]
    cm = {"apiVersion": "kubevirt.io/v1", "kind": "VirtualMachine", "metadata": {"name": "w1", "namespace": "demo"}}
    threading.Timer(0.3, server.cluster.apply, [cm]).start()
    threading.Timer(0.6, server.cluster.delete, ["VirtualMachine", "demo", "w1"]).start()
    seen = []
    for event in watch.Watch().stream(
        custom.list_namespaced_custom_object, "kubevirt.io", "v1", "demo", "virtualmachines",
        resource_version=rv, allow_watch_bookmarks=True, timeout_seconds=2,
    ):  # fmt: skip
        seen.append((event["type"], event["object"]["metadata"].get("name")))
    assert ("ADDED", "w1") in seen and ("DELETED", "w1") in seen
    assert seen.index(("ADDED", "w1")) < seen.index(("DELETED", "w1"))
    assert any(kind == "BOOKMARK" for kind, _ in seen)


def test_watch_from_a_compacted_resource_version_is_410(api: client.ApiClient, server: EmulatorServer) -> None:
    custom = client.CustomObjectsApi(api)
    old = custom.list_cluster_custom_object("kubevirt.io", "v1", "virtualmachines")["metadata"]["resourceVersion"]
    server.cluster.apply({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "bump", "namespace": "demo"}})
    server.cluster.compact()
    stream = watch.Watch().stream(
        custom.list_cluster_custom_object,
        "kubevirt.io",
        "v1",
        "virtualmachines",
        resource_version=old,
        timeout_seconds=2,
    )
    with pytest.raises(ApiException) as error:
        list(stream)
    assert error.value.status == 410


def test_kubectl_works_against_the_emulator(server: EmulatorServer, tmp_path: Path) -> None:
    """kubectl, at the test API server's version (built by `make apiserver`), as the emulator's protocol proof."""
    kubectl_path = str(kube_bin() / "kubectl")
    env = {**os.environ, "KUBECONFIG": server.kubeconfig(tmp_path / "config"), "HOME": str(tmp_path)}

    def kubectl(*args: str) -> str:
        result = subprocess.run([kubectl_path, *args], capture_output=True, text=True, env=env, timeout=60)
        assert result.returncode == 0, result.stderr
        return result.stdout

    vms = kubectl("--server", server.url, "get", "vms", "-n", "demo", "-o", "name")
    assert vms.split() == [f"virtualmachine.kubevirt.io/{n}" for n in ("cirros", "fedora", "rhel9", "win11")]
    pvcs = kubectl("get", "pvc", "-A", "-l", "app.kubernetes.io/component=storage", "-o", "name")
    assert pvcs.split() == [f"persistentvolumeclaim/{n}" for n in ("fedora-root", "rhel9-root", "fedora-42")]
    table = kubectl("get", "vmis", "-n", "demo")
    assert "fedora" in table and "rhel9" in table
