"""KubeVirt, CDI, instancetype, snapshot and export kinds, and their links."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from gateway.catalog import refs
from gateway.catalog.declare import (
    by_name,
    label_items,
    named,
    parts,
    referrers,
    selected,
)
from gateway.catalog.kinds import Kind, Object, ObjectRef
from gateway.catalog.links import Catalog, Computed, Entity, GraphStep, Join, Link, MissingProbe, Query
from gateway.catalog.selectors import LabelSelector, SelectorError, selector_from_object

INSTANCETYPE = "instancetype.kubevirt.io"
SNAPSHOTS = "snapshot.kubevirt.io"
CDI = "cdi.kubevirt.io"
# versions and short names as KubeVirt's CRDs (pkg/virt-operator/resource/generate/components/crds.go)
# and CDI's (+kubebuilder:resource markers) declare them
# fmt: off
KINDS = (
    Kind("VirtualMachine", "kubevirt.io", "v1", "virtualmachines", "vms", True, short_names=("vm", "vms")),
    Kind("VirtualMachineInstance", "kubevirt.io", "v1", "virtualmachineinstances", "vmis", True,
         short_names=("vmi", "vmis")),
    Kind("VirtualMachineInstanceMigration", "kubevirt.io", "v1", "virtualmachineinstancemigrations", "migrations",
         True, short_names=("vmim", "vmims")),
    Kind("VirtualMachineInstanceReplicaSet", "kubevirt.io", "v1", "virtualmachineinstancereplicasets",
         "vmireplicasets", True, short_names=("vmirs", "vmirss")),
    Kind("VirtualMachinePool", "pool.kubevirt.io", "v1beta1", "virtualmachinepools", "pools", True,
         short_names=("vmpool", "vmpools")),
    Kind("DataVolume", CDI, "v1beta1", "datavolumes", "datavolumes", True, dependency="storage",
         short_names=("dv", "dvs")),
    Kind("DataSource", CDI, "v1beta1", "datasources", "datasources", True, short_names=("das",)),
    Kind("DataImportCron", CDI, "v1beta1", "dataimportcrons", "dataimportcrons", True, short_names=("dic", "dics")),
    Kind("VirtualMachineInstancetype", INSTANCETYPE, "v1beta1", "virtualmachineinstancetypes", "instancetypes", True,
         dependency="config", short_names=("vminstancetype", "vminstancetypes", "vmf", "vmfs")),
    Kind("VirtualMachineClusterInstancetype", INSTANCETYPE, "v1beta1", "virtualmachineclusterinstancetypes",
         "clusterinstancetypes", False, dependency="config",
         short_names=("vmclusterinstancetype", "vmclusterinstancetypes", "vmcf", "vmcfs")),
    Kind("VirtualMachinePreference", INSTANCETYPE, "v1beta1", "virtualmachinepreferences", "preferences", True,
         dependency="config", short_names=("vmpref", "vmprefs", "vmp", "vmps")),
    Kind("VirtualMachineClusterPreference", INSTANCETYPE, "v1beta1", "virtualmachineclusterpreferences",
         "clusterpreferences", False, dependency="config", short_names=("vmcp", "vmcps")),
    Kind("VirtualMachineSnapshot", SNAPSHOTS, "v1beta1", "virtualmachinesnapshots", "vmsnapshots", True,
         short_names=("vmsnapshot", "vmsnapshots")),
    Kind("VirtualMachineSnapshotContent", SNAPSHOTS, "v1beta1", "virtualmachinesnapshotcontents",
         "vmsnapshotcontents", True, short_names=("vmsnapshotcontent", "vmsnapshotcontents")),
    Kind("VirtualMachineRestore", SNAPSHOTS, "v1beta1", "virtualmachinerestores", "vmrestores", True,
         short_names=("vmrestore", "vmrestores")),
    Kind("VirtualMachineExport", "export.kubevirt.io", "v1beta1", "virtualmachineexports", "vmexports", True,
         short_names=("vmexport", "vmexports")),
    Kind("VirtualMachineClone", "clone.kubevirt.io", "v1beta1", "virtualmachineclones", "clones", True,
         short_names=("vmclone", "vmclones")),
    Kind("MigrationPolicy", "migrations.kubevirt.io", "v1alpha1", "migrationpolicies", "migrationpolicies", False),
    # Sub-entities of a VM or VMI: served under their owner, never listed on their own.
    Kind("Volume", "", "", "", "volumes", True, part=True),
    Kind("Network", "", "", "", "networks", True, part=True),
    Kind("ObjectGraph", "", "", "", "objectgraph", True, part=True),
)
# fmt: on

VM, VMI, VMIM = "VirtualMachine", "VirtualMachineInstance", "VirtualMachineInstanceMigration"
DV, PVC, SECRET = "DataVolume", "PersistentVolumeClaim", "Secret"
SNAPSHOT, EXPORT = "VirtualMachineSnapshot", "VirtualMachineExport"
CONTENT, RESTORE, CLONE = "VirtualMachineSnapshotContent", "VirtualMachineRestore", "VirtualMachineClone"
POOL, VMIRS = "VirtualMachinePool", "VirtualMachineInstanceReplicaSet"
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


def _migrations(e: Entity) -> Query:
    return Query(VMIM, e.namespace, where=lambda m: _dig(m, "spec", "vmiName") == e.name)


def _pod_labels(e: Entity) -> Any:
    """The labels a VM's or VMI's launcher pod gets: what a Service selects."""
    return (
        _dig(e.obj, "spec", "template", "metadata", "labels")
        if e.kind.name == VM
        else _dig(e.obj, "metadata", "labels")
    )


def _services(e: Entity) -> Query:
    labels = _pod_labels(e)
    return Query("Service", e.namespace, where=lambda s: refs.labels_subset(_dig(s, "spec", "selector"), labels))


def _selected_by(kind: str, *path: str, owner_kind: str | None = None) -> Callable[[Entity], Query | None]:
    """Objects of `kind` its `metav1.LabelSelector` at `path` matches (and that it owns, if `owner_kind`)."""

    def query(e: Entity) -> Query | None:
        try:
            selector = selector_from_object(_dig(e.obj, *path))
        except SelectorError:
            return None  # the API server would have refused it; nothing matches
        if not selector:
            return None  # an empty selector selects nothing here (KubeVirt requires one)
        name = e.name
        owned = (lambda o: refs.owner(o, owner_kind) == name) if owner_kind else None
        return Query(kind, e.namespace, selector, where=owned)

    return query


def _refers_to_vm(kind: str, *path: str) -> Callable[[Entity], Query]:
    """Objects of `kind` whose TypedLocalObjectReference at `path` names this VM."""

    def query(e: Entity) -> Query:
        def names_vm(o: Object) -> bool:
            ref = _dig(o, *path)
            return bool(_dig(ref, "kind") == VM and _dig(ref, "name") == e.name)

        return Query(kind, e.namespace, where=names_vm)

    return query


def _policy_vmis(e: Entity) -> Query | None:
    # KubeVirt matches both selectors; the namespace one needs the Namespace's labels (see decisions.md)
    selector = _dig(e.obj, "spec", "selectors", "virtualMachineInstanceSelector")
    if not isinstance(selector, dict) or not selector:
        return None
    return Query(VMI, None, LabelSelector.from_labels({str(k): str(v) for k, v in selector.items()}))


CDI_SOURCES = ("http", "s3", "gcs", "registry", "imageio", "vddk")  # DataVolumeSource's types that name secrets


def _cdi_source_field(
    kind: str, field_name: str, types: tuple[str, ...] = CDI_SOURCES
) -> Callable[[Entity], list[ObjectRef]]:
    """`spec.source.<type>.<field>` of a DataVolume (a name, in the DataVolume's namespace)."""
    return lambda e: [r for t in types for r in _ref(kind, e.namespace, _dig(e.obj, "spec", "source", t, field_name))]


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


BACKEND_STORAGE = "persistent-state-for"  # KubeVirt's backendstorage.PVCPrefix
CBT_NEEDS_STORAGE = ("Enabled", "Initializing")  # cbt.HasCBTStateEnabled


def _needs_backend_storage(e: Entity) -> bool:
    """KubeVirt's IsBackendStorageNeeded: a persistent TPM or EFI, or changed block tracking that is
    enabled or initializing (status.changedBlockTracking.state), keeps state in a backend PVC."""
    domain = _dig(_template_spec(e), "domain")
    return (
        _dig(domain, "devices", "tpm", "persistent") is True
        or _dig(domain, "firmware", "bootloader", "efi", "persistent") is True
        or _dig(e.obj, "status", "changedBlockTracking", "state") in CBT_NEEDS_STORAGE
    )


def _vm_backend_pvc(e: Entity, found: list[Object]) -> list[Object]:
    """KubeVirt's choice for a VM (storage/utils getBackendPVCName): the one labelled PVC as it is,
    else the newest one not being deleted."""
    if len(found) <= 1:
        return found
    live = [o for o in found if not _dig(o, "metadata", "deletionTimestamp")]
    newest = sorted(live, key=lambda o: str(_dig(o, "metadata", "creationTimestamp") or ""), reverse=True)
    return newest[:1]


def _vmi_backend_pvc(e: Entity) -> list[ObjectRef]:
    """KubeVirt's CurrentPVCName for a VMI: the volume status named persistent-state-for...,
    its persistentVolumeClaimInfo.claimName."""
    if not _needs_backend_storage(e):
        return []
    for status in refs.maps(_dig(e.obj, "status", "volumeStatus")):
        if str(status.get("name", "")).startswith(BACKEND_STORAGE):
            return _ref(PVC, e.namespace, _dig(status, "persistentVolumeClaimInfo", "claimName"))
    return []


HOOK_SIDECARS = "hooks.kubevirt.io/hookSidecars"  # KubeVirt's hooks.HookSidecarListAnnotationName


def _hook_config_maps(e: Entity) -> list[ObjectRef]:
    """ConfigMaps of hook sidecars: the annotation is a JSON list of {image, args, configMap: {name, ...}}."""
    where = ("spec", "template", "metadata", "annotations") if e.kind.name == VM else ("metadata", "annotations")
    raw = _dig(e.obj, *where, HOOK_SIDECARS)
    try:
        sidecars = json.loads(raw) if isinstance(raw, str) else []
    except ValueError:
        return []  # KubeVirt refuses such a VMI; here it simply names nothing
    return [r for sc in refs.maps(sidecars) for r in _ref("ConfigMap", e.namespace, _dig(sc, "configMap", "name"))]


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
    parent=lambda e: label_items(_pod_labels(e)),
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
    _step("configmap", types=frozenset({"configMap"})),  # KubeVirt adds no node for sysprep's
    _step("secret", types=frozenset({"secret"})),
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
def add_links(c: Catalog, declared_here: Callable[[str], None]) -> None:
    """The links that compute; `declared_here(kind)` puts that kind's links of builtin.yaml in their place."""
    c.add_link(VM, named("instancetype", INSTANCETYPES, _matcher("instancetype"),
                         "spec.instancetype (kind: namespaced or cluster, cluster when omitted)", optional=True))
    c.add_link(VM, named("preference", PREFERENCES, _matcher("preference"),
                         "spec.preference (kind: namespaced or cluster, cluster when omitted)", optional=True))
    c.add_link(VM, named("vmi", VMI, _vmi, "the VirtualMachineInstance of the same name, while status.created"))
    c.add_link(VM, parts("volumes", "Volume", VOLUMES, "spec.template.spec.volumes"))
    c.add_link(VM, named("datavolumetemplates", DV, _data_volume_templates,
                         "spec.dataVolumeTemplates[].metadata.name", many=True, missing=DATAVOLUME_GC))
    c.add_link(VM, parts("networks", "Network", NETWORKS, "spec.template.spec.networks"))
    c.add_link(VM, selected("backendstorage", PVC, _labelled(PVC, BACKEND_STORAGE),
                            "the PVC labelled persistent-state-for=<vm> (the newest live one of several), when a "
                            "persistent TPM or EFI or changed block tracking needs one",
                            many=False, pick=_vm_backend_pvc, present=_needs_backend_storage, absent_ok=True,
                            join=by_name(lambda o: _dig(o, "metadata", "labels", BACKEND_STORAGE))))
    c.add_link(VMI, named("backendstorage", PVC, _vmi_backend_pvc,
                          "status.volumeStatus[persistent-state-for...].persistentVolumeClaimInfo.claimName, when "
                          "a persistent TPM or EFI or changed block tracking needs one"))
    c.add_link(VM, selected("ipamclaims", "IPAMClaim", _labelled("IPAMClaim", "vm.kubevirt.io/name"),
                            "IPAMClaims labelled vm.kubevirt.io/name=<vm>",
                            join=by_name(lambda o: _dig(o, "metadata", "labels", "vm.kubevirt.io/name"))))
    c.add_link(VM, selected("snapshots", SNAPSHOT, _refers_to_vm(SNAPSHOT, "spec", "source"),
                            "VirtualMachineSnapshots whose spec.source is this VM", join=SOURCE_JOIN))
    c.add_link(VM, selected("exports", EXPORT, _refers_to_vm(EXPORT, "spec", "source"),
                            "VirtualMachineExports whose spec.source is this VM", join=SOURCE_JOIN))
    c.add_link(VM, selected("clones", CLONE, _refers_to_vm(CLONE, "spec", "source"),
                            "VirtualMachineClones whose spec.source is this VM", join=SOURCE_JOIN))
    c.add_link(VM, selected("restores", RESTORE, _refers_to_vm(RESTORE, "spec", "target"),
                            "VirtualMachineRestores whose spec.target is this VM",
                            join=by_name(lambda o: _dig(o, "spec", "target", "name"))))
    c.add_link(VM, selected("migrations", VMIM, _migrations,
                            "VirtualMachineInstanceMigrations whose spec.vmiName is this VM's", join=MIGRATION_JOIN))
    declared_here(VM)  # pool
    for kind, where in ((VM, "spec.template.metadata.labels"), (VMI, "metadata.labels")):
        c.add_link(kind, named("accesscredentials", SECRET, _access_credentials,
                               f"{'spec.template.spec' if kind == VM else 'spec'}.accessCredentials[]: "
                               "sshPublicKey.source.secret.secretName, else userPassword.source.secret.secretName",
                               many=True))
        c.add_link(kind, selected("services", "Service", _services,
                                  f"Services whose spec.selector matches {where}", join=SERVICE_JOIN))
        c.add_link(kind, named("hookconfigmaps", "ConfigMap", _hook_config_maps,
                               "the configMap.name of each sidecar in the hooks.kubevirt.io/hookSidecars annotation",
                               many=True))

    # instancetypes and preferences, as reached from a VM: the revision it pinned
    for kinds, which in ((INSTANCETYPES, "instancetype"), (PREFERENCES, "preference")):
        for kind in kinds:
            c.add_link(kind, named("revision", "ControllerRevision", _pinned,
                                   f"the VM's status.{which}Ref.controllerRevisionRef.name, else "
                                   f"spec.{which}.revisionName (only when reached from a VM)", via=(VM, which)))
            c.add_link(kind, referrers("vms", VM, f"VirtualMachines whose spec.{which} names this"))

    c.add_link(VMI, selected("pod", "Pod", _launcher_pod,
                             "the virt-launcher Pod owned by this VMI (kubevirt.io/domain annotation as fallback)",
                             many=False, pick=_current_pod, join=LAUNCHER_JOIN))
    declared_here(VMI)  # node, vm, replicaset
    c.add_link(VMI, selected("migrations", VMIM, _migrations,
                             "VirtualMachineInstanceMigrations whose spec.vmiName is this VMI", join=MIGRATION_JOIN))
    c.add_link(VMI, parts("volumes", "Volume", VOLUMES, "spec.volumes"))
    c.add_link(VMI, parts("networks", "Network", NETWORKS, "spec.networks"))

    c.add_link("Volume", named("pvc", PVC, lambda e: _ref(PVC, e.namespace, refs.volume_claim(e.obj)),
                               "dataVolume.name, persistentVolumeClaim.claimName, memoryDump.claimName or "
                               "ephemeral.persistentVolumeClaim.claimName"))
    c.add_link("Volume", named("datavolume", DV, _volume(DV, "dataVolume", "name"), "dataVolume.name",
                               missing=DATAVOLUME_GC))
    c.add_link("Volume", named("configmap", "ConfigMap",
                               lambda e: _volume("ConfigMap", "configMap", "name")(e)
                               + _volume("ConfigMap", "sysprep", "configMap", "name")(e),
                               "configMap.name, or sysprep.configMap.name"))
    c.add_link("Volume", named("secret", SECRET,
                               lambda e: _volume(SECRET, "secret", "secretName")(e)
                               + _volume(SECRET, "sysprep", "secret", "name")(e),
                               "secret.secretName, or sysprep.secret.name"))
    c.add_link("Volume", named("serviceaccount", "ServiceAccount",
                               _volume("ServiceAccount", "serviceAccount", "serviceAccountName"),
                               "serviceAccount.serviceAccountName"))
    # the Go field is UserDataSecretRef; its JSON name is secretRef
    c.add_link("Volume", named("userdata", SECRET, _cloud_init("secretRef"),
                               "cloudInitNoCloud/cloudInitConfigDrive secretRef.name (Go: UserDataSecretRef)"))
    c.add_link("Volume", named("networkdata", SECRET, _cloud_init("networkDataSecretRef"),
                               "cloudInitNoCloud/cloudInitConfigDrive networkDataSecretRef.name"))
    c.add_link("Network", named("nad", "NetworkAttachmentDefinition", _nad,
                                "multus.networkName: ns/name, or name in the VM's namespace", optional=True,
                                across=True))

    declared_here(DV)  # pvc, sourcepvc, sourcesnapshot, datasource, storageclass
    c.add_link(DV, referrers("vms", VM, "VirtualMachines that name this DataVolume"))
    c.add_link(DV, referrers("vmis", VMI, "VirtualMachineInstances that name this DataVolume"))
    c.add_link(DV, named("secret", SECRET, _cdi_source_field(SECRET, "secretRef"),
                         "spec.source.{http,s3,gcs,registry,imageio,vddk}.secretRef", optional=True))
    c.add_link(DV, named("certconfigmap", "ConfigMap", _cdi_source_field("ConfigMap", "certConfigMap"),
                         "spec.source.{http,s3,registry,imageio,vddk}.certConfigMap", optional=True))
    c.add_link(DV, named("extraargs", "ConfigMap", _cdi_source_field("ConfigMap", "extraArgs", ("vddk",)),
                         "spec.source.vddk.extraArgs (a ConfigMap of extra VDDK arguments)", optional=True))

    declared_here("DataImportCron")  # datasource
    c.add_link("DataImportCron", selected("pvcs", PVC, _labelled(PVC, "cdi.kubevirt.io/dataImportCron"),
                                          "PVCs labelled cdi.kubevirt.io/dataImportCron=<name>: its imports",
                                          join=by_name(lambda o: _dig(o, "metadata", "labels",
                                                                      "cdi.kubevirt.io/dataImportCron"))))

    c.add_link(POOL, selected("vms", VM, _selected_by(VM, "spec", "selector", owner_kind=POOL),
                              "VirtualMachines it owns that spec.selector matches",
                              join=by_name(lambda o: refs.owner(o, POOL))))
    c.add_link("MigrationPolicy", selected("vmis", VMI, _policy_vmis,
                                           "VirtualMachineInstances spec.selectors.virtualMachineInstanceSelector "
                                           "matches, in any namespace"))
# fmt: on


VOLUMES = _sub_entities("Volume", "volumes", "disks", device_key="disk")  # device_key: our own field
NETWORKS = _sub_entities("Network", "networks", "interfaces", device_key="interface")


def add_graphs(c: Catalog) -> None:
    for kind, steps in OBJECT_GRAPHS.items():
        c.add_graph(kind, steps)
        c.add_link(kind, Link("objectgraph", ("ObjectGraph",), False, Computed("objectgraph"),
                              "KubeVirt's object graph of this object (GET .../objectgraph)"))  # fmt: skip
