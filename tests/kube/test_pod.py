"""The Deployment of deploy/ (as `kubectl apply -k deploy/` sends it) starts under its own constraints: its
container's args and env, its uid, the root file system read-only, writable only where it mounts a volume,
the in-cluster configuration of its ServiceAccount, against the real API server; its probes answer."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.support.apiserver import ADMIN_TOKEN, KubeApiServer
from tests.support.pod import deploy_objects, image_env, sandbox, service_account_volume
from tests.support.waiting import eventually, free_port


def _deployment(apiserver: KubeApiServer) -> dict[str, Any]:
    objects = deploy_objects()
    for obj in objects:
        apiserver.api.apply(obj)  # its ServiceAccount and ClusterRole, which the pod reads with
    return next(o for o in objects if o["kind"] == "Deployment")


@contextmanager
def _run(
    apiserver: KubeApiServer, deployment: dict[str, Any], directory: Path, log: list[str]
) -> Iterator[tuple[Any, str]]:
    """The Deployment's first container as its pod runs it; the HTTP port is a free one (a pod has a network of
    its own), and the kubelet's KUBERNETES_SERVICE_* point at the API server. Its output goes to `log` at the end."""
    pod = deployment["spec"]["template"]["spec"]
    container = pod["containers"][0]
    namespace = deployment["metadata"]["namespace"]
    token = apiserver.api.token(namespace, pod["serviceAccountName"])
    volume = service_account_volume(directory, token, apiserver.ca_file, namespace)
    args = list(container["args"])
    bind = args[args.index("--bind") + 1]
    http = next(p["containerPort"] for p in container["ports"] if p["name"] == "http")
    assert bind.endswith(f":{http}"), "gunicorn listens on the port the probes and the Service name"
    port = free_port()
    args[args.index("--bind") + 1] = f"127.0.0.1:{port}"
    env = image_env() | {e["name"]: e["value"] for e in container.get("env", [])}
    env |= {"KUBERNETES_SERVICE_HOST": "127.0.0.1", "KUBERNETES_SERVICE_PORT": str(apiserver.port),
            "HOME": "/home/gateway", "HOSTNAME": "kubevirt-gateway-0"}  # fmt: skip
    command = sandbox(pod, container, volume) + args
    with subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True) as process:
        try:
            yield process, f"http://127.0.0.1:{port}"
        finally:
            process.terminate()
            log += process.communicate(timeout=15)[0].splitlines()


def _probe(process: Any, url: str, probe: dict[str, Any]) -> bool:
    if process.poll() is not None:
        pytest.fail(f"the pod's container exited ({process.returncode}): {process.stdout.read()}")
    try:
        return requests.get(url + probe["httpGet"]["path"], timeout=2).status_code == 200
    except requests.ConnectionError:
        return False


def test_the_deployment_starts_as_its_manifest_says_and_its_probes_answer(
    apiserver: KubeApiServer, tmp_path: Path
) -> None:
    deployment = _deployment(apiserver)
    assert deployment["spec"]["replicas"] > 1
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    log: list[str] = []
    with _run(apiserver, deployment, tmp_path / "serviceaccount", log) as (process, url):
        for probe in ("livenessProbe", "readinessProbe"):
            eventually(lambda probe=probe: _probe(process, url, container[probe]), timeout=60, interval=0.2)
        # declared links are read from the ConfigMaps of the pod's own namespace, found from its service account
        reason = requests.get(url + "/readyz", timeout=10).json()["reason"]
        assert f"kubevirt-gateway.io/links=true in {deployment['metadata']['namespace']}" in reason
        # a caller's token, reviewed by the gateway with the pod's own ServiceAccount
        answer = requests.get(f"{url}/namespaces/demo/vms/fedora", headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
                              timeout=10)  # fmt: skip
        assert (answer.status_code, answer.json()["metadata"]["name"]) == (200, "fedora")
    assert [line for line in log if "[ERROR]" in line or "Traceback" in line] == []


def test_without_its_volume_the_container_cannot_start(apiserver: KubeApiServer, tmp_path: Path) -> None:
    """The sandbox holds the pod to its constraints: the container as shipped before it had a volume exits."""
    deployment = _deployment(apiserver)
    pod = deployment["spec"]["template"]["spec"]
    pod["volumes"], pod["containers"][0]["volumeMounts"] = [], []
    log: list[str] = []
    with _run(apiserver, deployment, tmp_path / "serviceaccount", log) as (process, _):
        process.wait(timeout=30)
    assert process.returncode != 0
    assert any("Read-only file system" in line for line in log)
