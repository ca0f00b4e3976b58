"""Kinds: what the gateway serves, under which collection name, from which API group."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, TypeAlias

from gateway.catalog.names import NameRule

#: A Kubernetes object (or a sub-entity such as a VM volume) as decoded JSON.
Object: TypeAlias = dict[str, Any]


@dataclass(frozen=True, slots=True)
class Kind:
    """One kind of entity and where it lives, in the API server and in the gateway."""

    name: str
    """`VirtualMachine`; for sub-entities, `Volume` or `Network`."""
    group: str
    """API group, `""` for the core group."""
    version: str
    plural: str
    """The API server's resource name (`virtualmachines`)."""
    collection: str
    """The gateway's path segment (`vms`)."""
    namespaced: bool
    part: bool = False
    """A sub-entity of another object (a VM's volume), not an API object."""
    dependency: str = "compute"
    """KubeVirt's `kubevirt.io/dependency-type` for objects of this kind: storage, compute, config, network."""
    names: NameRule = "subdomain"
    """The API server's rule for this kind's object names (apimachinery's ValidateObjectMeta)."""
    short_names: tuple[str, ...] = ()
    """kubectl's short names, as the CRD (or the built-in resource) declares them."""

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version


@dataclass(frozen=True, slots=True, order=True)
class ObjectRef:
    """Names one API object. `namespace` is None for cluster-scoped kinds."""

    kind: str
    namespace: str | None
    name: str


def href_for(kind: Kind, namespace: str | None, name: str | None = None) -> str:
    """The gateway path of a collection (name None) or of one object."""
    base = f"/namespaces/{namespace}/{kind.collection}" if kind.namespaced else f"/{kind.collection}"
    return base if name is None else f"{base}/{name}"


def meta(obj: Object) -> dict[str, Any]:
    """`metadata` of an object, tolerating objects where it is missing or not a map."""
    m = obj.get("metadata")
    return m if isinstance(m, dict) else {}


def labels_of(obj: Object) -> dict[str, str]:
    labels = meta(obj).get("labels")
    return labels if isinstance(labels, dict) else {}


def namespace_of(obj: Object) -> str | None:
    ns = meta(obj).get("namespace")
    return str(ns) if ns else None
