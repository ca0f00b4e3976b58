"""The API resources the emulator serves, as a real cluster with KubeVirt and CDI serves them."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Resource:
    group: str
    version: str
    kind: str
    plural: str
    namespaced: bool
    short_names: tuple[str, ...] = ()
    verbs: tuple[str, ...] = ("get", "list", "watch")

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def singular(self) -> str:
        return self.kind.lower()


RESOURCES: tuple[Resource, ...] = (
    Resource("", "v1", "Namespace", "namespaces", False, ("ns",)),
    Resource("", "v1", "Node", "nodes", False, ("no",)),
    Resource("", "v1", "PersistentVolumeClaim", "persistentvolumeclaims", True, ("pvc",)),
    Resource("", "v1", "PersistentVolume", "persistentvolumes", False, ("pv",)),
    Resource("", "v1", "ConfigMap", "configmaps", True, ("cm",)),
    Resource("", "v1", "Secret", "secrets", True),
    Resource("", "v1", "ServiceAccount", "serviceaccounts", True, ("sa",)),
    Resource("", "v1", "Pod", "pods", True, ("po",)),
    Resource("", "v1", "Service", "services", True, ("svc",)),
    Resource("apps", "v1", "ControllerRevision", "controllerrevisions", True),
    Resource("storage.k8s.io", "v1", "StorageClass", "storageclasses", False, ("sc",)),
    Resource("kubevirt.io", "v1", "VirtualMachine", "virtualmachines", True, ("vm", "vms")),
    Resource("kubevirt.io", "v1", "VirtualMachineInstance", "virtualmachineinstances", True, ("vmi", "vmis")),
    Resource(
        "kubevirt.io", "v1", "VirtualMachineInstanceMigration", "virtualmachineinstancemigrations", True,
        ("vmim", "vmims"),
    ),
    Resource("cdi.kubevirt.io", "v1beta1", "DataVolume", "datavolumes", True, ("dv", "dvs")),
    Resource("cdi.kubevirt.io", "v1beta1", "DataSource", "datasources", True, ("das",)),
    Resource(
        "instancetype.kubevirt.io", "v1beta1", "VirtualMachineInstancetype", "virtualmachineinstancetypes", True,
        ("vminstancetype", "vminstancetypes", "vmf", "vmfs"),
    ),
    Resource(
        "instancetype.kubevirt.io", "v1beta1", "VirtualMachineClusterInstancetype",
        "virtualmachineclusterinstancetypes", False,
        ("vmclusterinstancetype", "vmclusterinstancetypes", "vmcf", "vmcfs"),
    ),
    Resource(
        "instancetype.kubevirt.io", "v1beta1", "VirtualMachinePreference", "virtualmachinepreferences", True,
        ("vmpref", "vmprefs", "vmp", "vmps"),
    ),
    Resource(
        "instancetype.kubevirt.io", "v1beta1", "VirtualMachineClusterPreference",
        "virtualmachineclusterpreferences", False, ("vmcp", "vmcps"),
    ),
    Resource(
        "snapshot.kubevirt.io", "v1beta1", "VirtualMachineSnapshot", "virtualmachinesnapshots", True,
        ("vmsnapshot", "vmsnapshots"),
    ),
    Resource(
        "export.kubevirt.io", "v1beta1", "VirtualMachineExport", "virtualmachineexports", True,
        ("vmexport", "vmexports"),
    ),
    Resource("k8s.cni.cncf.io", "v1", "NetworkAttachmentDefinition", "network-attachment-definitions", True,
             ("net-attach-def",)),
    Resource("k8s.cni.cncf.io", "v1alpha1", "IPAMClaim", "ipamclaims", True),
    Resource("snapshot.storage.k8s.io", "v1", "VolumeSnapshot", "volumesnapshots", True, ("vs",)),
    Resource("kubevirt.io", "v1", "VirtualMachineInstanceReplicaSet", "virtualmachineinstancereplicasets", True,
             ("vmirs", "vmirss")),
    Resource("pool.kubevirt.io", "v1beta1", "VirtualMachinePool", "virtualmachinepools", True,
             ("vmpool", "vmpools")),
    Resource("clone.kubevirt.io", "v1beta1", "VirtualMachineClone", "virtualmachineclones", True,
             ("vmclone", "vmclones")),
    Resource("snapshot.kubevirt.io", "v1beta1", "VirtualMachineRestore", "virtualmachinerestores", True,
             ("vmrestore", "vmrestores")),
    Resource("snapshot.kubevirt.io", "v1beta1", "VirtualMachineSnapshotContent", "virtualmachinesnapshotcontents",
             True, ("vmsnapshotcontent", "vmsnapshotcontents")),
    Resource("cdi.kubevirt.io", "v1beta1", "DataImportCron", "dataimportcrons", True, ("dic", "dics")),
    Resource("migrations.kubevirt.io", "v1alpha1", "MigrationPolicy", "migrationpolicies", False),
    Resource("authentication.k8s.io", "v1", "TokenReview", "tokenreviews", False, (), ("create",)),
    Resource("authorization.k8s.io", "v1", "SubjectAccessReview", "subjectaccessreviews", False, (), ("create",)),
)  # fmt: skip


def by_kind(resources: tuple[Resource, ...] = RESOURCES) -> dict[str, Resource]:
    return {r.kind: r for r in resources}
