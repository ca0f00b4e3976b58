"""Pure extractors: read references out of objects that may be partial or malformed.

Every accessor tolerates a missing field or a field of the wrong type (a label map
that is a list, a volume without a source): a bad object yields no reference, never
an exception, so one broken object cannot fail a whole response.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from gateway.catalog.kinds import Object, ObjectRef, meta


def dig(obj: Any, *path: str) -> Any:
    """`obj[path[0]][path[1]]...`, or None where any step is missing or not a map."""
    for key in path:
        # a dict first: the C check, where Mapping's is the ABC machinery (a third of a graph's digging)
        if not isinstance(obj, dict) and not isinstance(obj, Mapping):
            return None
        obj = obj.get(key)
    return obj


def text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def maps(value: Any) -> list[dict[str, Any]]:
    """The map items of a list; anything else is no items."""
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def ref(kind: str, namespace: str | None, name: Any) -> list[ObjectRef]:
    """A one-element list for a present name, else empty: extractors return lists."""
    n = text(name)
    return [ObjectRef(kind, namespace, n)] if n else []


def owner(obj: Object, kind: str) -> str | None:
    """The name of the first owner of `kind`."""
    for o in maps(meta(obj).get("ownerReferences")):
        if o.get("kind") == kind:
            return text(o.get("name"))
    return None


def owned_by(obj: Object, uid: str | None) -> bool:
    return uid is not None and any(o.get("uid") == uid for o in maps(meta(obj).get("ownerReferences")))


def namespaced_name(value: Any, default_namespace: str | None) -> tuple[str | None, str | None]:
    """`ns/name` or `name` (multus network names)."""
    v = text(value)
    if v is None:
        return None, None
    if "/" in v:
        ns, _, name = v.partition("/")
        return ns or default_namespace, name or None
    return default_namespace, v


def source_type(volume: Mapping[str, Any]) -> str | None:
    """The source of a volume or network: its one map-valued key (dataVolume, secret, pod, multus, ...)."""
    for key in volume:
        if key != "name" and isinstance(volume.get(key), Mapping):
            return key
    return None


def volume_claim(volume: Mapping[str, Any]) -> str | None:
    """The PVC a volume part reads: a DataVolume's PVC has the DataVolume's name."""
    kind, source = volume.get("type"), volume.get("source")
    if kind == "dataVolume":
        return text(dig(source, "name"))
    if kind in ("persistentVolumeClaim", "memoryDump"):
        return text(dig(source, "claimName"))
    if kind == "ephemeral":  # EphemeralVolumeSource wraps a core PersistentVolumeClaimVolumeSource
        return text(dig(source, "persistentVolumeClaim", "claimName"))
    return None


def cloud_init_secret(volume: Mapping[str, Any], field: str) -> str | None:
    """A cloud-init volume part's `secretRef` (Go `UserDataSecretRef`) or `networkDataSecretRef`."""
    if volume.get("type") not in ("cloudInitNoCloud", "cloudInitConfigDrive"):
        return None
    return text(dig(volume.get("source"), field, "name"))


def access_credential_secrets(vm_spec: Any) -> list[str]:
    """One secret per access credential: the ssh key source if set, else the password source."""
    names: list[str] = []
    for cred in maps(dig(vm_spec, "accessCredentials")):
        name = text(dig(cred, "sshPublicKey", "source", "secret", "secretName")) or text(
            dig(cred, "userPassword", "source", "secret", "secretName")
        )
        if name:
            names.append(name)
    return names


_CLUSTER_KINDS = {
    "instancetype": "VirtualMachineClusterInstancetype",
    "preference": "VirtualMachineClusterPreference",
}
_NAMESPACED_KINDS = {
    "instancetype": "VirtualMachineInstancetype",
    "preference": "VirtualMachinePreference",
}


def instancetype_kind(matcher: Any, which: str) -> str:
    """The kind a VM's `spec.instancetype`/`spec.preference` matcher names.

    KubeVirt accepts the kind in any case and defaults an omitted kind to the
    cluster-scoped one.
    """
    kind = str(dig(matcher, "kind") or "").lower()
    if kind == _NAMESPACED_KINDS[which].lower():
        return _NAMESPACED_KINDS[which]
    return _CLUSTER_KINDS[which]


def pinned_revision(vm: Object, which: str) -> str | None:
    """The ControllerRevision a VM pinned for its instancetype or preference.

    As KubeVirt reads it: `status.<which>Ref.controllerRevisionRef` when the status ref
    exists; `spec.<which>.revisionName` only when there is no status ref at all.
    """
    status_ref = dig(vm, "status", f"{which}Ref")
    if isinstance(status_ref, Mapping):
        return text(dig(status_ref, "controllerRevisionRef", "name"))
    return text(dig(vm, "spec", which, "revisionName"))


def labels_subset(selector: Any, labels: Any) -> bool:
    """A Service-style selector (a plain map) matches labels. An empty selector matches nothing."""
    if not isinstance(selector, Mapping) or not selector or not isinstance(labels, Mapping):
        return False
    return all(labels.get(k) == v for k, v in selector.items())


def name_key(obj: Object) -> str:
    """Sort key: the object's name."""
    return str(meta(obj).get("name", ""))
