"""Small objects for tests that change a real cluster, written as KubeVirt and Kubernetes serialize them."""

from __future__ import annotations

from typing import Any

from tests.support.gateway import Gateway


def vm(name: str, namespace: str, **labels: str) -> dict[str, Any]:
    return {
        "apiVersion": "kubevirt.io/v1", "kind": "VirtualMachine",
        "metadata": {"name": name, "namespace": namespace, "labels": labels},
        "spec": {"runStrategy": "Halted", "template": {"spec": {
            "volumes": [{"name": "root", "persistentVolumeClaim": {"claimName": "root"}}]}}},
    }  # fmt: skip


def pvc(name: str, namespace: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": name, "namespace": namespace},
        "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}},
    }  # fmt: skip


def names(gateway: Gateway, path: str) -> list[str]:
    return [i["metadata"]["name"] for i in gateway.json(path)["items"]]
