"""KubeVirt, CDI, instancetype, snapshot and export kinds, and their links."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from gateway.catalog import refs
from gateway.catalog.kinds import Kind, Object, ObjectRef
from gateway.catalog.links import (
    Catalog,
    Entity,
    Join,
    Link,
    MissingProbe,
    Named,
    Parts,
    Query,
    Referrers,
    Selected,
)
from gateway.selectors import LabelSelector

INSTANCETYPE = "instancetype.kubevirt.io"
KINDS = (
    Kind("VirtualMachine", "kubevirt.io", "v1", "virtualmachines", "vms", True),
    Kind("VirtualMachineInstance", "kubevirt.io", "v1", "virtualmachineinstances", "vmis", True),
    Kind(
        "VirtualMachineInstanceMigration",
        "kubevirt.io",
        "v1",
        "virtualmachineinstancemigrations",
        "migrations",
        True,
    ),
    Kind("DataVolume", "cdi.kubevirt.io", "v1beta1", "datavolumes", "datavolumes", True),
    Kind("DataSource", "cdi.kubevirt.io", "v1beta1", "datasources", "datasources", True),
    Kind(
        "VirtualMachineInstancetype",
        INSTANCETYPE,
        "v1beta1",
        "virtualmachineinstancetypes",
        "instancetypes",
        True,
    ),
    Kind(
        "VirtualMachineClusterInstancetype",
        INSTANCETYPE,
        "v1beta1",
        "virtualmachineclusterinstancetypes",
        "clusterinstancetypes",
        False,
    ),
    Kind(
        "VirtualMachinePreference",
        INSTANCETYPE,
        "v1beta1",
        "virtualmachinepreferences",
        "preferences",
        True,
    ),
    Kind(
        "VirtualMachineClusterPreference",
        INSTANCETYPE,
        "v1beta1",
        "virtualmachineclusterpreferences",
        "clusterpreferences",
        False,
    ),
    Kind(
        "VirtualMachineSnapshot",
        "snapshot.kubevirt.io",
        "v1beta1",
        "virtualmachinesnapshots",
        "vmsnapshots",
        True,
    ),
    Kind(
        "VirtualMachineExport",
        "export.kubevirt.io",
        "v1beta1",
        "virtualmachineexports",
        "vmexports",
        True,
    ),
    # Sub-entities of a VM or VMI: served under their owner, never listed on their own.
    Kind("Volume", "", "", "", "volumes", True, part=True),
    Kind("Network", "", "", "", "networks", True, part=True),
)

VM, VMI, DV, PVC, SECRET = (
    "VirtualMachine",
    "VirtualMachineInstance",
    "DataVolume",
    "PersistentVolumeClaim",
    "Secret",
)
INSTANCETYPES = ("VirtualMachineInstancetype", "VirtualMachineClusterInstancetype")
PREFERENCES = ("VirtualMachinePreference", "VirtualMachineClusterPreference")

_dig, _ref, _text = refs.dig, refs.ref, refs.text

# CDI deletes a completed DataVolume when garbage collection is on and hands its PVC
# to the DataVolume's owner: the PVC is there, no DataVolume owns it.
DATAVOLUME_GC = MissingProbe(
    probe=lambda r: ObjectRef(PVC, r.namespace, r.name),
    holds=lambda pvc: refs.owner(pvc, DV) is None,
    reason="GarbageCollected",
)


def _matcher(e: Entity, which: str) -> list[ObjectRef]:
    matcher = _dig(e.obj, "spec", which)
    kind = refs.instancetype_kind(matcher, which)
    namespaced = kind in ("VirtualMachineInstancetype", "VirtualMachinePreference")
    return _ref(kind, e.namespace if namespaced else None, _dig(matcher, "name"))


def _pinned(e: Entity) -> list[ObjectRef]:
    # reached from a VM: the revision is the VM's pin, not a property of the instancetype
    vm = e.parent
    if vm is None or e.rel is None:
        return []
    return _ref("ControllerRevision", vm.namespace, refs.pinned_revision(vm.obj, e.rel))


def _template_spec(e: Entity) -> Any:
    return _dig(e.obj, "spec", "template", "spec") if e.kind.name == VM else _dig(e.obj, "spec")


def _volumes(e: Entity) -> list[Object]:
    spec = _template_spec(e)
    disks = {d.get("name"): d for d in refs.maps(_dig(spec, "domain", "devices", "disks"))}
    parts = []
    for v in refs.maps(_dig(spec, "volumes")):
        kind = refs.volume_type(v)
        part = {
            "kind": "Volume",
            "name": v.get("name"),
            "type": kind,
            "source": v.get(kind) if kind else None,
        }
        if v.get("name") in disks:
            part["disk"] = disks[v.get("name")]
        parts.append(part)
    return parts


def _networks(e: Entity) -> list[Object]:
    spec = _template_spec(e)
    interfaces = {i.get("name"): i for i in refs.maps(_dig(spec, "domain", "devices", "interfaces"))}
    parts = []
    for n in refs.maps(_dig(spec, "networks")):
        kind = refs.volume_type(n)  # the one map-valued key: pod or multus
        part = {
            "kind": "Network",
            "name": n.get("name"),
            "type": kind,
            "source": n.get(kind) if kind else None,
        }
        if n.get("name") in interfaces:
            part["interface"] = interfaces[n.get("name")]
        parts.append(part)
    return parts


def _by_source(kind: str) -> Callable[[Entity], Query]:
    """Objects whose spec.source names this VM (snapshots, exports)."""

    def query(e: Entity) -> Query:
        return Query(
            kind,
            e.namespace,
            where=lambda o: (
                _dig(o, "spec", "source", "kind") == VM and _dig(o, "spec", "source", "name") == e.name
            ),
        )

    return query


def _by_name(candidate: Callable[[Object], Any]) -> Join:
    """Batch join: a candidate whose `candidate(obj)` is the parent's name."""
    return Join(parent=lambda e: [e.name], candidate=lambda o: [candidate(o)])


def _label_items(labels: Any) -> list[tuple[Any, Any]]:
    return list(labels.items()) if isinstance(labels, dict) else []


# a Service selects a VM only if every selector label is on the VM: sharing one is necessary
SERVICE_JOIN = Join(
    parent=lambda vm: _label_items(_dig(vm.obj, "spec", "template", "metadata", "labels")),
    candidate=lambda svc: _label_items(_dig(svc, "spec", "selector")),
)

LAUNCHER_JOIN = Join(
    parent=lambda vmi: [("uid", vmi.uid), ("domain", vmi.name)],
    candidate=lambda pod: (
        [("uid", o.get("uid")) for o in refs.maps(_dig(pod, "metadata", "ownerReferences"))]
        + [("domain", _dig(pod, "metadata", "annotations", "kubevirt.io/domain"))]
    ),
)
SOURCE_NAME_JOIN = _by_name(lambda o: _dig(o, "spec", "source", "name"))
MIGRATION_JOIN = _by_name(lambda m: _dig(m, "spec", "vmiName"))


def _migrations(e: Entity) -> Query:
    return Query(
        "VirtualMachineInstanceMigration",
        e.namespace,
        where=lambda m: _dig(m, "spec", "vmiName") == e.name,
    )


def _services(e: Entity) -> Query:
    labels = _dig(e.obj, "spec", "template", "metadata", "labels")
    return Query(
        "Service",
        e.namespace,
        where=lambda s: refs.labels_subset(_dig(s, "spec", "selector"), labels),
    )


def _launcher_pod(e: Entity) -> Query:
    # virt-launcher pods are owned by their VMI; the domain annotation is the older fallback
    uid, name = e.uid, e.name
    return Query(
        "Pod",
        e.namespace,
        LabelSelector.from_labels({"kubevirt.io": "virt-launcher"}),
        where=lambda p: (
            refs.owned_by(p, uid) or _dig(p, "metadata", "annotations", "kubevirt.io/domain") == name
        ),
    )


def _current_pod(e: Entity, pods: list[Object]) -> list[Object]:
    """During a migration two launcher pods exist: prefer the one on the VMI's node."""
    node = _dig(e.obj, "status", "nodeName")
    on_node = [p for p in pods if _dig(p, "spec", "nodeName") == node]
    return sorted(on_node or pods, key=refs.name_key)[:1]


def _needs_backend_storage(e: Entity) -> bool:
    devices = _dig(e.obj, "spec", "template", "spec", "domain")
    return _dig(devices, "devices", "tpm", "persistent") is True or (
        _dig(devices, "firmware", "bootloader", "efi", "persistent") is True
    )


def _volume_ref(kind: str, source_type: str, field: str) -> Named:
    return Named(
        lambda e: (
            _ref(kind, e.namespace, _dig(e.obj, "source", field)) if e.obj.get("type") == source_type else []
        )
    )


def add_links(c: Catalog) -> None:
    # VirtualMachine
    c.add_link(
        VM,
        Link(
            "instancetype",
            INSTANCETYPES,
            False,
            Named(lambda e: _matcher(e, "instancetype")),
            "spec.instancetype (kind: namespaced or cluster, cluster when omitted)",
        ),
    )
    c.add_link(
        VM,
        Link(
            "preference",
            PREFERENCES,
            False,
            Named(lambda e: _matcher(e, "preference")),
            "spec.preference (kind: namespaced or cluster, cluster when omitted)",
        ),
    )
    c.add_link(
        VM,
        Link(
            "vmi",
            (VMI,),
            False,
            Named(
                lambda e: _ref(VMI, e.namespace, e.name) if _dig(e.obj, "status", "created") is True else []
            ),
            "the VirtualMachineInstance of the same name, while status.created",
        ),
    )
    c.add_link(VM, Link("volumes", ("Volume",), True, Parts(_volumes), "spec.template.spec.volumes"))
    c.add_link(
        VM,
        Link(
            "datavolumetemplates",
            (DV,),
            True,
            Named(
                lambda e: [
                    r
                    for t in refs.maps(_dig(e.obj, "spec", "dataVolumeTemplates"))
                    for r in _ref(DV, e.namespace, _dig(t, "metadata", "name"))
                ],
                missing=DATAVOLUME_GC,
            ),
            "spec.dataVolumeTemplates[].metadata.name",
        ),
    )
    c.add_link(
        VM,
        Link(
            "accesscredentials",
            (SECRET,),
            True,
            Named(
                lambda e: [
                    r
                    for n in refs.access_credential_secrets(_dig(e.obj, "spec", "template", "spec"))
                    for r in _ref(SECRET, e.namespace, n)
                ]
            ),
            "spec.template.spec.accessCredentials[]: ssh key secret, else user password secret",
        ),
    )
    c.add_link(VM, Link("networks", ("Network",), True, Parts(_networks), "spec.template.spec.networks"))
    c.add_link(
        VM,
        Link(
            "backendstorage",
            (PVC,),
            False,
            Selected(
                lambda e: Query(
                    PVC, e.namespace, LabelSelector.from_labels({"persistent-state-for": e.name})
                ),
                pick=lambda e, found: sorted(found, key=refs.name_key)[:1],
                present=_needs_backend_storage,
                join=_by_name(lambda o: _dig(o, "metadata", "labels", "persistent-state-for")),
            ),
            "the PVC labelled persistent-state-for=<vm> (persistent TPM or EFI)",
        ),
    )
    c.add_link(
        VM,
        Link(
            "ipamclaims",
            ("IPAMClaim",),
            True,
            Selected(
                lambda e: Query(
                    "IPAMClaim",
                    e.namespace,
                    LabelSelector.from_labels({"vm.kubevirt.io/name": e.name}),
                ),
                join=_by_name(lambda o: _dig(o, "metadata", "labels", "vm.kubevirt.io/name")),
            ),
            "IPAMClaims labelled vm.kubevirt.io/name=<vm>",
        ),
    )
    c.add_link(
        VM,
        Link(
            "snapshots",
            ("VirtualMachineSnapshot",),
            True,
            Selected(_by_source("VirtualMachineSnapshot"), join=SOURCE_NAME_JOIN),
            "VirtualMachineSnapshots whose spec.source is this VM",
        ),
    )
    c.add_link(
        VM,
        Link(
            "exports",
            ("VirtualMachineExport",),
            True,
            Selected(_by_source("VirtualMachineExport"), join=SOURCE_NAME_JOIN),
            "VirtualMachineExports whose spec.source is this VM",
        ),
    )
    c.add_link(
        VM,
        Link(
            "migrations",
            ("VirtualMachineInstanceMigration",),
            True,
            Selected(_migrations, join=MIGRATION_JOIN),
            "VirtualMachineInstanceMigrations whose spec.vmiName is this VM's",
        ),
    )
    c.add_link(
        VM,
        Link(
            "services",
            ("Service",),
            True,
            Selected(_services, join=SERVICE_JOIN),
            "Services whose spec.selector matches spec.template.metadata.labels",
        ),
    )

    # instancetypes and preferences, as reached from a VM: the revision it pinned
    for kinds, which in ((INSTANCETYPES, "instancetype"), (PREFERENCES, "preference")):
        for kind in kinds:
            c.add_link(
                kind,
                Link(
                    "revision",
                    ("ControllerRevision",),
                    False,
                    Named(_pinned),
                    f"the VM's status.{which}Ref.controllerRevisionRef.name, "
                    f"else spec.{which}.revisionName (only when reached from a VM)",
                    via=frozenset({(VM, which)}),
                ),
            )

    # VirtualMachineInstance
    c.add_link(
        VMI,
        Link(
            "pod",
            ("Pod",),
            False,
            Selected(_launcher_pod, pick=_current_pod, join=LAUNCHER_JOIN),
            "the virt-launcher Pod owned by this VMI (kubevirt.io/domain annotation as fallback)",
        ),
    )
    c.add_link(
        VMI,
        Link(
            "node",
            ("Node",),
            False,
            Named(lambda e: _ref("Node", None, _dig(e.obj, "status", "nodeName"))),
            "status.nodeName",
        ),
    )
    c.add_link(
        VMI,
        Link(
            "vm",
            (VM,),
            False,
            Named(lambda e: _ref(VM, e.namespace, refs.owner(e.obj, VM))),
            "the VirtualMachine in metadata.ownerReferences",
        ),
    )
    c.add_link(
        VMI,
        Link(
            "migrations",
            ("VirtualMachineInstanceMigration",),
            True,
            Selected(_migrations, join=MIGRATION_JOIN),
            "VirtualMachineInstanceMigrations whose spec.vmiName is this VMI",
        ),
    )
    c.add_link(VMI, Link("volumes", ("Volume",), True, Parts(_volumes), "spec.volumes"))

    # volume and network sub-entities
    vol = "Volume"
    c.add_link(
        vol,
        Link(
            "pvc",
            (PVC,),
            False,
            Named(lambda e: _ref(PVC, e.namespace, refs.volume_claim(e.obj))),
            "dataVolume.name, persistentVolumeClaim.claimName or memoryDump.claimName",
        ),
    )
    c.add_link(
        vol,
        Link(
            "datavolume",
            (DV,),
            False,
            Named(_volume_ref(DV, "dataVolume", "name").refs, missing=DATAVOLUME_GC),
            "dataVolume.name",
        ),
    )
    c.add_link(
        vol,
        Link(
            "configmap",
            ("ConfigMap",),
            False,
            _volume_ref("ConfigMap", "configMap", "name"),
            "configMap.name",
        ),
    )
    c.add_link(
        vol,
        Link(
            "secret",
            (SECRET,),
            False,
            _volume_ref(SECRET, "secret", "secretName"),
            "secret.secretName",
        ),
    )
    c.add_link(
        vol,
        Link(
            "serviceaccount",
            ("ServiceAccount",),
            False,
            _volume_ref("ServiceAccount", "serviceAccount", "serviceAccountName"),
            "serviceAccount.serviceAccountName",
        ),
    )
    for rel, field in (("userdata", "userDataSecretRef"), ("networkdata", "networkDataSecretRef")):
        c.add_link(
            vol,
            Link(
                rel,
                (SECRET,),
                False,
                Named(_cloud_init_ref(field)),
                f"cloudInitNoCloud/cloudInitConfigDrive {field}.name",
            ),
        )
    c.add_link(
        "Network",
        Link(
            "nad",
            ("NetworkAttachmentDefinition",),
            False,
            Named(_nad),
            "multus.networkName: ns/name, or name in the VM's namespace",
        ),
    )

    # DataVolume
    c.add_link(
        DV,
        Link(
            "pvc",
            (PVC,),
            False,
            Named(lambda e: _ref(PVC, e.namespace, e.name)),
            "the PVC of the same name",
        ),
    )
    c.add_link(
        DV,
        Link(
            "sourcepvc",
            (PVC,),
            False,
            Named(
                lambda e: _ref(
                    PVC,
                    _text(_dig(e.obj, "spec", "source", "pvc", "namespace")) or e.namespace,
                    _dig(e.obj, "spec", "source", "pvc", "name"),
                )
            ),
            "spec.source.pvc (a clone)",
        ),
    )
    c.add_link(
        DV,
        Link(
            "datasource",
            ("DataSource",),
            False,
            Named(_dv_source_ref),
            "spec.sourceRef of kind DataSource",
        ),
    )
    c.add_link(
        DV,
        Link(
            "storageclass",
            ("StorageClass",),
            False,
            Named(
                lambda e: _ref(
                    "StorageClass",
                    None,
                    _dig(e.obj, "spec", "storage", "storageClassName")
                    or _dig(e.obj, "spec", "pvc", "storageClassName"),
                )
            ),
            "spec.storage.storageClassName or spec.pvc.storageClassName",
        ),
    )
    c.add_link(DV, Link("vms", (VM,), True, Referrers(VM), "VirtualMachines that name this DataVolume"))

    # the rest: each points back at what it serves
    c.add_link(
        "DataSource",
        Link(
            "pvc",
            (PVC,),
            False,
            Named(
                lambda e: _ref(
                    PVC,
                    _text(_dig(e.obj, "spec", "source", "pvc", "namespace")) or e.namespace,
                    _dig(e.obj, "spec", "source", "pvc", "name"),
                )
            ),
            "spec.source.pvc",
        ),
    )
    c.add_link(
        "VirtualMachineSnapshot",
        Link("vm", (VM,), False, Named(_source_vm), "spec.source of kind VirtualMachine"),
    )
    c.add_link(
        "VirtualMachineExport",
        Link("vm", (VM,), False, Named(_source_vm), "spec.source of kind VirtualMachine"),
    )
    c.add_link(
        "VirtualMachineInstanceMigration",
        Link(
            "vmi",
            (VMI,),
            False,
            Named(lambda e: _ref(VMI, e.namespace, _dig(e.obj, "spec", "vmiName"))),
            "spec.vmiName",
        ),
    )


def _cloud_init_ref(field: str) -> Callable[[Entity], list[ObjectRef]]:
    return lambda e: _ref(SECRET, e.namespace, refs.cloud_init_secret(e.obj, field))


def _nad(e: Entity) -> list[ObjectRef]:
    if e.obj.get("type") != "multus":
        return []
    ns, name = refs.namespaced_name(_dig(e.obj, "source", "networkName"), e.namespace)
    return _ref("NetworkAttachmentDefinition", ns, name)


def _dv_source_ref(e: Entity) -> list[ObjectRef]:
    src = _dig(e.obj, "spec", "sourceRef")
    if _dig(src, "kind") != "DataSource":
        return []
    return _ref("DataSource", _text(_dig(src, "namespace")) or e.namespace, _dig(src, "name"))


def _source_vm(e: Entity) -> list[ObjectRef]:
    if _dig(e.obj, "spec", "source", "kind") != VM:
        return []
    return _ref(VM, e.namespace, _dig(e.obj, "spec", "source", "name"))
