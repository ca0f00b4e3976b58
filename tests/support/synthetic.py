"""Synthetic KubeVirt clusters of any size, for tests and benchmarks.

Each VM comes as KubeVirt and CDI would leave it: a DataVolume from its
dataVolumeTemplates owning a bound PVC with its PV, a cloud-init Secret, pinned
ControllerRevisions for a shared cluster instancetype and preference, a multus
network; every other VM runs, with its VMI and virt-launcher Pod on a node.
"""

from __future__ import annotations

from typing import Any

Object = dict[str, Any]


def _uid(kind: int, i: int) -> str:
    return f"00000000-0000-4000-8000-{kind:04d}{i:08d}"


def _meta(name: str, namespace: str | None, uid: str, **extra: Any) -> Object:
    meta: Object = {"name": name, "uid": uid, "resourceVersion": "1"}
    if namespace:
        meta["namespace"] = namespace
    meta.update(extra)
    return meta


def _owner(kind: str, api_version: str, name: str, uid: str) -> list[Object]:
    return [
        {
            "apiVersion": api_version,
            "kind": kind,
            "name": name,
            "uid": uid,
            "controller": True,
            "blockOwnerDeletion": True,
        }
    ]


def shared_objects(namespace: str, nodes: int = 3) -> list[Object]:
    objects: list[Object] = [
        {
            "apiVersion": "v1",
            "kind": "Node",
            "metadata": _meta(f"node{n:02d}", None, _uid(1, n), labels={"kubevirt.io/schedulable": "true"}),
            "status": {
                "nodeInfo": {
                    "architecture": "amd64",
                    "bootID": _uid(5, n),
                    "containerRuntimeVersion": "cri-o://1.32.2",
                    "kernelVersion": "6.14.0",
                    "kubeProxyVersion": "v1.32.4",
                    "kubeletVersion": "v1.32.4",
                    "machineID": f"{n:032x}",
                    "operatingSystem": "linux",
                    "osImage": "Fedora CoreOS 42",
                    "systemUUID": _uid(6, n),
                }
            },
        }
        for n in range(nodes)
    ]
    objects += [
        {
            "apiVersion": "storage.k8s.io/v1",
            "kind": "StorageClass",
            "metadata": _meta("hostpath-csi", None, _uid(2, 0)),
            "provisioner": "kubevirt.io.hostpath-provisioner",
        },
        {
            "apiVersion": "instancetype.kubevirt.io/v1beta1",
            "kind": "VirtualMachineClusterInstancetype",
            "metadata": _meta("u1.medium", None, _uid(3, 0), generation=1),
            "spec": {"cpu": {"guest": 1}, "memory": {"guest": "4Gi"}},
        },
        {
            "apiVersion": "instancetype.kubevirt.io/v1beta1",
            "kind": "VirtualMachineClusterPreference",
            "metadata": _meta("fedora", None, _uid(3, 1), generation=1),
            "spec": {"devices": {"preferredDiskBus": "virtio"}},
        },
        {
            "apiVersion": "k8s.cni.cncf.io/v1",
            "kind": "NetworkAttachmentDefinition",
            "metadata": _meta("vlan10", namespace, _uid(4, 0)),
            "spec": {"config": '{"cniVersion":"0.3.1","type":"bridge","bridge":"br10"}'},
        },
    ]
    return objects


def vm_objects(i: int, namespace: str, nodes: int = 3) -> list[Object]:
    """One VM and everything it depends on."""
    name = f"vm-{i:05d}"
    vm_uid, vmi_uid, dv_uid, pvc_uid = _uid(10, i), _uid(11, i), _uid(12, i), _uid(13, i)
    disk, secret = f"{name}-root", f"{name}-cloudinit"
    running = i % 2 == 0
    node = f"node{i % nodes:02d}"
    rev_it = f"{name}-u1.medium-1-{_uid(3, 0)}-1"
    rev_pref = f"{name}-fedora-1-{_uid(3, 1)}-1"
    vm_owner = _owner("VirtualMachine", "kubevirt.io/v1", name, vm_uid)
    labels = {"kubevirt.io/domain": name, "app": name}
    volumes = [
        {"name": "rootdisk", "dataVolume": {"name": disk}},
        {"name": "cloudinitdisk", "cloudInitNoCloud": {"secretRef": {"name": secret}}},
    ]
    networks = [{"name": "default", "pod": {}}, {"name": "vlan10", "multus": {"networkName": "vlan10"}}]
    objects: list[Object] = [
        {
            "apiVersion": "kubevirt.io/v1",
            "kind": "VirtualMachine",
            "metadata": _meta(name, namespace, vm_uid, labels={"app": name}),
            "spec": {
                "runStrategy": "Always" if running else "Halted",
                "instancetype": {"kind": "VirtualMachineClusterInstancetype", "name": "u1.medium"},
                "preference": {"kind": "VirtualMachineClusterPreference", "name": "fedora"},
                "dataVolumeTemplates": [
                    {
                        "metadata": {"name": disk},
                        "spec": {"storage": {"resources": {"requests": {"storage": "30Gi"}}}},
                    }
                ],
                "template": {
                    "metadata": {"labels": labels},
                    "spec": {
                        "domain": {
                            "devices": {
                                "disks": [{"name": "rootdisk", "disk": {"bus": "virtio"}}],
                                "interfaces": [
                                    {"name": "default", "masquerade": {}},
                                    {"name": "vlan10", "bridge": {}},
                                ],
                            }
                        },
                        "networks": networks,
                        "volumes": volumes,
                    },
                },
            },
            "status": {
                "created": running,
                "ready": running,
                "printableStatus": "Running" if running else "Stopped",
                "instancetypeRef": {
                    "kind": "VirtualMachineClusterInstancetype",
                    "name": "u1.medium",
                    "controllerRevisionRef": {"name": rev_it},
                },
                "preferenceRef": {
                    "kind": "VirtualMachineClusterPreference",
                    "name": "fedora",
                    "controllerRevisionRef": {"name": rev_pref},
                },
            },
        },
        {
            "apiVersion": "cdi.kubevirt.io/v1beta1",
            "kind": "DataVolume",
            "metadata": _meta(disk, namespace, dv_uid, ownerReferences=vm_owner),
            "spec": {"storage": {"storageClassName": "hostpath-csi"}},
            "status": {"phase": "Succeeded", "progress": "100.0%", "claimName": disk},
        },
        {
            "apiVersion": "v1",
            "kind": "PersistentVolumeClaim",
            "metadata": _meta(
                disk,
                namespace,
                pvc_uid,
                ownerReferences=_owner("DataVolume", "cdi.kubevirt.io/v1beta1", disk, dv_uid),
            ),
            "spec": {
                "accessModes": ["ReadWriteOnce"],
                "resources": {"requests": {"storage": "30Gi"}},
                "storageClassName": "hostpath-csi",
                "volumeName": f"pvc-{pvc_uid}",
            },
            "status": {"phase": "Bound", "accessModes": ["ReadWriteOnce"], "capacity": {"storage": "30Gi"}},
        },
        {
            "apiVersion": "v1",
            "kind": "PersistentVolume",
            "metadata": _meta(f"pvc-{pvc_uid}", None, _uid(14, i)),
            "spec": {
                "accessModes": ["ReadWriteOnce"],
                "capacity": {"storage": "30Gi"},
                "csi": {"driver": "kubevirt.io.hostpath-provisioner", "volumeHandle": f"pvc-{pvc_uid}"},
                "storageClassName": "hostpath-csi",
                "claimRef": {
                    "apiVersion": "v1",
                    "kind": "PersistentVolumeClaim",
                    "namespace": namespace,
                    "name": disk,
                    "uid": pvc_uid,
                },
            },
            "status": {"phase": "Bound"},
        },
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": _meta(secret, namespace, _uid(15, i)),
            "type": "Opaque",
            "data": {"userdata": "I2Nsb3VkLWNvbmZpZwo="},
        },
    ]
    for rev, kind, target in (
        (rev_it, "VirtualMachineClusterInstancetype", "u1.medium"),
        (rev_pref, "VirtualMachineClusterPreference", "fedora"),
    ):
        objects.append(
            {
                "apiVersion": "apps/v1",
                "kind": "ControllerRevision",
                "metadata": _meta(
                    rev,
                    namespace,
                    _uid(16 if kind.endswith("Instancetype") else 17, i),
                    ownerReferences=vm_owner,
                    labels={"instancetype.kubevirt.io/object-kind": kind},
                ),
                "revision": 0,
                "data": {
                    "apiVersion": "instancetype.kubevirt.io/v1beta1",
                    "kind": kind,
                    "metadata": {"name": target},
                },
            }
        )
    if running:
        objects += [
            {
                "apiVersion": "kubevirt.io/v1",
                "kind": "VirtualMachineInstance",
                "metadata": _meta(name, namespace, vmi_uid, labels=labels, ownerReferences=vm_owner),
                "spec": {"networks": networks, "volumes": volumes},
                "status": {"phase": "Running", "nodeName": node},
            },
            {
                "apiVersion": "v1",
                "kind": "Pod",
                "metadata": _meta(
                    f"virt-launcher-{name}-abcde",
                    namespace,
                    _uid(18, i),
                    labels={"kubevirt.io": "virt-launcher", "kubevirt.io/created-by": vmi_uid, **labels},
                    annotations={"kubevirt.io/domain": name},
                    ownerReferences=_owner("VirtualMachineInstance", "kubevirt.io/v1", name, vmi_uid),
                ),
                "spec": {
                    "nodeName": node,
                    # as virt-controller makes it (and as an API server requires: a pod has a container)
                    "containers": [{"name": "compute", "image": "quay.io/kubevirt/virt-launcher:v1.6.2"}],
                    "volumes": [{"name": "rootdisk", "persistentVolumeClaim": {"claimName": disk}}],
                },
                "status": {"phase": "Running"},
            },
        ]
    return objects


def synthetic_cluster(vms: int, namespace: str = "bench", nodes: int = 3) -> list[Object]:
    objects = shared_objects(namespace, nodes)
    for i in range(vms):
        objects += vm_objects(i, namespace, nodes)
    return objects
