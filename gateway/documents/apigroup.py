"""The gateway's API group as Kubernetes discovery documents (DESIGN section 13), from the catalogue.

Served through the cluster's API server, the gateway is group `kubevirt-gateway.io`, version
`v1alpha1`: `APIGroupList` (GET /apis), `APIGroup` (GET /apis/kubevirt-gateway.io) and
`APIResourceList` (GET /apis/kubevirt-gateway.io/v1alpha1), each collection a resource that
can be read (get, list, watch). Field names as k8s.io/apimachinery's meta/v1 types.go
serializes them. Pure: no I/O.
"""

from __future__ import annotations

from typing import Any

from gateway.catalog import Catalog

GROUP = "kubevirt-gateway.io"
VERSION = "v1alpha1"
GROUP_VERSION = f"{GROUP}/{VERSION}"
PREFIX = f"/apis/{GROUP_VERSION}"
"""Every gateway path is served under this prefix too: the path the cluster's API server proxies."""
VERBS = ("get", "list", "watch")


def group() -> dict[str, Any]:
    version = {"groupVersion": GROUP_VERSION, "version": VERSION}
    return {"kind": "APIGroup", "apiVersion": "v1", "name": GROUP, "versions": [version], "preferredVersion": version}


def group_list() -> dict[str, Any]:
    entry = {k: v for k, v in group().items() if k not in ("kind", "apiVersion")}
    return {"kind": "APIGroupList", "apiVersion": "v1", "groups": [entry]}


def resource_list(catalog: Catalog) -> dict[str, Any]:
    """One resource per collection of API objects (a VM's volumes are parts of a VM, not a resource).

    Each is named as its kind's own API resource (`virtualmachines`), with no short names, never by the
    gateway's collection name (`vms`): kubectl takes a resource name that matches exactly before any
    short name, so a resource `vms` here would make `kubectl get vms` mean this group, not KubeVirt's.
    Equal names in two groups go to the group of higher priority, the APIService's being below the
    CRDs'. Under the prefix, the API resource name is the collection's other name (`resource_aliases`)."""
    resources = []
    for kind in sorted((k for k in catalog.kinds() if not k.part), key=lambda k: k.plural):
        resources.append({
            "name": kind.plural,
            "singularName": kind.name.lower(),
            "namespaced": kind.namespaced,
            "kind": kind.name,
            "verbs": list(VERBS),
        })  # fmt: skip
    return {"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": GROUP_VERSION, "resources": resources}


def resource_aliases(catalog: Catalog) -> dict[str, str]:
    """API resource name -> the gateway's collection, where they differ (`virtualmachines` -> `vms`)."""
    collections = {k.collection for k in catalog.kinds() if not k.part}
    return {
        k.plural: k.collection
        for k in catalog.kinds()
        if not k.part and k.plural != k.collection and k.plural not in collections
    }
