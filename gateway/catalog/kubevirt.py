"""KubeVirt, CDI, instancetype, snapshot and export kinds, and their links."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from gateway.catalog import refs
from gateway.catalog.declare import (
    by_name,
    field,
    label_items,
    named,
    namespaced_field,
    owner,
    parts,
    referrers,
    selected,
)
from gateway.catalog.kinds import Kind, Object, ObjectRef
from gateway.catalog.links import Catalog, Computed, Entity, GraphStep, Join, Link, MissingProbe, Query
from gateway.selectors import LabelSelector

INSTANCETYPE = "instancetype.kubevirt.io"
# fmt: off
KINDS = (
    Kind("VirtualMachine", "kubevirt.io", "v1", "virtualmachines", "vms", True),
    Kind("VirtualMachineInstance", "kubevirt.io", "v1", "virtualmachineinstances", "vmis", True),
    Kind("VirtualMachineInstanceMigration", "kubevirt.io", "v1", "virtualmachineinstancemigrations", "migrations",
         True),
    Kind("DataVolume", "cdi.kubevirt.io", "v1beta1", "datavolumes", "datavolumes", True, dependency="storage"),
    Kind("DataSource", "cdi.kubevirt.io", "v1beta1", "datasources", "datasources", True),
    Kind("VirtualMachineInstancetype", INSTANCETYPE, "v1beta1", "virtualmachineinstancetypes", "instancetypes", True,
         dependency="config"),
    Kind("VirtualMachineClusterInstancetype", INSTANCETYPE, "v1beta1", "virtualmachineclusterinstancetypes",
         "clusterinstancetypes", False, dependency="config"),
    Kind("VirtualMachinePreference", INSTANCETYPE, "v1beta1", "virtualmachinepreferences", "preferences", True,
         dependency="config"),
    Kind("VirtualMachineClusterPreference", INSTANCETYPE, "v1beta1", "virtualmachineclusterpreferences",
         "clusterpreferences", False, dependency="config"),
    Kind("VirtualMachineSnapshot", "snapshot.kubevirt.io", "v1beta1", "virtualmachinesnapshots", "vmsnapshots", True),
    Kind("VirtualMachineExport", "export.kubevirt.io", "v1beta1", "virtualmachineexports", "vmexports", True),
    # Sub-entities of a VM or VMI: served under their owner, never listed on their own.
    Kind("Volume", "", "", "", "volumes", True, part=True),
    Kind("Network", "", "", "", "networks", True, part=True),
    Kind("ObjectGraph", "", "", "", "objectgraph", True, part=True),
)
# fmt: on

VM, VMI, VMIM = "VirtualMachine", "VirtualMachineInstance", "VirtualMachineInstanceMigration"
DV, PVC, SECRET = "DataVolume", "PersistentVolumeClaim", "Secret"
SNAPSHOT, EXPORT = "VirtualMachineSnapshot", "VirtualMachineExport"
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


def _matcher(which: str) -> Callable[[Entity], list[ObjectRef]]:
    """`spec.instancetype` / `spec.preference`: namespaced or cluster kind, as the matcher says."""

    def find(e: Entity) -> list[ObjectRef]:
        matcher = _dig(e.obj, "spec", which)
        kind = refs.instancetype_kind(matcher, which)
        namespaced = kind in ("VirtualMachineInstancetype", "VirtualMachinePreference")
        return _ref(kind, e.namespace if namespaced else None, _dig(matcher, "name"))

    return find


def _pinned(e: Entity) -> list[ObjectRef]:
    # reached from a VM: the revision is the VM's pin, not a property of the instancetype
    vm = e.parent
    if vm is None or e.rel is None:
        return []
    return _ref("ControllerRevision", vm.namespace, refs.pinned_revision(vm.obj, e.rel))


def _vmi(e: Entity) -> list[ObjectRef]:
    return _ref(VMI, e.namespace, e.name) if _dig(e.obj, "status", "created") is True else []


def _data_volume_templates(e: Entity) -> list[ObjectRef]:
    templates = refs.maps(_dig(e.obj, "spec", "dataVolumeTemplates"))
    return [r for t in templates for r in _ref(DV, e.namespace, _dig(t, "metadata", "name"))]


def _template_spec(e: Entity) -> Any:
    """What a VM runs (spec.template.spec) or a VMI runs (spec): the same VirtualMachineInstanceSpec."""
    return _dig(e.obj, "spec", "template", "spec") if e.kind.name == VM else _dig(e.obj, "spec")


def _access_credentials(e: Entity) -> list[ObjectRef]:
    names = refs.access_credential_secrets(_template_spec(e))
    return [r for n in names for r in _ref(SECRET, e.namespace, n)]


def _sub_entities(kind: str, items: str, devices: str, device_key: str) -> Callable[[Entity], list[Object]]:
    """Volumes or networks of a VM or VMI, each with its disk or interface alongside."""

    def carve(e: Entity) -> list[Object]:
        spec = _template_spec(e)
        attached = {d.get("name"): d for d in refs.maps(_dig(spec, "domain", "devices", devices))}
        result = []
        for item in refs.maps(_dig(spec, items)):
            source = refs.source_type(item)  # the one map-valued key: dataVolume, pod, multus, ...
            part = {
                "kind": kind,
                "name": item.get("name"),
                "type": source,
                "source": item.get(source) if source else None,
            }
            if item.get("name") in attached:
                part[device_key] = attached[item.get("name")]
            result.append(part)
        return result

    return carve


def _by_source(kind: str) -> Callable[[Entity], Query]:
    """Objects whose spec.source names this VM (snapshots, exports)."""

    def query(e: Entity) -> Query:
        def names_vm(o: Object) -> bool:
            source = _dig(o, "spec", "source")
            return bool(_dig(source, "kind") == VM and _dig(source, "name") == e.name)

        return Query(kind, e.namespace, where=names_vm)

    return query


def _migrations(e: Entity) -> Query:
    return Query(VMIM, e.namespace, where=lambda m: _dig(m, "spec", "vmiName") == e.name)


def _services(e: Entity) -> Query:
    labels = _dig(e.obj, "spec", "template", "metadata", "labels")
    return Query("Service", e.namespace, where=lambda s: refs.labels_subset(_dig(s, "spec", "selector"), labels))


def _labelled(kind: str, label: str) -> Callable[[Entity], Query]:
    return lambda e: Query(kind, e.namespace, LabelSelector.from_labels({label: e.name}))


def _launcher_pod(e: Entity) -> Query:
    # virt-launcher pods are owned by their VMI; the domain annotation is the older fallback
    uid, name = e.uid, e.name
    return Query(
        "Pod",
        e.namespace,
        LabelSelector.from_labels({"kubevirt.io": "virt-launcher"}),
        where=lambda p: refs.owned_by(p, uid) or _dig(p, "metadata", "annotations", "kubevirt.io/domain") == name,
    )


def _current_pod(e: Entity, pods: list[Object]) -> list[Object]:
    """During a migration two launcher pods exist: prefer the one on the VMI's node."""
    node = _dig(e.obj, "status", "nodeName")
    on_node = [p for p in pods if node and _dig(p, "spec", "nodeName") == node]
    return sorted(on_node or pods, key=refs.name_key)[:1]


def _needs_backend_storage(e: Entity) -> bool:
    """A persistent TPM or EFI keeps its state in a backend-storage PVC."""
    domain = _dig(_template_spec(e), "domain")
    return (
        _dig(domain, "devices", "tpm", "persistent") is True
        or _dig(domain, "firmware", "bootloader", "efi", "persistent") is True
    )


def _newest_live(e: Entity, found: list[Object]) -> list[Object]:
    """KubeVirt's choice among backend-storage PVCs: the newest one not being deleted."""
    live = [o for o in found if not _dig(o, "metadata", "deletionTimestamp")]
    newest = sorted(live, key=lambda o: str(_dig(o, "metadata", "creationTimestamp") or ""), reverse=True)
    return newest[:1]


def _volume(kind: str, source_type: str, *path: str) -> Callable[[Entity], list[ObjectRef]]:
    """A volume part's reference, for one source type: `secret.secretName`."""
    return lambda e: _ref(kind, e.namespace, _dig(e.obj, "source", *path)) if e.obj.get("type") == source_type else []


def _cloud_init(ref_field: str) -> Callable[[Entity], list[ObjectRef]]:
    return lambda e: _ref(SECRET, e.namespace, refs.cloud_init_secret(e.obj, ref_field))


def _nad(e: Entity) -> list[ObjectRef]:
    if e.obj.get("type") != "multus":
        return []
    ns, name = refs.namespaced_name(_dig(e.obj, "source", "networkName"), e.namespace)
    return _ref("NetworkAttachmentDefinition", ns, name)


def _kind_at(kind: str, *path: str) -> Callable[[Entity], list[ObjectRef]]:
    """A `{kind, name[, namespace]}` reference at `path`, when its kind is `kind`."""

    def find(e: Entity) -> list[ObjectRef]:
        ref = _dig(e.obj, *path)
        if _dig(ref, "kind") != kind:
            return []
        return _ref(kind, _text(_dig(ref, "namespace")) or e.namespace, _dig(ref, "name"))

    return find


# batch joins: which candidates can match a parent at all (the query decides the rest)
LAUNCHER_JOIN = Join(
    parent=lambda vmi: [("uid", vmi.uid), ("domain", vmi.name)],
    candidate=lambda pod: (
        [("uid", o.get("uid")) for o in refs.maps(_dig(pod, "metadata", "ownerReferences"))]
        + [("domain", _dig(pod, "metadata", "annotations", "kubevirt.io/domain"))]
    ),
)
# a Service selects a VM only if every selector label is on the VM: sharing one is necessary
SERVICE_JOIN = Join(
    parent=lambda vm: label_items(_dig(vm.obj, "spec", "template", "metadata", "labels")),
    candidate=lambda svc: label_items(_dig(svc, "spec", "selector")),
)
SOURCE_JOIN = by_name(lambda o: _dig(o, "spec", "source", "name"))
MIGRATION_JOIN = by_name(lambda m: _dig(m, "spec", "vmiName"))


def _first_launcher(e: Entity, pods: list[Object]) -> list[Object]:
    """KubeVirt's objectgraph takes the first launcher pod in API order (by name) owned by the VMI's
    name or naming it in its domain annotation: after a live migration, possibly the old pod."""

    def belongs(pod: Object) -> bool:
        owners = refs.maps(_dig(pod, "metadata", "ownerReferences"))
        if any(o.get("kind") == VMI and o.get("name") == e.name for o in owners):
            return True
        return bool(_dig(pod, "metadata", "annotations", "kubevirt.io/domain") == e.name)

    return [p for p in sorted(pods, key=refs.name_key) if belongs(p)][:1]


def _step(*path: str, **kwargs: Any) -> GraphStep:
    return GraphStep(tuple(path), **kwargs)


# KubeVirt's objectgraph subresource (v1.6 and later), child by child, in its order.
VOLUME_NODES = (
    _step("datavolume", types=frozenset({"dataVolume"}), children=(_step("pvc"),), instead_if_collected=_step("pvc")),
    _step("pvc", types=frozenset({"persistentVolumeClaim"})),  # memoryDump volumes give no node
    _step("configmap"),
    _step("secret"),
    _step("serviceaccount"),
    _step("userdata"),
    _step("networkdata"),
)
VMI_NODES = (
    _step("accesscredentials"),
    _step("volumes", each=VOLUME_NODES),
    _step("backendstorage"),
    _step("networks", each=(_step("nad"),)),
)
OBJECT_GRAPHS = {
    VM: (
        _step("vmi", children=(_step("pod", pick=_first_launcher),)),
        _step("instancetype"),
        _step("instancetype", "revision"),
        _step("preference"),
        _step("preference", "revision"),
        *VMI_NODES,
    ),
    VMI: (_step("pod", pick=_first_launcher), *VMI_NODES),
}


# fmt: off
def add_links(c: Catalog) -> None:
    c.add_link(VM, named("instancetype", INSTANCETYPES, _matcher("instancetype"),
                         "spec.instancetype (kind: namespaced or cluster, cluster when omitted)", optional=True))
    c.add_link(VM, named("preference", PREFERENCES, _matcher("preference"),
                         "spec.preference (kind: namespaced or cluster, cluster when omitted)", optional=True))
    c.add_link(VM, named("vmi", VMI, _vmi, "the VirtualMachineInstance of the same name, while status.created"))
    c.add_link(VM, parts("volumes", "Volume", VOLUMES, "spec.template.spec.volumes"))
    c.add_link(VM, named("datavolumetemplates", DV, _data_volume_templates,
                         "spec.dataVolumeTemplates[].metadata.name", many=True, missing=DATAVOLUME_GC))
    c.add_link(VM, named("accesscredentials", SECRET, _access_credentials,
                         "spec.template.spec.accessCredentials[]: ssh key secret, else user password secret",
                         many=True))
    c.add_link(VM, parts("networks", "Network", NETWORKS, "spec.template.spec.networks"))
    for kind in (VM, VMI):
        c.add_link(kind, selected("backendstorage", PVC, _labelled(PVC, "persistent-state-for"),
                                  "the newest PVC labelled persistent-state-for=<name> (persistent TPM or EFI)",
                                  many=False, pick=_newest_live, present=_needs_backend_storage,
                                  join=by_name(lambda o: _dig(o, "metadata", "labels", "persistent-state-for"))))
    c.add_link(VM, selected("ipamclaims", "IPAMClaim", _labelled("IPAMClaim", "vm.kubevirt.io/name"),
                            "IPAMClaims labelled vm.kubevirt.io/name=<vm>",
                            join=by_name(lambda o: _dig(o, "metadata", "labels", "vm.kubevirt.io/name"))))
    c.add_link(VM, selected("snapshots", SNAPSHOT, _by_source(SNAPSHOT),
                            "VirtualMachineSnapshots whose spec.source is this VM", join=SOURCE_JOIN))
    c.add_link(VM, selected("exports", EXPORT, _by_source(EXPORT),
                            "VirtualMachineExports whose spec.source is this VM", join=SOURCE_JOIN))
    c.add_link(VM, selected("migrations", VMIM, _migrations,
                            "VirtualMachineInstanceMigrations whose spec.vmiName is this VM's", join=MIGRATION_JOIN))
    c.add_link(VM, selected("services", "Service", _services,
                            "Services whose spec.selector matches spec.template.metadata.labels", join=SERVICE_JOIN))

    # instancetypes and preferences, as reached from a VM: the revision it pinned
    for kinds, which in ((INSTANCETYPES, "instancetype"), (PREFERENCES, "preference")):
        for kind in kinds:
            c.add_link(kind, named("revision", "ControllerRevision", _pinned,
                                   f"the VM's status.{which}Ref.controllerRevisionRef.name, else "
                                   f"spec.{which}.revisionName (only when reached from a VM)", via=(VM, which)))

    c.add_link(VMI, selected("pod", "Pod", _launcher_pod,
                             "the virt-launcher Pod owned by this VMI (kubevirt.io/domain annotation as fallback)",
                             many=False, pick=_current_pod, join=LAUNCHER_JOIN))
    c.add_link(VMI, named("node", "Node", field("Node", "status", "nodeName", cluster=True), "status.nodeName"))
    c.add_link(VMI, named("vm", VM, owner(VM), "the VirtualMachine in metadata.ownerReferences"))
    c.add_link(VMI, selected("migrations", VMIM, _migrations,
                             "VirtualMachineInstanceMigrations whose spec.vmiName is this VMI", join=MIGRATION_JOIN))
    c.add_link(VMI, parts("volumes", "Volume", VOLUMES, "spec.volumes"))
    c.add_link(VMI, parts("networks", "Network", NETWORKS, "spec.networks"))
    c.add_link(VMI, named("accesscredentials", SECRET, _access_credentials,
                          "spec.accessCredentials[]: ssh key secret, else user password secret", many=True))

    c.add_link("Volume", named("pvc", PVC, lambda e: _ref(PVC, e.namespace, refs.volume_claim(e.obj)),
                               "dataVolume.name, persistentVolumeClaim.claimName or memoryDump.claimName"))
    c.add_link("Volume", named("datavolume", DV, _volume(DV, "dataVolume", "name"), "dataVolume.name",
                               missing=DATAVOLUME_GC))
    c.add_link("Volume", named("configmap", "ConfigMap", _volume("ConfigMap", "configMap", "name"), "configMap.name"))
    c.add_link("Volume", named("secret", SECRET, _volume(SECRET, "secret", "secretName"), "secret.secretName"))
    c.add_link("Volume", named("serviceaccount", "ServiceAccount",
                               _volume("ServiceAccount", "serviceAccount", "serviceAccountName"),
                               "serviceAccount.serviceAccountName"))
    for rel, ref_field in (("userdata", "userDataSecretRef"), ("networkdata", "networkDataSecretRef")):
        c.add_link("Volume", named(rel, SECRET, _cloud_init(ref_field),
                                   f"cloudInitNoCloud/cloudInitConfigDrive {ref_field}.name"))
    c.add_link("Network", named("nad", "NetworkAttachmentDefinition", _nad,
                                "multus.networkName: ns/name, or name in the VM's namespace", optional=True))

    c.add_link(DV, named("pvc", PVC, lambda e: _ref(PVC, e.namespace, e.name), "the PVC of the same name"))
    c.add_link(DV, named("sourcepvc", PVC, namespaced_field(PVC, "spec", "source", "pvc"), "spec.source.pvc (a clone)"))
    c.add_link(DV, named("datasource", "DataSource", _kind_at("DataSource", "spec", "sourceRef"),
                         "spec.sourceRef of kind DataSource"))
    c.add_link(DV, named("storageclass", "StorageClass",
                         lambda e: _ref("StorageClass", None, _dig(e.obj, "spec", "storage", "storageClassName")
                                        or _dig(e.obj, "spec", "pvc", "storageClassName")),
                         "spec.storage.storageClassName or spec.pvc.storageClassName"))
    c.add_link(DV, referrers("vms", VM, "VirtualMachines that name this DataVolume"))

    c.add_link("DataSource", named("pvc", PVC, namespaced_field(PVC, "spec", "source", "pvc"), "spec.source.pvc"))
    c.add_link(SNAPSHOT, named("vm", VM, _kind_at(VM, "spec", "source"),
                               "spec.source of kind VirtualMachine"))
    c.add_link(EXPORT, named("vm", VM, _kind_at(VM, "spec", "source"),
                             "spec.source of kind VirtualMachine"))
    c.add_link(VMIM, named("vmi", VMI, field(VMI, "spec", "vmiName"), "spec.vmiName"))
# fmt: on


VOLUMES = _sub_entities("Volume", "volumes", "disks", "disk")
NETWORKS = _sub_entities("Network", "networks", "interfaces", "interface")


def add_graphs(c: Catalog) -> None:
    for kind, steps in OBJECT_GRAPHS.items():
        c.add_graph(kind, steps)
        c.add_link(kind, Link("objectgraph", ("ObjectGraph",), False, Computed("objectgraph"),
                              "KubeVirt's object graph of this object (GET .../objectgraph)"))  # fmt: skip
