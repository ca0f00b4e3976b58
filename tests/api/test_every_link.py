"""Every link of the catalogue, followed over HTTP against the demo cluster.

One row per (kind, rel): where to start, what to follow, and the kinds and names that
must come back embedded. A test below fails when the catalogue gains a link without a row.
"""

from __future__ import annotations

import pytest

from gateway.catalog import CATALOG
from tests.api.embedded import embedded, kinds_and_names
from tests.support.gateway import Gateway

FEDORA, RHEL9, WIN11, CIRROS = (f"/namespaces/demo/vms/{n}" for n in ("fedora", "rhel9", "win11", "cirros"))
FEDORA_PV = "pvc-8f6a3c1e-0000-4000-8000-000000001006"
PVC, SECRET, DV, POD, VM = "PersistentVolumeClaim", "Secret", "DataVolume", "Pod", "VirtualMachine"
PODS = {(POD, "virt-launcher-fedora-h7l2d"), (POD, "virt-launcher-fedora-9xq4z")}
VMI, WEB, PROBE = "VirtualMachineInstance", "/namespaces/lab/vms/web-0", "/namespaces/lab/vmis/probe"
ROOT_SNAP = "vmsnapshot-8f6a3c1e-0000-4000-8000-000000001013-volume-rootdisk"
CONTENT = "vmsnapshot-content-8f6a3c1e-0000-4000-8000-000000001013"
CRON = "/namespaces/kubevirt-os-images/dataimportcrons/fedora-image-cron"

# (kind, rel): (start href, follow path, {(kind, name)} embedded at the end of the path)
LINKS: dict[tuple[str, str], tuple[str, str, set[tuple[str, str]]]] = {
    (VM, "instancetype"): (FEDORA, "instancetype", {("VirtualMachineClusterInstancetype", "u1.medium")}),
    (VM, "preference"): (FEDORA, "preference", {("VirtualMachineClusterPreference", "fedora")}),
    (VM, "vmi"): (FEDORA, "vmi", {("VirtualMachineInstance", "fedora")}),
    (VM, "volumes"): (FEDORA, "volumes", {("Volume", "rootdisk"), ("Volume", "cloudinitdisk")}),
    (VM, "datavolumetemplates"): (FEDORA, "datavolumetemplates", {(DV, "fedora-root")}),
    (VM, "accesscredentials"): (FEDORA, "accesscredentials", {(SECRET, "ssh-key")}),
    (VM, "networks"): (FEDORA, "networks", {("Network", "default"), ("Network", "vlan10")}),
    (VM, "backendstorage"): (WIN11, "backendstorage", {(PVC, "persistent-state-for-win11-x2w9v")}),
    (VM, "ipamclaims"): (FEDORA, "ipamclaims", {("IPAMClaim", "fedora.vlan10")}),
    (VM, "snapshots"): (FEDORA, "snapshots", {("VirtualMachineSnapshot", "fedora-snap-1")}),
    (VM, "exports"): (FEDORA, "exports", {("VirtualMachineExport", "fedora-export")}),
    (VM, "migrations"): (
        FEDORA,
        "migrations",
        {("VirtualMachineInstanceMigration", "fedora-migration-x7k2p")},
    ),
    (VM, "services"): (FEDORA, "services", {("Service", "fedora-ssh")}),
    ("VirtualMachineClusterInstancetype", "revision"): (
        FEDORA,
        "instancetype.revision",
        {("ControllerRevision", "fedora-u1.medium-1021-5d0e7a10-0000-4000-8000-000000000301-1")},
    ),
    ("VirtualMachineInstancetype", "revision"): (
        WIN11,
        "instancetype.revision",
        {("ControllerRevision", "win11-win-large-5120-8f6a3c1e-0000-4000-8000-000000003002-1")},
    ),
    ("VirtualMachineClusterPreference", "revision"): (
        FEDORA,
        "preference.revision",
        {("ControllerRevision", "fedora-fedora-1031-5d0e7a10-0000-4000-8000-000000000311-1")},
    ),
    ("VirtualMachinePreference", "revision"): (
        CIRROS,
        "preference.revision",
        {("ControllerRevision", "cirros-cirros-6010-8f6a3c1e-0000-4000-8000-000000004006-1")},
    ),
    ("VirtualMachineInstance", "pod"): (
        "/namespaces/demo/vmis/fedora",
        "pod",
        {(POD, "virt-launcher-fedora-h7l2d")},
    ),
    ("VirtualMachineInstance", "node"): ("/namespaces/demo/vmis/fedora", "node", {("Node", "node01")}),
    ("VirtualMachineInstance", "vm"): ("/namespaces/demo/vmis/fedora", "vm", {(VM, "fedora")}),
    ("VirtualMachineInstance", "migrations"): (
        "/namespaces/demo/vmis/fedora",
        "migrations",
        {("VirtualMachineInstanceMigration", "fedora-migration-x7k2p")},
    ),
    ("VirtualMachineInstance", "accesscredentials"): (
        "/namespaces/demo/vmis/fedora",
        "accesscredentials",
        {(SECRET, "ssh-key")},
    ),
    ("VirtualMachineInstance", "networks"): (
        "/namespaces/demo/vmis/fedora",
        "networks",
        {("Network", "default"), ("Network", "vlan10")},
    ),
    ("VirtualMachineInstance", "backendstorage"): (
        "/namespaces/demo/vmis/rhel9",
        "backendstorage",
        {(PVC, "persistent-state-for-rhel9-q8m2z")},
    ),
    ("VirtualMachineInstance", "volumes"): (
        "/namespaces/demo/vmis/rhel9",
        "volumes",
        {("Volume", "rootdisk"), ("Volume", "tls"), ("Volume", "memorydump")},
    ),
    ("Volume", "pvc"): (RHEL9, "volumes.pvc", {(PVC, "rhel9-root"), (PVC, "rhel9-memory-dump")}),
    ("Volume", "datavolume"): (FEDORA, "volumes.datavolume", {(DV, "fedora-root")}),
    ("Volume", "configmap"): (WIN11, "volumes.configmap", {("ConfigMap", "win11-config")}),
    ("Volume", "secret"): (RHEL9, "volumes.secret", {(SECRET, "rhel9-tls")}),
    ("Volume", "serviceaccount"): (WIN11, "volumes.serviceaccount", {("ServiceAccount", "win11-agent")}),
    ("Volume", "userdata"): (FEDORA, "volumes.userdata", {(SECRET, "fedora-cloudinit")}),
    ("Volume", "networkdata"): (CIRROS, "volumes.networkdata", {(SECRET, "cirros-netdata")}),
    ("Network", "nad"): (FEDORA, "networks.nad", {("NetworkAttachmentDefinition", "vlan10")}),
    (DV, "pvc"): ("/namespaces/demo/datavolumes/fedora-root", "pvc", {(PVC, "fedora-root")}),
    (DV, "sourcepvc"): ("/namespaces/demo/datavolumes/fedora-clone", "sourcepvc", {(PVC, "fedora-42")}),
    (DV, "datasource"): (
        "/namespaces/demo/datavolumes/fedora-root",
        "datasource",
        {("DataSource", "fedora")},
    ),
    (DV, "storageclass"): (
        "/namespaces/demo/datavolumes/fedora-root",
        "storageclass",
        {("StorageClass", "hostpath-csi")},
    ),
    (DV, "vms"): ("/namespaces/demo/datavolumes/fedora-root", "vms", {(VM, "fedora")}),
    (PVC, "pv"): ("/namespaces/demo/pvcs/fedora-root", "pv", {("PersistentVolume", FEDORA_PV)}),
    (PVC, "storageclass"): (
        "/namespaces/demo/pvcs/fedora-root",
        "storageclass",
        {("StorageClass", "hostpath-csi")},
    ),
    (PVC, "datavolume"): ("/namespaces/demo/pvcs/fedora-root", "datavolume", {(DV, "fedora-root")}),
    (PVC, "datasource"): (
        "/namespaces/kubevirt-os-images/pvcs/fedora-42",
        "datasource",
        {("DataSource", "fedora")},
    ),
    (PVC, "vms"): ("/namespaces/demo/pvcs/fedora-root", "vms", {(VM, "fedora")}),
    (PVC, "pods"): ("/namespaces/demo/pvcs/fedora-root", "pods", PODS),
    ("PersistentVolume", "storageclass"): (
        f"/pvs/{FEDORA_PV}",
        "storageclass",
        {("StorageClass", "hostpath-csi")},
    ),
    ("PersistentVolume", "pvc"): (f"/pvs/{FEDORA_PV}", "pvc", {(PVC, "fedora-root")}),
    (POD, "node"): ("/namespaces/demo/pods/virt-launcher-fedora-h7l2d", "node", {("Node", "node01")}),
    (POD, "vmi"): (
        "/namespaces/demo/pods/virt-launcher-fedora-h7l2d",
        "vmi",
        {("VirtualMachineInstance", "fedora")},
    ),
    (POD, "pvcs"): (
        "/namespaces/demo/pods/virt-launcher-rhel9-tg8kd",
        "pvcs",
        {(PVC, "rhel9-root"), (PVC, "rhel9-memory-dump")},
    ),
    (POD, "serviceaccount"): (
        "/namespaces/demo/pods/virt-launcher-fedora-h7l2d",
        "serviceaccount",
        {("ServiceAccount", "default")},
    ),
    ("Service", "pods"): ("/namespaces/demo/services/fedora-ssh", "pods", PODS),
    ("Service", "vms"): ("/namespaces/demo/services/fedora-ssh", "vms", {(VM, "fedora")}),
    (SECRET, "vms"): ("/namespaces/demo/secrets/ssh-key", "vms", {(VM, "fedora")}),
    ("ConfigMap", "vms"): ("/namespaces/demo/configmaps/win11-config", "vms", {(VM, "win11")}),
    ("ServiceAccount", "vms"): ("/namespaces/demo/serviceaccounts/win11-agent", "vms", {(VM, "win11")}),
    ("NetworkAttachmentDefinition", "vms"): (
        "/namespaces/demo/networkattachmentdefinitions/vlan10",
        "vms",
        {(VM, "fedora"), (VM, "rhel9"), (VM, "every-source")},  # the last one from namespace lab
    ),
    ("DataSource", "pvc"): ("/namespaces/kubevirt-os-images/datasources/fedora", "pvc", {(PVC, "fedora-42")}),
    ("VirtualMachineSnapshot", "vm"): ("/namespaces/demo/vmsnapshots/fedora-snap-1", "vm", {(VM, "fedora")}),
    ("VirtualMachineExport", "vm"): ("/namespaces/demo/vmexports/fedora-export", "vm", {(VM, "fedora")}),
    (VM, "objectgraph"): (FEDORA, "objectgraph", {(VM, "fedora")}),
    ("VirtualMachineInstance", "objectgraph"): (
        "/namespaces/demo/vmis/rhel9",
        "objectgraph",
        {("VirtualMachineInstance", "rhel9")},
    ),
    ("VirtualMachineInstanceMigration", "vmi"): (
        "/namespaces/demo/migrations/fedora-migration-x7k2p",
        "vmi",
        {("VirtualMachineInstance", "fedora")},
    ),
    # the kinds and references real clusters hold (demo/50-lab.yaml)
    (VM, "clones"): (WEB, "clones", {("VirtualMachineClone", "web-to-copy")}),
    (VM, "restores"): (FEDORA, "restores", {("VirtualMachineRestore", "fedora-restore-1")}),
    (VM, "pool"): (WEB, "pool", {("VirtualMachinePool", "web")}),
    (VM, "hookconfigmaps"): (WEB, "hookconfigmaps", {("ConfigMap", "probe-hook")}),
    (VMI, "services"): (PROBE, "services", {("Service", "probe-http")}),
    (VMI, "hookconfigmaps"): (PROBE, "hookconfigmaps", {("ConfigMap", "probe-hook")}),
    (VMI, "replicaset"): ("/namespaces/lab/vmis/batch7q2kx", "replicaset",
                          {("VirtualMachineInstanceReplicaSet", "batch")}),
    ("VirtualMachineClusterInstancetype", "vms"): ("/clusterinstancetypes/u1.medium", "vms",
                                                   {(VM, "fedora"), (VM, "rhel9")}),
    ("VirtualMachineInstancetype", "vms"): ("/namespaces/demo/instancetypes/win-large", "vms", {(VM, "win11")}),
    ("VirtualMachineClusterPreference", "vms"): ("/clusterpreferences/fedora", "vms", {(VM, "fedora")}),
    ("VirtualMachinePreference", "vms"): ("/namespaces/demo/preferences/cirros", "vms", {(VM, "cirros")}),
    (DV, "vmis"): ("/namespaces/demo/datavolumes/fedora-root", "vmis", {(VMI, "fedora")}),
    (DV, "sourcesnapshot"): ("/namespaces/lab/datavolumes/lab-restored", "sourcesnapshot",
                             {("VolumeSnapshot", ROOT_SNAP)}),
    (DV, "secret"): ("/namespaces/lab/datavolumes/lab-data", "secret", {(SECRET, "lab-http-creds")}),
    (DV, "certconfigmap"): ("/namespaces/lab/datavolumes/lab-data", "certconfigmap", {("ConfigMap", "lab-ca")}),
    (DV, "extraargs"): ("/namespaces/lab/datavolumes/lab-vddk", "extraargs", {("ConfigMap", "lab-vddk-args")}),
    (PVC, "vmis"): ("/namespaces/lab/pvcs/lab-data", "vmis", {(VMI, "probe")}),
    (SECRET, "vmis"): ("/namespaces/lab/secrets/probe-userdata", "vmis", {(VMI, "probe")}),
    ("ConfigMap", "vmis"): ("/namespaces/lab/configmaps/probe-sysprep", "vmis", {(VMI, "probe")}),
    ("ServiceAccount", "vmis"): ("/namespaces/lab/serviceaccounts/probe-agent", "vmis", {(VMI, "probe")}),
    ("NetworkAttachmentDefinition", "vmis"): ("/namespaces/demo/networkattachmentdefinitions/vlan10", "vmis",
                                              {(VMI, "fedora"), (VMI, "rhel9")}),
    ("ControllerRevision", "vm"): (
        "/namespaces/demo/controllerrevisions/fedora-u1.medium-1021-5d0e7a10-0000-4000-8000-000000000301-1",
        "vm", {(VM, "fedora")},
    ),
    ("IPAMClaim", "vm"): ("/namespaces/demo/ipamclaims/fedora.vlan10", "vm", {(VM, "fedora")}),
    ("VolumeSnapshot", "pvc"): (f"/namespaces/demo/volumesnapshots/{ROOT_SNAP}", "pvc", {(PVC, "fedora-root")}),
    ("DataSource", "snapshot"): ("/namespaces/demo/datasources/fedora-snapshot", "snapshot",
                                 {("VolumeSnapshot", ROOT_SNAP)}),
    ("DataSource", "datasource"): ("/namespaces/kubevirt-os-images/datasources/fedora-latest", "datasource",
                                   {("DataSource", "fedora")}),
    ("DataImportCron", "datasource"): (CRON, "datasource", {("DataSource", "fedora")}),
    ("DataImportCron", "pvcs"): (CRON, "pvcs", {(PVC, "fedora-42")}),
    ("VirtualMachineSnapshot", "content"): ("/namespaces/demo/vmsnapshots/fedora-snap-1", "content",
                                            {("VirtualMachineSnapshotContent", CONTENT)}),
    ("VirtualMachineSnapshotContent", "snapshot"): (f"/namespaces/demo/vmsnapshotcontents/{CONTENT}", "snapshot",
                                                    {("VirtualMachineSnapshot", "fedora-snap-1")}),
    ("VirtualMachineSnapshotContent", "volumesnapshots"): (f"/namespaces/demo/vmsnapshotcontents/{CONTENT}",
                                                           "volumesnapshots", {("VolumeSnapshot", ROOT_SNAP)}),
    ("VirtualMachineRestore", "target"): ("/namespaces/demo/vmrestores/fedora-restore-1", "target", {(VM, "fedora")}),
    ("VirtualMachineRestore", "snapshot"): ("/namespaces/demo/vmrestores/fedora-restore-1", "snapshot",
                                            {("VirtualMachineSnapshot", "fedora-snap-1")}),
    ("VirtualMachineExport", "snapshot"): ("/namespaces/demo/vmexports/fedora-snap-export", "snapshot",
                                           {("VirtualMachineSnapshot", "fedora-snap-1")}),
    ("VirtualMachineExport", "pvc"): ("/namespaces/lab/vmexports/lab-data-export", "pvc", {(PVC, "lab-data")}),
    ("VirtualMachineExport", "tokensecret"): ("/namespaces/lab/vmexports/lab-data-export", "tokensecret",
                                              {(SECRET, "lab-export-token")}),
    ("VirtualMachineClone", "source"): ("/namespaces/lab/clones/web-to-copy", "source", {(VM, "web-0")}),
    ("VirtualMachineClone", "target"): ("/namespaces/lab/clones/web-to-copy", "target", {(VM, "web-copy")}),
    ("VirtualMachinePool", "vms"): ("/namespaces/lab/pools/web", "vms", {(VM, "web-0")}),
    ("VirtualMachineInstanceReplicaSet", "vmis"): ("/namespaces/lab/vmireplicasets/batch", "vmis",
                                                   {(VMI, "batch7q2kx")}),
    ("MigrationPolicy", "vmis"): ("/migrationpolicies/fast-lane", "vmis", {(VMI, "probe")}),
}  # fmt: skip


# more rows for links that read several source types: each type once
VARIANTS: dict[str, tuple[str, str, set[tuple[str, str]]]] = {
    "sysprep configMap": (PROBE, "volumes.configmap", {("ConfigMap", "probe-sysprep")}),
    "ephemeral persistentVolumeClaim": (PROBE, "volumes.pvc", {(PVC, "lab-data")}),
    "cloudInitNoCloud secretRef of a standalone VMI": (PROBE, "volumes.userdata", {(SECRET, "probe-userdata")}),
    "userPassword access credential": (PROBE, "accesscredentials", {(SECRET, "probe-password")}),
}


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_every_source_type_of_a_link_is_followed(demo: Gateway, demo_generic: Gateway, variant: str) -> None:
    start, path, expected = VARIANTS[variant]
    for gateway in (demo, demo_generic):
        assert kinds_and_names(embedded(gateway.json(start, follow=path), path)) == expected


def test_every_catalogue_link_has_a_row_here() -> None:
    declared = {(k.name, rel) for k in CATALOG.kinds() for rel in CATALOG.all_links(k.name)}
    assert declared == set(LINKS)


@pytest.mark.parametrize(("kind", "rel"), sorted(LINKS))
def test_link_embeds_its_targets(demo: Gateway, demo_generic: Gateway, kind: str, rel: str) -> None:
    start, path, expected = LINKS[(kind, rel)]
    for gateway in (demo, demo_generic):
        doc = gateway.json(start, follow=path)
        targets = embedded(doc, path)
        assert kinds_and_names(targets) == expected
        for target in targets:
            if "objectReference" in target:  # a computed object graph: compared with its own endpoint
                assert target == gateway.json(start + "/objectgraph")
                continue
            assert not target.get("missing"), target
            assert target["href"].endswith("/" + (target.get("name") or target["metadata"]["name"]))
            assert isinstance(target["links"], dict)


# every VolumeSource type of KubeVirt's schema.go, and what each volume part names
EVERY_SOURCE = {
    "hostdisk": ("hostDisk", {}),
    "pvc": ("persistentVolumeClaim", {"pvc": (PVC, "lab-data")}),
    "nocloud": ("cloudInitNoCloud", {"userdata": (SECRET, "probe-userdata"), "networkdata": (SECRET, "lab-netdata")}),
    "configdrive": ("cloudInitConfigDrive", {}),
    "sysprep": ("sysprep", {"secret": (SECRET, "lab-sysprep")}),
    "containerdisk": ("containerDisk", {}),
    "ephemeral": ("ephemeral", {"pvc": (PVC, "lab-data")}),
    "emptydisk": ("emptyDisk", {}),
    "datavolume": ("dataVolume", {"pvc": (PVC, "lab-data"), "datavolume": (DV, "lab-data")}),
    "configmap": ("configMap", {"configmap": ("ConfigMap", "lab-ca")}),
    "secret": ("secret", {"secret": (SECRET, "lab-http-creds")}),
    "downwardapi": ("downwardAPI", {}),
    "serviceaccount": ("serviceAccount", {"serviceaccount": ("ServiceAccount", "probe-agent")}),
    "downwardmetrics": ("downwardMetrics", {}),
    "memorydump": ("memoryDump", {"pvc": (PVC, "lab-data")}),
    "containerpath": ("containerPath", {}),
}


def test_every_volume_source_type_is_a_part_with_exactly_its_references(demo: Gateway) -> None:
    doc = demo.json("/namespaces/lab/vms/every-source", follow="volumes.*,accesscredentials,networks.nad")
    volumes = {v["name"]: v for v in doc["volumes"]}
    assert set(volumes) == set(EVERY_SOURCE)
    for name, (source_type, references) in EVERY_SOURCE.items():
        volume = volumes[name]
        assert volume["type"] == source_type, name
        assert set(volume["links"]) == set(references), name
        for rel, (kind, target) in references.items():
            assert (volume[rel]["kind"], volume[rel]["metadata"]["name"]) == (kind, target), (name, rel)
    assert [s["metadata"]["name"] for s in doc["accesscredentials"]] == ["lab-ssh", "probe-password"]
    networks = {n["name"]: n for n in doc["networks"]}
    assert {n: v["type"] for n, v in networks.items()} == {
        "default": "pod",
        "vlan10": "multus",
        "sriov": "resourceClaim",
    }
    assert networks["vlan10"]["nad"]["metadata"]["name"] == "vlan10" and "nad" not in networks["sriov"]["links"]
