"""The columns `get` prints for each kind, as `kubectl get` prints them.

KubeVirt's and CDI's kinds use their CRDs' additionalPrinterColumns (KubeVirt:
pkg/virt-operator/resource/generate/components/crds.go; CDI: the `+kubebuilder:printcolumn`
markers on DataVolume), read with the same JSONPath as the API server's table convertor: the first
result, `<none>` when there is none. Built-in kinds have the columns of kubectl's own printers
(k8s.io/kubernetes pkg/printers/internalversion/printers.go). Any other kind: NAME and AGE.
Priority-1 columns show with `-o wide` only, as kubectl does.

A VM's row also has what its VMI says with `-o wide` (NODE, IP): `get` follows `vmi` for that,
one request for the whole list, which kubectl cannot do.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from typing import Any

from jsonpath_ng import JSONPath
from jsonpath_ng.ext.parser import parse

NONE = "<none>"
AGE = ".metadata.creationTimestamp"


@dataclass(frozen=True)
class Column:
    header: str
    value: str | Callable[[dict[str, Any]], object]
    """A JSONPath as printer columns write it (`.status.phase`), or what computes the cell."""
    type: str = "string"
    """The printer column's type: `date` cells show as ages."""
    priority: int = 0
    """1: only with `-o wide`."""
    missing: str = "<none>"
    """What an empty cell shows: a CRD column's nil is `<none>`; kubectl's printers write `<unknown>` for an age."""


def _age() -> Column:
    """The AGE of kubectl's own printers."""
    return Column("AGE", AGE, "date", missing="<unknown>")


def _crd(*columns: tuple[str, str, str] | tuple[str, str, str, int]) -> tuple[Column, ...]:
    """additionalPrinterColumns in their CRD's order; kubectl upper-cases the names."""
    return tuple(Column(c[0].upper(), c[1], c[2], c[3] if len(c) > 3 else 0) for c in columns)


READY_CONDITION = ".status.conditions[?(@.type=='Ready')].status"


# --- built-in kinds: what kubectl's printers compute


def _pod_ready(pod: dict[str, Any]) -> str:
    statuses = (pod.get("status") or {}).get("containerStatuses") or []
    containers = (pod.get("spec") or {}).get("containers") or []
    return f"{sum(1 for s in statuses if s.get('ready'))}/{len(containers)}"


def _pod_status(pod: dict[str, Any]) -> str:
    status = pod.get("status") or {}
    if (pod.get("metadata") or {}).get("deletionTimestamp"):
        return "Terminating"
    for container in status.get("containerStatuses") or []:
        state = container.get("state") or {}
        for which in ("waiting", "terminated"):
            if (state.get(which) or {}).get("reason"):
                return str(state[which]["reason"])
    return str(status.get("reason") or status.get("phase") or "Unknown")


def _pod_restarts(pod: dict[str, Any]) -> int:
    return sum(int(s.get("restartCount") or 0) for s in (pod.get("status") or {}).get("containerStatuses") or [])


def _ports(service: dict[str, Any]) -> str:
    ports = (service.get("spec") or {}).get("ports") or []
    shown = [f"{p.get('port')}{':' + str(p['nodePort']) if p.get('nodePort') else ''}/{p.get('protocol', 'TCP')}"
             for p in ports]  # fmt: skip
    return ",".join(shown) or NONE


def _external_ips(service: dict[str, Any]) -> str:
    spec, status = service.get("spec") or {}, service.get("status") or {}
    ingress = [i.get("ip") or i.get("hostname") for i in (status.get("loadBalancer") or {}).get("ingress") or []]
    found = [*(ip for ip in ingress if ip), *(spec.get("externalIPs") or [])]
    if found:
        return ",".join(found)
    if spec.get("type") == "LoadBalancer":
        return "<pending>"
    return NONE


def _selector(service: dict[str, Any]) -> str:
    selector = (service.get("spec") or {}).get("selector") or {}
    return ",".join(f"{k}={v}" for k, v in sorted(selector.items())) or NONE


MODES = {"ReadWriteOnce": "RWO", "ReadOnlyMany": "ROX", "ReadWriteMany": "RWX", "ReadWriteOncePod": "RWOP"}


def _access_modes(modes: list[str] | None) -> str:
    return ",".join(MODES.get(m, m) for m in modes or [])


def _claim(pv: dict[str, Any]) -> str:
    ref = (pv.get("spec") or {}).get("claimRef") or {}
    return f"{ref.get('namespace')}/{ref.get('name')}" if ref.get("name") else ""


def _node_status(node: dict[str, Any]) -> str:
    conditions = (node.get("status") or {}).get("conditions") or []
    ready = next((c.get("status") for c in conditions if c.get("type") == "Ready"), None)
    status = "Ready" if ready == "True" else "NotReady" if ready is not None else "Unknown"
    return status + (",SchedulingDisabled" if (node.get("spec") or {}).get("unschedulable") else "")


def _node_roles(node: dict[str, Any]) -> str:
    labels = (node.get("metadata") or {}).get("labels") or {}
    roles = sorted(k.split("/", 1)[1] for k in labels if k.startswith("node-role.kubernetes.io/") and "/" in k)
    return ",".join(r for r in roles if r) or NONE


def _controller(revision: dict[str, Any]) -> str:
    owners = (revision.get("metadata") or {}).get("ownerReferences") or []
    owner = next((o for o in owners if o.get("controller")), None)
    if owner is None:
        return NONE
    group = str(owner.get("apiVersion", "")).rpartition("/")[0]
    return f"{str(owner.get('kind', '')).lower()}{'.' + group if group else ''}/{owner.get('name')}"


def _count(field: str) -> Callable[[dict[str, Any]], int]:
    return lambda obj: len(obj.get(field) or [])


def _get(*path: str, default: object = NONE) -> Callable[[dict[str, Any]], object]:
    def read(obj: dict[str, Any]) -> object:
        value: Any = obj
        for key in path:
            value = value.get(key) if isinstance(value, dict) else None
        return default if value in (None, "") else value

    return read


BUILT_IN: dict[str, tuple[Column, ...]] = {
    "Pod": (
        Column("READY", _pod_ready),
        Column("STATUS", _pod_status),
        Column("RESTARTS", _pod_restarts),
        _age(),
        Column("IP", _get("status", "podIP"), priority=1),
        Column("NODE", _get("spec", "nodeName"), priority=1),
    ),
    "Service": (
        Column("TYPE", _get("spec", "type", default="ClusterIP")),
        Column("CLUSTER-IP", _get("spec", "clusterIP")),
        Column("EXTERNAL-IP", _external_ips),
        Column("PORT(S)", _ports),
        _age(),
        Column("SELECTOR", _selector, priority=1),
    ),
    "PersistentVolumeClaim": (
        Column("STATUS", _get("status", "phase", default="")),
        Column("VOLUME", _get("spec", "volumeName", default="")),
        Column("CAPACITY", _get("status", "capacity", "storage", default="")),
        Column("ACCESS MODES", lambda pvc: _access_modes((pvc.get("status") or {}).get("accessModes"))),
        Column("STORAGECLASS", _get("spec", "storageClassName", default="")),
        Column("VOLUMEATTRIBUTESCLASS", _get("spec", "volumeAttributesClassName", default="<unset>")),
        _age(),
        Column("VOLUMEMODE", _get("spec", "volumeMode", default="<unset>"), priority=1),
    ),
    "PersistentVolume": (
        Column("CAPACITY", _get("spec", "capacity", "storage", default="")),
        Column("ACCESS MODES", lambda pv: _access_modes((pv.get("spec") or {}).get("accessModes"))),
        Column("RECLAIM POLICY", _get("spec", "persistentVolumeReclaimPolicy", default="")),
        Column("STATUS", _get("status", "phase", default="")),
        Column("CLAIM", _claim),
        Column("STORAGECLASS", _get("spec", "storageClassName", default="")),
        Column("VOLUMEATTRIBUTESCLASS", _get("spec", "volumeAttributesClassName", default="<unset>")),
        Column("REASON", _get("status", "reason", default="")),
        _age(),
    ),
    "StorageClass": (
        Column("PROVISIONER", _get("provisioner")),
        Column("RECLAIMPOLICY", _get("reclaimPolicy", default="Delete")),
        Column("VOLUMEBINDINGMODE", _get("volumeBindingMode", default="Immediate")),
        Column("ALLOWVOLUMEEXPANSION", lambda sc: str(bool(sc.get("allowVolumeExpansion"))).lower()),
        _age(),
    ),
    "ConfigMap": (Column("DATA", lambda cm: len(cm.get("data") or {}) + len(cm.get("binaryData") or {})), _age()),
    # the gateway sends a Secret's key names (`dataKeys`), never its data
    "Secret": (Column("TYPE", _get("type", default="")), Column("DATA", _count("dataKeys")), _age()),
    "ServiceAccount": (Column("SECRETS", _count("secrets")), _age()),
    "Node": (
        Column("STATUS", _node_status),
        Column("ROLES", _node_roles),
        _age(),
        Column("VERSION", _get("status", "nodeInfo", "kubeletVersion", default="")),
    ),
    "Namespace": (Column("STATUS", _get("status", "phase", default="")), _age()),
    "ControllerRevision": (Column("CONTROLLER", _controller), Column("REVISION", _get("revision", default=0)), _age()),
}

PRINTER_COLUMNS: dict[str, tuple[Column, ...]] = {
    "VirtualMachine": (
        *_crd(
            ("Age", AGE, "date"), ("Status", ".status.printableStatus", "string"), ("Ready", READY_CONDITION, "string")
        ),
        # from the VM's VMI, followed (`-o wide` only)
        Column("NODE", ".vmi.status.nodeName", priority=1),
        Column("IP", ".vmi.status.interfaces[0].ipAddress", priority=1),
    ),
    "VirtualMachineInstance": _crd(
        ("Age", AGE, "date"),
        ("Phase", ".status.phase", "string"),
        ("IP", ".status.interfaces[0].ipAddress", "string"),
        ("NodeName", ".status.nodeName", "string"),
        ("Ready", READY_CONDITION, "string"),
        ("Live-Migratable", ".status.conditions[?(@.type=='LiveMigratable')].status", "string", 1),
        ("Paused", ".status.conditions[?(@.type=='Paused')].status", "string", 1),
    ),
    "VirtualMachineInstanceReplicaSet": _crd(
        ("Desired", ".spec.replicas", "integer"),
        ("Current", ".status.replicas", "integer"),
        ("Ready", ".status.readyReplicas", "integer"),
        ("Age", AGE, "date"),
    ),
    "VirtualMachinePool": _crd(
        ("Desired", ".spec.replicas", "integer"),
        ("Current", ".status.replicas", "integer"),
        ("Ready", ".status.readyReplicas", "integer"),
        ("Age", AGE, "date"),
    ),
    "VirtualMachineInstanceMigration": _crd(("Phase", ".status.phase", "string"), ("VMI", ".spec.vmiName", "string")),
    "VirtualMachineSnapshot": _crd(
        ("SourceKind", ".spec.source.kind", "string"),
        ("SourceName", ".spec.source.name", "string"),
        ("Phase", ".status.phase", "string"),
        ("ReadyToUse", ".status.readyToUse", "boolean"),
        ("CreationTime", ".status.creationTime", "date"),
        ("Error", ".status.error.message", "string"),
    ),
    "VirtualMachineSnapshotContent": _crd(
        ("ReadyToUse", ".status.readyToUse", "boolean"),
        ("CreationTime", ".status.creationTime", "date"),
        ("Error", ".status.error.message", "string"),
    ),
    "VirtualMachineRestore": _crd(
        ("TargetKind", ".spec.target.kind", "string"),
        ("TargetName", ".spec.target.name", "string"),
        ("Complete", ".status.complete", "boolean"),
        ("RestoreTime", ".status.restoreTime", "date"),
    ),
    "VirtualMachineExport": _crd(
        ("SourceKind", ".spec.source.kind", "string"),
        ("SourceName", ".spec.source.name", "string"),
        ("Phase", ".status.phase", "string"),
    ),
    "VirtualMachineClone": _crd(
        ("Phase", ".status.phase", "string"),
        ("SourceVirtualMachine", ".spec.source.name", "string"),
        ("TargetVirtualMachine", ".spec.target.name", "string"),
    ),
    "DataVolume": _crd(
        ("Phase", ".status.phase", "string"),
        ("Progress", ".status.progress", "string"),
        ("Restarts", ".status.restartCount", "integer"),
        ("Age", AGE, "date"),
    ),
    **BUILT_IN,
}


def columns_of(kind: str, wide: bool) -> tuple[Column, ...]:
    """The columns after NAME (and NAMESPACE) for `kind`."""
    found = PRINTER_COLUMNS.get(kind, (Column("AGE", AGE, "date"),))
    return tuple(c for c in found if wide or c.priority == 0)


def cell(column: Column, obj: dict[str, Any], now: datetime) -> str:
    if callable(column.value):
        value = column.value(obj)
    else:
        found = _compiled(column.value).find(obj)
        value = found[0].value if found else None
    if value is None:
        return column.missing
    if column.type == "date":
        return age(str(value), now)
    if isinstance(value, bool):
        return str(value).lower()
    return value if isinstance(value, str) else json.dumps(value) if isinstance(value, dict | list) else str(value)


@cache
def _compiled(path: str) -> JSONPath:
    return parse(path.lstrip("."))


def age(timestamp: str, now: datetime) -> str:
    """How long ago, as kubectl prints an age; `<unknown>` for what is not an RFC 3339 time."""
    try:
        then = datetime.fromisoformat(timestamp.replace("Z", "+00:00"))
    except ValueError:
        return "<unknown>"
    if then.tzinfo is None:
        then = then.replace(tzinfo=UTC)
    return human_duration((now - then).total_seconds())


def human_duration(seconds: float) -> str:
    """apimachinery's duration.HumanDuration: two units while the larger is small, one after."""
    s = int(seconds)  # as Go's int(), toward zero
    if s < -1:  # up to a second ahead is taken as now: clocks differ
        return "<invalid>"
    if s < 0:
        return "0s"
    if s < 60 * 2:
        return f"{s}s"
    minutes = s // 60
    if minutes < 10:
        return f"{minutes}m" if s % 60 == 0 else f"{minutes}m{s % 60}s"
    if minutes < 60 * 3:
        return f"{minutes}m"
    hours = s // 3600
    if hours < 8:
        return f"{hours}h" if minutes % 60 == 0 else f"{hours}h{minutes % 60}m"
    if hours < 48:
        return f"{hours}h"
    if hours < 24 * 8:
        return f"{hours // 24}d" if hours % 24 == 0 else f"{hours // 24}d{hours % 24}h"
    if hours < 24 * 365 * 2:
        return f"{hours // 24}d"
    if hours < 24 * 365 * 8:
        days = (hours // 24) % 365
        return f"{hours // 24 // 365}y" if days == 0 else f"{hours // 24 // 365}y{days}d"
    return f"{hours // 24 // 365}y"
