"""Every link of the catalogue, followed over HTTP against the demo cluster.

One row per (kind, rel): where to start, what to follow, and the kinds and names that
must come back embedded. A test below fails when the catalogue gains a link without a row.
"""

from __future__ import annotations

import pytest

from gateway.catalog import CATALOG
from tests.api.embedded import embedded, kinds_and_names
from tests.server import Gateway

FEDORA, RHEL9, WIN11, CIRROS = (f"/namespaces/demo/vms/{n}" for n in ("fedora", "rhel9", "win11", "cirros"))
FEDORA_PV = "pvc-8f6a3c1e-0000-4000-8000-000000001006"
PVC, SECRET, DV, POD, VM = "PersistentVolumeClaim", "Secret", "DataVolume", "Pod", "VirtualMachine"
PODS = {(POD, "virt-launcher-fedora-h7l2d"), (POD, "virt-launcher-fedora-9xq4z")}

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
        {(VM, "fedora"), (VM, "rhel9")},
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
}


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
