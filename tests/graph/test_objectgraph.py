"""KubeVirt's objectgraph rules (v1.6 and later, as its implementation applies them), rule by rule.

Each test serves its own small cluster and compares the graph, drawn one node a line:
`Kind namespace/name dependency-type [optional] [missing]`, children indented.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.support.gateway import Gateway
from tests.support.graphs import below

Serve = Callable[[str], Gateway]


def graph(gateway: Gateway, path: str = "/namespaces/ns/vms/vm/objectgraph", **params: str) -> list[str]:
    return below(gateway.json(path, **params))


def vm(spec: str = "", status: str = "", name: str = "vm") -> str:
    return (
        f"apiVersion: kubevirt.io/v1\nkind: VirtualMachine\nmetadata: {{name: {name}, namespace: ns}}\n"
        f"spec:\n{spec or '  template: {spec: {}}'}\nstatus:\n{status or '  printableStatus: Stopped'}\n---\n"
    )


def test_the_root_is_the_vm_and_the_vmi_exists_only_while_created(cluster: Serve) -> None:
    gw = cluster(vm(status="  created: false") + vm(name="running", status="  created: true"))
    root = gw.json("/namespaces/ns/vms/vm/objectgraph")
    assert root == {
        "objectReference": {"apiGroup": "kubevirt.io", "kind": "VirtualMachine", "name": "vm", "namespace": "ns"},
        "labels": {"kubevirt.io/dependency-type": "compute"},
    }
    assert graph(gw, "/namespaces/ns/vms/running/objectgraph") == ["VirtualMachineInstance ns/running compute missing"]


LAUNCHERS = """
apiVersion: kubevirt.io/v1
kind: VirtualMachineInstance
metadata: {name: vm, namespace: ns, uid: vmi-uid}
status: {nodeName: node01}
---
apiVersion: v1
kind: Pod
metadata:
  name: virt-launcher-vm-bbbbb
  namespace: ns
  labels: {kubevirt.io: virt-launcher}
  ownerReferences: [{apiVersion: kubevirt.io/v1, kind: VirtualMachineInstance, name: vm, uid: vmi-uid}]
spec: {nodeName: node01}
---
apiVersion: v1
kind: Pod
metadata:
  name: virt-launcher-vm-aaaaa
  namespace: ns
  labels: {kubevirt.io: virt-launcher}
  annotations: {kubevirt.io/domain: vm}
---
apiVersion: v1
kind: Pod
metadata:
  name: virt-launcher-other-00000
  namespace: ns
  labels: {kubevirt.io: virt-launcher}
  ownerReferences: [{apiVersion: kubevirt.io/v1, kind: VirtualMachineInstance, name: other, uid: x}]
---
apiVersion: v1
kind: Pod
metadata: {name: not-a-launcher-00000, namespace: ns, annotations: {kubevirt.io/domain: vm}}
"""


def test_the_launcher_pod_is_the_first_by_name_owned_by_the_vmi_or_naming_it(cluster: Serve) -> None:
    gw = cluster(vm(status="  created: true") + LAUNCHERS)
    assert graph(gw) == ["VirtualMachineInstance ns/vm compute", "  Pod ns/virt-launcher-vm-aaaaa compute"]
    assert graph(gw, "/namespaces/ns/vmis/vm/objectgraph") == ["Pod ns/virt-launcher-vm-aaaaa compute"]
    # follow picks the launcher on the VMI's node, the graph picks as KubeVirt does: both from one catalogue entry
    assert gw.json("/namespaces/ns/vmis/vm", follow="pod")["pod"]["metadata"]["name"] == "virt-launcher-vm-bbbbb"


@pytest.mark.parametrize(
    ("matcher", "expected"),
    [
        (
            "{kind: VirtualMachineClusterInstancetype, name: u1}",
            "VirtualMachineClusterInstancetype /u1 config optional",
        ),
        (
            "{kind: virtualmachineclusterinstancetype, name: u1}",
            "VirtualMachineClusterInstancetype /u1 config optional",
        ),
        ("{name: u1}", "VirtualMachineClusterInstancetype /u1 config optional"),
        ("{kind: VirtualMachineInstancetype, name: mine}", "VirtualMachineInstancetype ns/mine config optional"),
    ],
)
def test_instancetype_kind_scope_and_optional(cluster: Serve, matcher: str, expected: str) -> None:
    gw = cluster(vm(spec=f"  instancetype: {matcher}\n  template: {{spec: {{}}}}"))
    assert graph(gw) == [expected + " missing"]


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        ("  instancetypeRef: {controllerRevisionRef: {name: from-status}}", ["ControllerRevision ns/from-status"]),
        ("  printableStatus: Stopped", ["ControllerRevision ns/from-spec"]),  # no status ref: spec.revisionName
        ("  instancetypeRef: {kind: VirtualMachineClusterInstancetype, name: u1}", []),  # a ref without revision
    ],
)
def test_the_pinned_revision_is_a_sibling_from_status_else_spec(
    cluster: Serve, status: str, expected: list[str]
) -> None:
    spec = "  instancetype: {name: u1, revisionName: from-spec}\n  template: {spec: {}}"
    gw = cluster(vm(spec=spec, status=status))
    revisions = [line for line in graph(gw) if line.startswith("ControllerRevision")]
    assert revisions == [f"{e} config missing" for e in expected]


def test_preferences_follow_the_same_rules(cluster: Serve) -> None:
    spec = "  preference: {kind: VirtualMachinePreference, name: p}\n  template: {spec: {}}"
    gw = cluster(vm(spec=spec, status="  preferenceRef: {controllerRevisionRef: {name: rev}}"))
    assert graph(gw) == [
        "VirtualMachinePreference ns/p config optional missing",
        "ControllerRevision ns/rev config missing",
    ]


ACCESS = """  template:
    spec:
      accessCredentials:
      - sshPublicKey: {source: {secret: {secretName: keys}}}
      - userPassword: {source: {secret: {secretName: passwords}}}
      - sshPublicKey: {source: {secret: {secretName: both-ssh}}}
        userPassword: {source: {secret: {secretName: both-password}}}
"""


def test_access_credentials_one_secret_each_ssh_first(cluster: Serve) -> None:
    gw = cluster(vm(spec=ACCESS))
    assert graph(gw) == [f"Secret ns/{n} config missing" for n in ("keys", "passwords", "both-ssh")]


VOLUMES = """  template:
    spec:
      volumes:
      - {name: a, dataVolume: {name: dv}}
      - {name: b, persistentVolumeClaim: {claimName: claim}}
      - {name: c, configMap: {name: cm}}
      - {name: d, secret: {secretName: shared}}
      - {name: e, serviceAccount: {serviceAccountName: sa}}
      - {name: f, cloudInitNoCloud: {secretRef: {name: shared}, networkDataSecretRef: {name: net}}}
      - {name: g, cloudInitConfigDrive: {secretRef: {name: drive}}}
      - {name: h, memoryDump: {claimName: dump}}
      - {name: i, containerDisk: {image: quay.io/x}}
      - {name: j, sysprep: {secret: {name: sysprep}}}
      - {name: k, persistentVolumeClaim: {claimName: hot, hotpluggable: true}}
      domain:
        devices: {tpm: {persistent: true}}
"""
BACKEND = """
apiVersion: v1
kind: PersistentVolumeClaim
metadata:
  name: persistent-state-for-vm-old
  namespace: ns
  labels: {persistent-state-for: vm}
  creationTimestamp: "2026-01-01T00:00:00Z"
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata:
  name: persistent-state-for-vm-new
  namespace: ns
  labels: {persistent-state-for: vm}
  creationTimestamp: "2026-02-01T00:00:00Z"
"""


def test_volumes_in_spec_order_then_the_backend_storage_pvc(cluster: Serve) -> None:
    gw = cluster(vm(spec=VOLUMES) + BACKEND)
    assert graph(gw) == [
        "DataVolume ns/dv storage missing",
        "  PersistentVolumeClaim ns/dv storage missing",
        "PersistentVolumeClaim ns/claim storage missing",
        "ConfigMap ns/cm config missing",
        "Secret ns/shared config missing",
        "ServiceAccount ns/sa config missing",
        "Secret ns/shared config missing",  # referenced twice: twice
        "Secret ns/net config missing",
        "Secret ns/drive config missing",
        "PersistentVolumeClaim ns/hot storage missing",  # hotplugged counts like the others
        "PersistentVolumeClaim ns/persistent-state-for-vm-new storage",  # the newest backend PVC
    ]


def test_networks_give_optional_network_nodes(cluster: Serve) -> None:
    spec = """  template:
    spec:
      networks:
      - {name: default, pod: {}}
      - {name: a, multus: {networkName: here}}
      - {name: b, multus: {networkName: other/there}}
"""
    nad = "apiVersion: k8s.cni.cncf.io/v1\nkind: NetworkAttachmentDefinition\nmetadata: {name: here, namespace: ns}\n"
    gw = cluster(vm(spec=spec) + nad)
    assert graph(gw) == [
        "NetworkAttachmentDefinition ns/here network optional",
        "NetworkAttachmentDefinition other/there network optional missing",
    ]


def test_a_garbage_collected_datavolume_is_no_node_its_pvc_hangs_under_the_vm(cluster: Serve) -> None:
    spec = "  template:\n    spec:\n      volumes: [{name: root, dataVolume: {name: disk}}]"
    pvc = "apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata: {name: disk, namespace: ns}\n"
    assert graph(cluster(vm(spec=spec) + pvc)) == ["PersistentVolumeClaim ns/disk storage"]


def test_the_vmi_graph_is_the_vm_graph_without_the_vmi_level(demo: Gateway) -> None:
    vm_graph = graph(demo, "/namespaces/demo/vms/fedora/objectgraph")
    vmi_graph = graph(demo, "/namespaces/demo/vmis/fedora/objectgraph")
    pod = vm_graph[1].strip()
    without_vmi_and_instancetypes = [
        line for line in vm_graph[2:] if "Instancetype" not in line and "Preference" not in line
        and "ControllerRevision" not in line
    ]  # fmt: skip
    assert vmi_graph == [pod, *without_vmi_and_instancetypes]


FEDORA = [
    "VirtualMachineInstance demo/fedora compute",
    "  Pod demo/virt-launcher-fedora-9xq4z compute",
    "VirtualMachineClusterInstancetype /u1.medium config optional",
    "ControllerRevision demo/fedora-u1.medium-1021-5d0e7a10-0000-4000-8000-000000000301-1 config",
    "VirtualMachineClusterPreference /fedora config optional",
    "ControllerRevision demo/fedora-fedora-1031-5d0e7a10-0000-4000-8000-000000000311-1 config",
    "Secret demo/ssh-key config",
    "DataVolume demo/fedora-root storage",
    "  PersistentVolumeClaim demo/fedora-root storage",
    "Secret demo/fedora-cloudinit config",
    "NetworkAttachmentDefinition demo/vlan10 network optional",
]


def test_the_demo_fedora_graph(demo: Gateway) -> None:
    assert graph(demo, "/namespaces/demo/vms/fedora/objectgraph") == FEDORA


def test_ipamclaims_are_followed_but_not_in_the_graph(demo: Gateway) -> None:
    assert demo.json("/namespaces/demo/vms/fedora", follow="ipamclaims")["ipamclaims"][0]["metadata"]["name"]
    assert not any("IPAMClaim" in line for line in graph(demo, "/namespaces/demo/vms/fedora/objectgraph"))


def test_include_optional_nodes_false_drops_them(demo: Gateway) -> None:
    expected = [line for line in FEDORA if "optional" not in line]
    assert graph(demo, "/namespaces/demo/vms/fedora/objectgraph", includeOptionalNodes="false") == expected
    post = demo.session.post(demo.url + "/namespaces/demo/vms/fedora/objectgraph", json={"includeOptionalNodes": False})
    assert below(post.json()) == expected


def test_label_selector_keeps_matching_nodes_and_drops_subtrees(demo: Gateway) -> None:
    storage = graph(
        demo, "/namespaces/demo/vms/fedora/objectgraph", labelSelector="kubevirt.io/dependency-type=storage"
    )
    assert storage == ["DataVolume demo/fedora-root storage", "  PersistentVolumeClaim demo/fedora-root storage"]
    compute_only = graph(
        demo, "/namespaces/demo/vms/fedora/objectgraph", labelSelector="kubevirt.io/dependency-type in (compute)"
    )
    assert compute_only == FEDORA[:2]
    # the root is never filtered, even when it does not match
    root = demo.json("/namespaces/demo/vms/fedora/objectgraph", labelSelector="kubevirt.io/dependency-type=network")
    assert root["objectReference"]["name"] == "fedora" and len(root["children"]) == 1


def test_options_as_a_json_body_on_get_as_virtctl_sends_them(demo: Gateway) -> None:
    body = {"labelSelector": {"matchExpressions": [{"key": "kubevirt.io/dependency-type", "operator": "In",
                                                    "values": ["config"]}]}, "includeOptionalNodes": False}  # fmt: skip
    response = demo.session.get(demo.url + "/namespaces/demo/vms/fedora/objectgraph", json=body)
    assert below(response.json()) == [line for line in FEDORA if " config" in line and "optional" not in line]


@pytest.mark.parametrize(
    ("params", "body"),
    [({"labelSelector": "a in b"}, None), ({}, {"labelSelector": {"matchLabels": ["x"]}}),
     ({}, {"labelSelector": {"matchExpressions": [{"key": "a", "operator": "Maybe"}]}}),
     ({"includeOptionalNodes": "perhaps"}, None), ({}, {"unknown": 1}), ({"format": "round"}, None)],
)  # fmt: skip
def test_invalid_options_are_400(demo: Gateway, params: dict[str, str], body: Any) -> None:
    response = demo.session.post(demo.url + "/namespaces/demo/vms/fedora/objectgraph", params=params, json=body)
    assert response.status_code == 400, response.text
    assert response.json()["kind"] == "Status"


def test_unknown_vm_or_vmi_is_404(demo: Gateway) -> None:
    for path in ("/namespaces/demo/vms/nope/objectgraph", "/namespaces/demo/vmis/win11/objectgraph"):
        response = demo.get(path)
        assert response.status_code == 404 and response.json()["reason"] == "NotFound"


def test_flat_format_lists_each_object_once(cluster: Serve) -> None:
    spec = """  template:
    spec:
      volumes:
      - {name: a, secret: {secretName: s}}
      - {name: b, secret: {secretName: s}}
"""
    gw = cluster(vm(spec=spec))
    items = gw.json("/namespaces/ns/vms/vm/objectgraph", format="flat")["items"]
    assert [i["objectReference"]["name"] for i in items] == ["vm", "s"]
    assert all("children" not in i for i in items)


def test_the_vm_links_to_its_object_graph(demo: Gateway) -> None:
    doc = demo.json("/namespaces/demo/vms/fedora")
    assert doc["links"]["objectgraph"] == {"href": "/namespaces/demo/vms/fedora/objectgraph", "kind": "ObjectGraph"}
    served = demo.json(doc["links"]["objectgraph"]["href"])
    assert demo.json("/namespaces/demo/vms/fedora", follow="objectgraph")["objectgraph"] == served
    # a collection embeds every VM's graph, built together
    vms = demo.json("/namespaces/demo/vms", follow="objectgraph")["items"]
    assert [v["objectgraph"]["objectReference"]["name"] for v in vms] == ["cirros", "fedora", "rhel9", "win11"]


def test_a_standalone_vmi_graph_follows_kubevirts_rules(demo: Gateway) -> None:
    """KubeVirt (pkg/virt-api/rest/objectgraph.go at d923fdb): the launcher pod, access credentials,
    then per volume only dataVolume, persistentVolumeClaim, configMap, secret, serviceAccount and
    cloud-init secrets; sysprep, ephemeral and containerDisk volumes give no node."""
    assert below(demo.json("/namespaces/lab/vmis/probe/objectgraph")) == [
        "Secret lab/probe-password config",
        "Secret lab/probe-userdata config",
        "ServiceAccount lab/probe-agent config",
    ]


def test_backend_storage_of_a_vmi_comes_from_its_volume_status(demo: Gateway) -> None:
    graph = below(demo.json("/namespaces/demo/vmis/rhel9/objectgraph"))
    assert "PersistentVolumeClaim demo/persistent-state-for-rhel9-q8m2z storage" in graph
    doc = demo.json("/namespaces/demo/vmis/rhel9")
    assert doc["links"]["backendstorage"]["name"] == "persistent-state-for-rhel9-q8m2z"


BACKEND_PVC = """
apiVersion: v1
kind: PersistentVolumeClaim
metadata:
  name: persistent-state-for-{vm}-abcde
  namespace: ns
  labels: {{persistent-state-for: {vm}}}
---
"""


def test_changed_block_tracking_needs_backend_storage_and_none_found_is_no_marker(cluster: Serve) -> None:
    """KubeVirt's IsBackendStorageNeeded: a persistent TPM or EFI, or status.changedBlockTracking.state
    Enabled or Initializing; with no labelled PVC there is nothing to embed, not a marker without a name."""
    gw = cluster(
        vm(name="cbt", status="  changedBlockTracking: {state: Enabled}")
        + BACKEND_PVC.format(vm="cbt")
        + vm(name="disabled", status="  changedBlockTracking: {state: Disabled}")
        + BACKEND_PVC.format(vm="disabled")
        + vm(name="lost", status="  changedBlockTracking: {state: Initializing}")
    )
    cbt = gw.json("/namespaces/ns/vms/cbt", follow="backendstorage")
    assert cbt["backendstorage"]["metadata"]["name"] == "persistent-state-for-cbt-abcde"
    assert "PersistentVolumeClaim ns/persistent-state-for-cbt-abcde storage" in graph(
        gw, "/namespaces/ns/vms/cbt/objectgraph"
    )
    off = gw.json("/namespaces/ns/vms/disabled", follow="backendstorage")
    assert "backendstorage" not in off and "backendstorage" not in off["links"]
    lost = gw.json("/namespaces/ns/vms/lost", follow="backendstorage")
    assert "backendstorage" in lost["links"] and "backendstorage" not in lost  # nothing found: nothing embedded
