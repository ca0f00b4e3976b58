"""Where each field the catalogue reads comes from: the upstream Go field and its JSON tag.

Every JSON name a catalogue declaration reads is recorded here once, with the Go struct fields
that serialize under that name, read from the upstream sources (KubeVirt at d923fdb, CDI at
c07cdb6, Kubernetes core/v1, external-snapshotter v1). `tests/catalog/test_upstream.py` fails
when a declaration reads a name with no record: a Go field name (cloud-init's `UserDataSecretRef`,
whose JSON tag is `secretRef`) cannot slip in unseen. Pure data.
"""

from __future__ import annotations

from dataclasses import dataclass

KUBEVIRT = "kubevirt/kubevirt@d923fdb staging/src/kubevirt.io/api"
CDI = "kubevirt/containerized-data-importer@c07cdb6 staging/src/kubevirt.io/containerized-data-importer-api"
KUBERNETES = "kubernetes k8s.io/api core/v1, apimachinery meta/v1"
SNAPSHOTTER = "kubernetes-csi/external-snapshotter client/apis/volumesnapshot/v1"


@dataclass(frozen=True, slots=True)
class Upstream:
    json: str
    """The JSON name, as the tag gives it (`json:"secretRef,omitempty"` is `secretRef`)."""
    go: str
    """The Go struct fields serialized under that name."""
    source: str


FIELDS: tuple[Upstream, ...] = (
    # object metadata and the common envelope
    Upstream("metadata", "ObjectMeta (TypeMeta/ObjectMeta on every kind)", KUBERNETES),
    Upstream("name", "ObjectMeta.Name, LocalObjectReference.Name, TypedLocalObjectReference.Name, "
             "DataVolumeSource.Name, MultusNetwork's sibling Network.Name, ControllerRevisionRef.Name, "
             "DataVolumeSourcePVC.Name, DataSourceRefSourceDataSource.Name, Matcher.Name", KUBEVIRT),
    Upstream("namespace", "ObjectMeta.Namespace, DataVolumeSourcePVC.Namespace, ObjectReference.Namespace", CDI),
    Upstream("labels", "ObjectMeta.Labels", KUBERNETES),
    Upstream("annotations", "ObjectMeta.Annotations", KUBERNETES),
    Upstream("ownerReferences", "ObjectMeta.OwnerReferences", KUBERNETES),
    # what declared links' `ref` and `owner` resolvers read (apimachinery meta/v1 types.go)
    Upstream("apiVersion", "TypeMeta.APIVersion, OwnerReference.APIVersion, ObjectReference.APIVersion", KUBERNETES),
    Upstream("controller", "OwnerReference.Controller", KUBERNETES),
    Upstream("creationTimestamp", "ObjectMeta.CreationTimestamp", KUBERNETES),
    Upstream("deletionTimestamp", "ObjectMeta.DeletionTimestamp", KUBERNETES),
    Upstream("kind", "TypedLocalObjectReference.Kind, InstancetypeMatcher.Kind, DataVolumeSourceRef.Kind", KUBEVIRT),
    Upstream("spec", "every kind's Spec", KUBERNETES),
    Upstream("status", "every kind's Status", KUBERNETES),
    # VirtualMachine and VirtualMachineInstance (core/v1 types.go, schema.go)
    Upstream("template", "VirtualMachineSpec.Template, VirtualMachinePoolSpec's VirtualMachineTemplateSpec", KUBEVIRT),
    Upstream("dataVolumeTemplates", "VirtualMachineSpec.DataVolumeTemplates", KUBEVIRT),
    Upstream("instancetype", "VirtualMachineSpec.Instancetype (InstancetypeMatcher)", KUBEVIRT),
    Upstream("preference", "VirtualMachineSpec.Preference (PreferenceMatcher)", KUBEVIRT),
    Upstream("revisionName", "InstancetypeMatcher.RevisionName, PreferenceMatcher.RevisionName", KUBEVIRT),
    Upstream("instancetypeRef", "VirtualMachineStatus.InstancetypeRef (InstancetypeStatusRef)", KUBEVIRT),
    Upstream("preferenceRef", "VirtualMachineStatus.PreferenceRef (InstancetypeStatusRef)", KUBEVIRT),
    Upstream("controllerRevisionRef", "InstancetypeStatusRef.ControllerRevisionRef", KUBEVIRT),
    Upstream("created", "VirtualMachineStatus.Created", KUBEVIRT),
    Upstream("nodeName", "VirtualMachineInstanceStatus.NodeName, PodSpec.NodeName", KUBEVIRT),
    Upstream("volumeStatus", "VirtualMachineInstanceStatus.VolumeStatus", KUBEVIRT),
    Upstream("persistentVolumeClaimInfo", "VolumeStatus.PersistentVolumeClaimInfo", KUBEVIRT),
    Upstream("changedBlockTracking",
             "VirtualMachineStatus/VirtualMachineInstanceStatus.ChangedBlockTracking", KUBEVIRT),
    Upstream("state", "ChangedBlockTrackingStatus.State", KUBEVIRT),
    Upstream("domain", "VirtualMachineInstanceSpec.Domain", KUBEVIRT),
    Upstream("devices", "DomainSpec.Devices", KUBEVIRT),
    Upstream("disks", "Devices.Disks", KUBEVIRT),
    Upstream("interfaces", "Devices.Interfaces", KUBEVIRT),
    Upstream("tpm", "Devices.TPM", KUBEVIRT),
    Upstream("persistent", "TPMDevice.Persistent, EFI.Persistent", KUBEVIRT),
    Upstream("firmware", "DomainSpec.Firmware", KUBEVIRT),
    Upstream("bootloader", "Firmware.Bootloader", KUBEVIRT),
    Upstream("efi", "Bootloader.EFI", KUBEVIRT),
    Upstream("volumes", "VirtualMachineInstanceSpec.Volumes, PodSpec.Volumes", KUBEVIRT),
    Upstream("networks", "VirtualMachineInstanceSpec.Networks", KUBEVIRT),
    Upstream("networkName", "MultusNetwork.NetworkName", KUBEVIRT),
    Upstream("accessCredentials", "VirtualMachineInstanceSpec.AccessCredentials", KUBEVIRT),
    Upstream("sshPublicKey", "AccessCredential.SSHPublicKey", KUBEVIRT),
    Upstream("userPassword", "AccessCredential.UserPassword", KUBEVIRT),
    Upstream("source",
             "SSHPublicKeyAccessCredential.Source, UserPasswordAccessCredential.Source, DataVolumeSpec.Source, "
             "DataSourceSpec.Source, VirtualMachineSnapshotSpec.Source, VirtualMachineExportSpec.Source, "
             "VirtualMachineCloneSpec.Source, VolumeSnapshotSpec.Source", KUBEVIRT),
    # VolumeSource (core/v1 schema.go): each source type and the names it carries
    Upstream("dataVolume", "VolumeSource.DataVolume", KUBEVIRT),
    Upstream("persistentVolumeClaim",
             "VolumeSource.PersistentVolumeClaim, EphemeralVolumeSource.PersistentVolumeClaim, "
             "k8s VolumeSource.PersistentVolumeClaim", KUBEVIRT),
    Upstream("claimName", "k8s PersistentVolumeClaimVolumeSource.ClaimName (inlined in KubeVirt's, and in "
             "MemoryDumpVolumeSource), PersistentVolumeClaimInfo.ClaimName", KUBERNETES),
    Upstream("configMap", "VolumeSource.ConfigMap, SysprepSource.ConfigMap", KUBEVIRT),
    Upstream("secret", "VolumeSource.Secret, SysprepSource.Secret, SSHPublicKeyAccessCredentialSource.Secret, "
             "UserPasswordAccessCredentialSource.Secret", KUBEVIRT),
    Upstream("secretName", "SecretVolumeSource.SecretName, AccessCredentialSecretSource.SecretName", KUBEVIRT),
    Upstream("serviceAccount", "VolumeSource.ServiceAccount", KUBEVIRT),
    Upstream("serviceAccountName",
             "ServiceAccountVolumeSource.ServiceAccountName, PodSpec.ServiceAccountName", KUBEVIRT),
    Upstream("sysprep", "VolumeSource.Sysprep", KUBEVIRT),
    Upstream("secretRef", "CloudInitNoCloudSource.UserDataSecretRef, CloudInitConfigDriveSource.UserDataSecretRef; "
             "DataVolumeSourceHTTP/S3/GCS/Registry/ImageIO/VDDK.SecretRef", KUBEVIRT),
    Upstream("networkDataSecretRef", "CloudInitNoCloudSource.NetworkDataSecretRef, "
             "CloudInitConfigDriveSource.NetworkDataSecretRef", KUBEVIRT),
    # CDI (core/v1beta1 types.go)
    Upstream("pvc", "DataVolumeSource.PVC, DataSourceSource.PVC, DataVolumeSpec.PVC", CDI),
    Upstream("snapshot", "DataVolumeSource.Snapshot, DataSourceSource.Snapshot", CDI),
    Upstream("dataSource", "DataSourceSource.DataSource", CDI),
    Upstream("sourceRef", "DataVolumeSpec.SourceRef", CDI),
    Upstream("storage", "DataVolumeSpec.Storage", CDI),
    Upstream("storageClassName", "StorageSpec.StorageClassName, PersistentVolumeClaimSpec.StorageClassName", CDI),
    Upstream("certConfigMap", "DataVolumeSourceHTTP/S3/Registry/ImageIO/VDDK.CertConfigMap", CDI),
    Upstream("extraArgs", "DataVolumeSourceVDDK.ExtraArgs (a ConfigMap name)", CDI),
    Upstream("managedDataSource", "DataImportCronSpec.ManagedDataSource", CDI),
    # snapshots, restores, exports, clones, pools, migrations
    Upstream("virtualMachineSnapshotContentName", "VirtualMachineSnapshotStatus.VirtualMachineSnapshotContentName",
             KUBEVIRT),
    Upstream("virtualMachineSnapshotName", "VirtualMachineSnapshotContentSpec.VirtualMachineSnapshotName, "
             "VirtualMachineRestoreSpec.VirtualMachineSnapshotName", KUBEVIRT),
    Upstream("volumeBackups", "VirtualMachineSnapshotContentSpec.VolumeBackups", KUBEVIRT),
    Upstream("volumeSnapshotName", "VolumeBackup.VolumeSnapshotName", KUBEVIRT),
    Upstream("target", "VirtualMachineRestoreSpec.Target, VirtualMachineCloneSpec.Target", KUBEVIRT),
    Upstream("tokenSecretRef", "VirtualMachineExportSpec.TokenSecretRef", KUBEVIRT),
    Upstream("selector", "VirtualMachinePoolSpec.Selector, VirtualMachineInstanceReplicaSetSpec.Selector, "
             "k8s ServiceSpec.Selector", KUBEVIRT),
    Upstream("selectors", "MigrationPolicySpec.Selectors", KUBEVIRT),
    Upstream("virtualMachineInstanceSelector", "Selectors.VirtualMachineInstanceSelector", KUBEVIRT),
    Upstream("vmiName", "VirtualMachineInstanceMigrationSpec.VMIName", KUBEVIRT),
    # Kubernetes core and storage
    Upstream("volumeName", "PersistentVolumeClaimSpec.VolumeName", KUBERNETES),
    Upstream("claimRef", "PersistentVolumeSpec.ClaimRef", KUBERNETES),
    Upstream("persistentVolumeClaimName", "VolumeSnapshotSource.PersistentVolumeClaimName", SNAPSHOTTER),
)  # fmt: skip

BY_JSON = {f.json: f for f in FIELDS}
