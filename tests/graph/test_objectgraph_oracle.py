"""The object graph of every demo VM and VMI, against an oracle written from KubeVirt's
pkg/virt-api/rest/objectgraph.go at d923fdb, over the raw objects (not the gateway's catalogue).

Beyond KubeVirt, as DESIGN section 6 says: a DataVolume CDI garbage-collected is no node and its
PVC hangs under the VM in its place. Missing-object labels are the gateway's own and not compared.
"""

from __future__ import annotations

from typing import Any

import pytest

from gateway.catalog import CATALOG
from gateway.store.snapshot import demo_objects
from tests.support.gateway import Gateway

Obj = dict[str, Any]
Node = tuple[str, str, str, bool, tuple[Any, ...]]  # kind, namespace, name, optional, children
OBJECTS = [obj for _, obj in demo_objects(CATALOG)]
CLUSTER_KINDS = {"virtualmachineclusterinstancetypes": "VirtualMachineClusterInstancetype",
                 "virtualmachineclusterpreferences": "VirtualMachineClusterPreference"}  # fmt: skip
NAMESPACED_KINDS = {"virtualmachineinstancetypes": "VirtualMachineInstancetype",
                    "virtualmachinepreferences": "VirtualMachinePreference"}  # fmt: skip


def get(d: Any, *path: str) -> Any:
    for key in path:
        d = d.get(key) if isinstance(d, dict) else None
    return d


def find(kind: str, namespace: str, name: str) -> Obj | None:
    return next((o for o in OBJECTS if o["kind"] == kind and o["metadata"]["name"] == name
                 and o["metadata"].get("namespace") == namespace), None)  # fmt: skip


def node(kind: str, namespace: str, name: str, optional: bool = False, children: tuple[Any, ...] = ()) -> Node:
    return kind, namespace, name, optional, children


def launcher_pod(name: str, namespace: str) -> list[Node]:
    """getLauncherPodNode: the first pod labelled kubevirt.io=virt-launcher (API order: by name)
    owned by the VMI, or else annotated with its domain."""
    pods = sorted((o for o in OBJECTS if o["kind"] == "Pod" and o["metadata"].get("namespace") == namespace
                   and get(o, "metadata", "labels", "kubevirt.io") == "virt-launcher"),
                  key=lambda p: p["metadata"]["name"])  # fmt: skip
    for pod in pods:
        owners = get(pod, "metadata", "ownerReferences") or []
        if any(o.get("kind") == "VirtualMachineInstance" and o.get("name") == name for o in owners):
            return [node("Pod", namespace, pod["metadata"]["name"])]
        if get(pod, "metadata", "annotations", "kubevirt.io/domain") == name:
            return [node("Pod", namespace, pod["metadata"]["name"])]
    return []


def matcher(vm: Obj, which: str) -> list[Node]:
    """getInstanceTypeMatcherResource; an omitted kind is the cluster kind, as virt-api's mutator sets it."""
    spec, ns = get(vm, "spec", which), vm["metadata"]["namespace"]
    if not spec:
        return []
    cluster = "VirtualMachineCluster" + ("Instancetype" if which == "instancetype" else "Preference")
    resource = (spec.get("kind") or cluster).lower() + "s"
    nodes = []
    if resource in CLUSTER_KINDS:
        nodes.append(node(CLUSTER_KINDS[resource], "", spec["name"], optional=True))
    elif resource in NAMESPACED_KINDS:
        nodes.append(node(NAMESPACED_KINDS[resource], ns, spec["name"], optional=True))
    status_ref = get(vm, "status", f"{which}Ref")
    if status_ref is not None and get(status_ref, "controllerRevisionRef", "name"):
        nodes.append(node("ControllerRevision", ns, status_ref["controllerRevisionRef"]["name"]))
    if status_ref is None and spec.get("revisionName"):
        nodes.append(node("ControllerRevision", ns, spec["revisionName"]))
    return nodes


def credentials(spec: Obj, ns: str) -> list[Node]:
    nodes = []
    for ac in spec.get("accessCredentials") or []:
        name = get(ac, "sshPublicKey", "source", "secret", "secretName") or get(
            ac, "userPassword", "source", "secret", "secretName"
        )
        if name:
            nodes.append(node("Secret", ns, name))
    return nodes


def volumes(spec: Obj, ns: str) -> list[Node]:
    nodes: list[Node] = []
    for v in spec.get("volumes") or []:
        if "dataVolume" in v:
            name = v["dataVolume"]["name"]
            pvc = find("PersistentVolumeClaim", ns, name)
            collected = (
                find("DataVolume", ns, name) is None
                and pvc is not None
                and not any(o.get("kind") == "DataVolume" for o in get(pvc, "metadata", "ownerReferences") or [])
            )
            pvc_node = node("PersistentVolumeClaim", ns, name)
            nodes.append(pvc_node if collected else node("DataVolume", ns, name, children=(pvc_node,)))
        elif "persistentVolumeClaim" in v:
            nodes.append(node("PersistentVolumeClaim", ns, v["persistentVolumeClaim"]["claimName"]))
        elif "configMap" in v:
            nodes.append(node("ConfigMap", ns, v["configMap"]["name"]))
        elif "secret" in v:
            nodes.append(node("Secret", ns, v["secret"]["secretName"]))
        elif "serviceAccount" in v:
            nodes.append(node("ServiceAccount", ns, v["serviceAccount"]["serviceAccountName"]))
        for source in ("cloudInitNoCloud", "cloudInitConfigDrive"):
            for ref in ("secretRef", "networkDataSecretRef"):
                if get(v, source, ref, "name"):
                    nodes.append(node("Secret", ns, v[source][ref]["name"]))
    return nodes


def needs_backend(obj: Obj, spec: Obj) -> bool:
    return bool(get(spec, "domain", "devices", "tpm", "persistent") is True
                or get(spec, "domain", "firmware", "bootloader", "efi", "persistent") is True
                or get(obj, "status", "changedBlockTracking", "state") in ("Enabled", "Initializing"))  # fmt: skip


def backend(obj: Obj, spec: Obj) -> list[Node]:
    ns, name = obj["metadata"]["namespace"], obj["metadata"]["name"]
    if not needs_backend(obj, spec):
        return []
    if obj["kind"] == "VirtualMachineInstance":  # backendstorage.CurrentPVCName
        for status in get(obj, "status", "volumeStatus") or []:
            if status["name"].startswith("persistent-state-for"):
                return [node("PersistentVolumeClaim", ns, status["persistentVolumeClaimInfo"]["claimName"])]
        return []
    labelled = [o for o in OBJECTS if o["kind"] == "PersistentVolumeClaim" and o["metadata"].get("namespace") == ns
                and get(o, "metadata", "labels", "persistent-state-for") == name]  # fmt: skip
    if len(labelled) > 1:
        live = [o for o in labelled if not o["metadata"].get("deletionTimestamp")]
        labelled = sorted(live, key=lambda o: o["metadata"].get("creationTimestamp", ""), reverse=True)[:1]
    return [node("PersistentVolumeClaim", ns, o["metadata"]["name"]) for o in labelled]


def networks(spec: Obj, ns: str) -> list[Node]:
    nodes = []
    for net in spec.get("networks") or []:
        name = get(net, "multus", "networkName")
        if name:
            where, _, short = name.rpartition("/")
            nodes.append(node("NetworkAttachmentDefinition", where or ns, short, optional=True))
    return nodes


def expected(obj: Obj) -> list[Node]:
    ns, name = obj["metadata"]["namespace"], obj["metadata"]["name"]
    if obj["kind"] == "VirtualMachine":
        spec = get(obj, "spec", "template", "spec") or {}
        vmi = [node("VirtualMachineInstance", ns, name, children=tuple(launcher_pod(name, ns)))]
        head = (
            (vmi if get(obj, "status", "created") else []) + matcher(obj, "instancetype") + matcher(obj, "preference")
        )
    else:
        spec = obj.get("spec") or {}
        head = launcher_pod(name, ns)
    return head + credentials(spec, ns) + volumes(spec, ns) + backend(obj, spec) + networks(spec, ns)


def served(n: dict[str, Any]) -> Node:
    ref = n["objectReference"]
    children = tuple(served(c) for c in n.get("children", []))
    return ref["kind"], ref["namespace"], ref["name"], bool(n.get("optional")), children


WORKLOADS = sorted((o["kind"], o["metadata"]["namespace"], o["metadata"]["name"]) for o in OBJECTS
                   if o["kind"] in ("VirtualMachine", "VirtualMachineInstance"))  # fmt: skip


@pytest.mark.parametrize(("kind", "namespace", "name"), WORKLOADS)
def test_every_fixture_object_graph_is_kubevirts(demo: Gateway, kind: str, namespace: str, name: str) -> None:
    obj = find(kind, namespace, name)
    assert obj is not None
    collection = "vms" if kind == "VirtualMachine" else "vmis"
    graph = demo.json(f"/namespaces/{namespace}/{collection}/{name}/objectgraph")
    assert [served(c) for c in graph.get("children", [])] == expected(obj)


def test_the_oracle_sees_every_kind_of_node() -> None:
    kinds = {n[0] for o in OBJECTS if o["kind"] in ("VirtualMachine", "VirtualMachineInstance") for n in expected(o)}
    assert kinds >= {"VirtualMachineInstance", "DataVolume", "PersistentVolumeClaim", "Secret", "ConfigMap",
                     "ServiceAccount", "NetworkAttachmentDefinition", "ControllerRevision", "Pod",
                     "VirtualMachineClusterInstancetype", "VirtualMachinePreference"}  # fmt: skip
