"""`--auth kubernetes` against the real API server: TokenReview and SubjectAccessReview answered by real RBAC,
static-token users bound by Roles and ClusterRoles, ServiceAccount tokens as `kubectl create token` makes them,
and a RoleBinding removed while the gateway runs."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from gateway.app import create_app
from gateway.catalog import CATALOG
from tests.support.apiserver import ADMIN_TOKEN, Kube, KubeApiServer
from tests.support.gateway import Caller, Gateway, live_config, serving
from tests.support.graphs import below
from tests.support.waiting import eventually

RBAC = "rbac.authorization.k8s.io/v1"
READ = ["get", "list", "watch"]


def rules(kinds: set[str], verbs: list[str] = READ, names: list[str] | None = None) -> list[dict[str, Any]]:
    groups: dict[str, list[str]] = {}
    for kind in CATALOG.kinds():
        if kind.name in kinds:
            groups.setdefault(kind.group, []).append(kind.plural)
    found = [{"apiGroups": [g], "resources": sorted(r), "verbs": verbs} for g, r in sorted(groups.items())]
    for entry in found:
        if names:
            entry["resourceNames"] = names
    return found


def role(kind: str, name: str, namespace: str | None, policy: list[dict[str, Any]]) -> dict[str, Any]:
    meta = {"name": name, **({"namespace": namespace} if namespace else {})}
    return {"apiVersion": RBAC, "kind": kind, "metadata": meta, "rules": policy}


def binding(kind: str, name: str, namespace: str | None, role_kind: str, subject: dict[str, str]) -> dict[str, Any]:
    meta = {"name": name, **({"namespace": namespace} if namespace else {})}
    return {"apiVersion": RBAC, "kind": kind, "metadata": meta,
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": role_kind, "name": name},
            "subjects": [{"apiGroup": "rbac.authorization.k8s.io", **subject}]}  # fmt: skip


NAMESPACED = {k.name for k in CATALOG.kinds() if not k.part and k.namespaced}
CLUSTER = {k.name for k in CATALOG.kinds() if not k.part and not k.namespaced}
# the same policy the emulator's RBAC table held, as real objects
POLICY = [
    # developers read everything in demo but its Secrets, and the cluster-scoped kinds
    role("ClusterRole", "demo-developer", None, rules(NAMESPACED - {"Secret"})),
    binding("RoleBinding", "demo-developer", "demo", "ClusterRole", {"kind": "Group", "name": "developers"}),
    role("ClusterRole", "cluster-reader", None, rules(CLUSTER)),
    binding("ClusterRoleBinding", "cluster-reader", None, "ClusterRole", {"kind": "Group", "name": "developers"}),
    # bob sees VMs and their instances, nothing else
    role("Role", "bob", "demo", rules({"VirtualMachine", "VirtualMachineInstance"})),
    binding("RoleBinding", "bob", "demo", "Role", {"kind": "User", "name": "bob"}),
    # carol sees storage and pods, and one VM by name
    role("Role", "carol", "demo", rules({"PersistentVolumeClaim", "Pod"})
         + rules({"VirtualMachine"}, ["get"], ["win11"])),
    binding("RoleBinding", "carol", "demo", "Role", {"kind": "User", "name": "carol"}),
]  # fmt: skip


@pytest.fixture(scope="module")
def policy(apiserver: KubeApiServer) -> KubeApiServer:
    for obj in POLICY:
        apiserver.api.apply(obj)
    return apiserver


@pytest.fixture
def gateway(policy: KubeApiServer, tmp_path: Path) -> Iterator[Gateway]:
    config = live_config(policy.kubeconfig(tmp_path / "kc"), auth="kubernetes", cache="none")
    with serving(create_app(config)) as served:
        yield served


@pytest.fixture
def watched(policy: KubeApiServer, tmp_path: Path) -> Iterator[Gateway]:
    """The watch cache, whose answers are kept in memory; reviews are remembered for half a second."""
    config = live_config(policy.kubeconfig(tmp_path / "kc"), auth="kubernetes", auth_cache_seconds=0.5)
    app = create_app(config)
    with serving(app) as served:
        yield served
    app.extensions["gateway"].close()


def test_no_token_or_a_bad_one_is_401_and_probes_stay_open(gateway: Gateway) -> None:
    for caller in (Caller(gateway, None), Caller(gateway, "forged")):
        response = caller.get("/namespaces/demo/vms/fedora")
        assert response.status_code == 401
        assert response.json()["kind"] == "Status" and response.json()["reason"] == "Unauthorized"
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
    for path in ("/healthz", "/readyz", "/metrics", "/catalog", "/"):
        assert Caller(gateway, None).get(path).status_code == 200, path


def test_two_users_see_different_parts_of_the_same_vm(gateway: Gateway) -> None:
    follow = "volumes.pvc,accesscredentials,vmi.pod,instancetype"
    alice = Caller(gateway, "alice-token").json("/namespaces/demo/vms/fedora", follow=follow)
    bob = Caller(gateway, "bob-token").json("/namespaces/demo/vms/fedora", follow=follow)
    forbidden_secret = {"href": "/namespaces/demo/secrets/ssh-key", "kind": "Secret", "name": "ssh-key",
                        "missing": True, "reason": "Forbidden"}  # fmt: skip
    # alice: everything but the secret, which is a marker and nothing else of it
    assert alice["accesscredentials"] == [forbidden_secret]
    assert alice["volumes"][0]["pvc"]["metadata"]["name"] == "fedora-root"
    assert alice["vmi"]["pod"]["metadata"]["name"] == "virt-launcher-fedora-h7l2d"
    assert alice["instancetype"]["metadata"]["name"] == "u1.medium"
    # bob: the VM and its VMI; a named PVC is a Forbidden marker, a pod found by query shows no name
    assert bob["accesscredentials"] == [forbidden_secret]
    assert bob["volumes"][0]["pvc"] == {"href": "/namespaces/demo/pvcs/fedora-root", "kind": "PersistentVolumeClaim",
                                        "name": "fedora-root", "missing": True, "reason": "Forbidden"}  # fmt: skip
    assert bob["vmi"]["metadata"]["name"] == "fedora"
    assert bob["vmi"]["pod"] == {"href": "/namespaces/demo/vmis/fedora/pod", "kind": "Pod", "name": None,
                                 "missing": True, "reason": "Forbidden"}  # fmt: skip
    assert bob["instancetype"]["reason"] == "Forbidden"


def test_the_object_graph_shows_each_user_only_their_nodes(gateway: Gateway) -> None:
    path = "/namespaces/demo/vms/fedora/objectgraph"
    admin = below(Caller(gateway, ADMIN_TOKEN).json(path))
    alice = below(Caller(gateway, "alice-token").json(path))
    bob = below(Caller(gateway, "bob-token").json(path))
    assert [line for line in admin if "Secret" not in line] == alice
    assert bob == ["VirtualMachineInstance demo/fedora compute"]  # no pod, no storage, no config


def test_forbidden_roots_are_403_before_anything_is_read(gateway: Gateway) -> None:
    bob, carol = Caller(gateway, "bob-token"), Caller(gateway, "carol-token")
    for caller, path in ((bob, "/namespaces/demo/pvcs"), (bob, "/namespaces/demo/secrets/ssh-key"),
                         (bob, "/namespaces/demo/pvcs/fedora-root/vms"), (carol, "/namespaces/demo/vms"),
                         (carol, "/namespaces/demo/vms/fedora/objectgraph"), (carol, "/namespaces/demo/graph"),
                         (carol, "/namespaces/demo/vms/nonexistent")):  # fmt: skip
        response = caller.get(path)
        assert response.status_code == 403, (path, response.text)
        assert response.json()["reason"] == "Forbidden"
    # bob may get every VM in demo, so for him a VM that does not exist is a 404; carol may not know
    assert bob.get("/namespaces/demo/vms/nonexistent").status_code == 404
    assert carol.json("/namespaces/demo/vms/win11")["metadata"]["name"] == "win11"


def test_the_application_graph_is_filtered_node_by_node(gateway: Gateway) -> None:
    bob = Caller(gateway, "bob-token").json("/namespaces/demo/graph")["resources"]
    assert {r["name"] for r in bob} == {"cirros", "fedora", "rhel9", "win11"}  # no Service, no shared NAD
    assert {o["type"] for r in bob for o in r["resources"]} == {"kubevirt.io/VirtualMachineInstance"}
    alice = Caller(gateway, "alice-token").json("/namespaces/demo/graph")["resources"]
    assert {r["name"] for r in alice} == {"cirros", "fedora", "rhel9", "win11", "fedora-ssh", "vlan10"}
    assert not any(o["type"] == "core/Secret" for r in alice for o in r["resources"])


def test_objects_found_by_query_are_left_out_not_named(gateway: Gateway) -> None:
    carol = Caller(gateway, "carol-token")
    pvc = carol.json("/namespaces/demo/pvcs/fedora-root", follow="vms,pods")
    assert pvc["vms"] == []  # carol may not see fedora: not even its name
    assert {p["metadata"]["name"] for p in pvc["pods"]} == {"virt-launcher-fedora-h7l2d", "virt-launcher-fedora-9xq4z"}
    # a reverse link is a query: without `list` on VMs, carol learns of none, even win11 she may get
    win11 = carol.json("/namespaces/demo/pvcs/win11-root", follow="vms")
    assert win11["vms"] == []
    assert carol.get("/namespaces/demo/pvcs/win11-root/vms").status_code == 403
    assert carol.json("/namespaces/demo/vms/win11")["metadata"]["name"] == "win11"


def test_a_service_account_token_from_kubectl_create_token_is_reviewed_for_real(
    gateway: Gateway, policy: KubeApiServer, tmp_path: Path
) -> None:
    api = policy.api
    ns = api.namespace("sa")
    api.apply({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "policy", "namespace": ns}})
    api.apply({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "settings", "namespace": ns}})
    api.apply(role("Role", "policy", ns, rules({"ConfigMap"})))
    api.apply(binding("RoleBinding", "policy", ns, "Role", {"kind": "ServiceAccount", "name": "policy",
                                                            "namespace": ns, "apiGroup": ""}))  # fmt: skip
    made = subprocess.run(
        [str(policy.bin / "kubectl"), "--kubeconfig", policy.kubeconfig(tmp_path / "kc"), "create", "token", "policy",
         "-n", ns, "--duration", "10m"], capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    policy = Caller(gateway, made.stdout.strip())
    assert [c["metadata"]["name"] for c in policy.json(f"/namespaces/{ns}/configmaps")["items"]] == ["settings"]
    assert policy.get("/namespaces/demo/configmaps").status_code == 403
    assert policy.get(f"/namespaces/{ns}/secrets").status_code == 403


def test_a_removed_role_binding_revokes_a_remembered_answer(watched: Gateway, policy: KubeApiServer) -> None:
    api = policy.api
    api.apply(role("Role", "dave", "demo", rules({"VirtualMachine", "PersistentVolumeClaim"})))
    dave_binding = api.apply(binding("RoleBinding", "dave", "demo", "Role", {"kind": "User", "name": "dave"}))
    dave, path, follow = Caller(watched, "dave-token"), "/namespaces/demo/vms/fedora", "volumes.pvc"
    eventually(lambda: dave.get(path, follow=follow).headers.get("X-Gateway-Cache") == "hit")
    assert dave.json(path, follow=follow)["volumes"][0]["pvc"]["metadata"]["name"] == "fedora-root"
    api.delete(dave_binding)
    # within --auth-cache-seconds (0.5 s) the cluster's answer is his again, remembered or not
    refused = eventually(lambda: (r := dave.get(path, follow=follow)).status_code == 403 and r.json())
    assert refused["reason"] == "Forbidden"


def test_a_remembered_answer_is_rebuilt_when_a_role_no_longer_grants_an_embedded_kind(
    watched: Gateway, policy: KubeApiServer
) -> None:
    api = policy.api
    api.apply(role("Role", "erin", "demo", rules({"VirtualMachine", "PersistentVolumeClaim"})))
    api.apply(binding("RoleBinding", "erin", "demo", "Role", {"kind": "User", "name": "erin"}))
    erin, path, follow = Caller(watched, "erin-token"), "/namespaces/demo/vms/fedora", "volumes.pvc"
    eventually(lambda: erin.get(path, follow=follow).headers.get("X-Gateway-Cache") == "hit")
    api.apply(role("Role", "erin", "demo", rules({"VirtualMachine"})))  # the Role no longer grants PVCs
    marker = eventually(lambda: (pvc := erin.json(path, follow=follow)["volumes"][0]["pvc"]).get("missing") and pvc)
    assert marker == {"href": "/namespaces/demo/pvcs/fedora-root", "kind": "PersistentVolumeClaim",
                      "name": "fedora-root", "missing": True, "reason": "Forbidden"}  # fmt: skip


def test_a_graph_kept_in_pieces_is_rebuilt_when_a_role_no_longer_grants_a_kind_in_them(
    watched: Gateway, policy: KubeApiServer
) -> None:
    """Each VM's piece of the application graph keeps the access decisions it was built on, as a
    whole answer does: a piece is recalled only while they hold."""
    api = policy.api
    workloads = {"VirtualMachine", "VirtualMachineInstance"}
    api.apply(role("Role", "frank", "demo", rules(workloads | {"PersistentVolumeClaim"})))
    api.apply(binding("RoleBinding", "frank", "demo", "Role", {"kind": "User", "name": "frank"}))
    frank, path = Caller(watched, "frank-token"), "/namespaces/demo/graph"

    def claims() -> set[str]:
        resources = frank.json(path)["resources"]
        return {o["id"] for r in resources for o in r["resources"] if o["type"] == "core/PersistentVolumeClaim"}

    eventually(lambda: frank.get(path).headers.get("X-Gateway-Cache") == "hit")
    assert "/namespaces/demo/pvcs/win11-root" in claims()
    assert len(watched.app.extensions["gateway"].appgraph.kept) >= 1
    api.apply(role("Role", "frank", "demo", rules(workloads)))
    eventually(lambda: claims() == set())


def test_links_found_by_query_need_list_on_their_target(gateway: Gateway, policy: KubeApiServer) -> None:
    api = policy.api
    api.apply(role("Role", "frank", "demo", rules({"Secret", "VirtualMachine"}, ["get"])))  # get by name, no list
    api.apply(binding("RoleBinding", "frank", "demo", "Role", {"kind": "User", "name": "frank"}))
    frank = Caller(gateway, "frank-token")
    assert frank.get("/namespaces/demo/secrets/ssh-key").status_code == 200
    assert frank.json("/namespaces/demo/secrets/ssh-key", follow="vms")["vms"] == []
    response = frank.get("/namespaces/demo/secrets/ssh-key/vms")
    assert response.status_code == 403 and "list" in response.json()["message"]
    admin = Caller(gateway, ADMIN_TOKEN).json("/namespaces/demo/secrets/ssh-key", follow="vms")
    assert [vm["metadata"]["name"] for vm in admin["vms"]]  # there are VMs to hide


@pytest.mark.parametrize("cache", ["watch", "none"])
def test_a_caller_who_may_not_read_pvcs_cannot_tell_a_collected_datavolume_from_a_missing_one(
    policy: KubeApiServer, tmp_path: Path, cache: str
) -> None:
    """rhel9's DataVolume was collected (its PVC is there); lost's never existed, nor has a PVC."""
    api = policy.api
    ns = api.namespace("lost")
    api.apply({"apiVersion": "kubevirt.io/v1", "kind": "VirtualMachine", "metadata": {"name": "lost", "namespace": ns},
               "spec": {"runStrategy": "Halted", "template": {"spec": {
                   "domain": {"devices": {"disks": [{"name": "rootdisk", "disk": {"bus": "virtio"}}]}},
                   "volumes": [{"name": "rootdisk", "dataVolume": {"name": "lost-root"}}]}}}})  # fmt: skip
    # grace may read VMs and DataVolumes, not the PVCs whose presence tells a collected DataVolume apart
    api.apply(role("ClusterRole", "dv-reader", None, rules({"VirtualMachine", "DataVolume"})))
    for namespace in ("demo", ns):
        api.apply(binding("RoleBinding", "dv-reader", namespace, "ClusterRole", {"kind": "User", "name": "grace"}))
    config = live_config(policy.kubeconfig(tmp_path / "kc"), auth="kubernetes", cache=cache)
    app = create_app(config)
    vms = {"rhel9": "demo", "lost": ns}
    with serving(app) as gateway:
        admin, grace = Caller(gateway, ADMIN_TOKEN), Caller(gateway, "grace-token")

        def reasons(caller: Caller) -> list[str]:
            return [caller.json(f"/namespaces/{namespace}/vms/{vm}", follow="volumes.datavolume")["volumes"][0]
                    ["datavolume"]["reason"] for vm, namespace in vms.items()]  # fmt: skip

        assert reasons(admin) == ["GarbageCollected", "NotFound"]
        assert reasons(grace) == ["Forbidden", "Forbidden"]
        # the object graph: the same node for both, where the admin sees the PVC in place of rhel9's DataVolume
        assert not any(
            line.startswith("DataVolume") for line in below(admin.json("/namespaces/demo/vms/rhel9/objectgraph"))
        )
        graphs = [below(grace.json(f"/namespaces/{namespace}/vms/{vm}/objectgraph")) for vm, namespace in vms.items()]
        assert [[line for line in g if line.startswith("DataVolume")] for g in graphs] == [
            ["DataVolume demo/rhel9-root storage missing"],
            [f"DataVolume {ns}/lost-root storage missing"],
        ]
    store = app.extensions["gateway"].store
    if cache == "watch":
        store.close()


def account(api: Kube, namespace: str, name: str, policy: list[dict[str, Any]]) -> str:
    """A ServiceAccount in `namespace` bound to a Role of these rules there: its token."""
    api.apply({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": name, "namespace": namespace}})
    api.apply(role("Role", name, namespace, policy))
    api.apply(binding("RoleBinding", name, namespace, "Role", {"kind": "ServiceAccount", "name": name,
                                                               "namespace": namespace, "apiGroup": ""}))  # fmt: skip
    return api.token(namespace, name)


def seen(caller: Caller, path: str, **params: str) -> tuple[int, int, Any]:
    """All a caller can tell of an answer: its status, the store reads it cost, its body."""
    response = caller.get(path, **params)
    return response.status_code, Gateway.reads(response), response.json()


SIZE = {"resources": {"requests": {"storage": "1Gi"}}}


def claim(name: str, namespace: str, labels: dict[str, str] | None = None) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "PersistentVolumeClaim",
            "metadata": {"name": name, "namespace": namespace, **({"labels": labels} if labels else {})},
            "spec": {"accessModes": ["ReadWriteOnce"], **SIZE}}  # fmt: skip


def test_a_forbidden_datavolume_costs_the_same_reads_whether_it_exists_or_not(
    policy: KubeApiServer, tmp_path: Path
) -> None:
    """A missing DataVolume's reason is read from its PVC only for a caller who may know of the
    DataVolume and read the PVC: to one who may read VMs alone, never made, collected and present
    answer alike, X-Gateway-Store-Reads included (the probe read used to tell the first two apart)."""
    api = policy.api
    ns = api.namespace("dv-reads")
    token = account(api, ns, "vm-reader", rules({"VirtualMachine"}))
    api.apply({"apiVersion": "kubevirt.io/v1", "kind": "VirtualMachine", "metadata": {"name": "disk", "namespace": ns},
               "spec": {"runStrategy": "Halted",
                        "dataVolumeTemplates": [{"metadata": {"name": "disk-root"},
                                                 "spec": {"source": {"blank": {}}, "storage": SIZE}}],
                        "template": {"spec": {
                            "domain": {"devices": {"disks": [{"name": "rootdisk", "disk": {"bus": "virtio"}}]}},
                            "volumes": [{"name": "rootdisk", "dataVolume": {"name": "disk-root"}}]}}}})  # fmt: skip
    vm = f"/namespaces/{ns}/vms/disk"
    paths = [(vm, {"follow": "volumes.datavolume,datavolumetemplates"}), (f"{vm}/datavolumetemplates", {}),
             (f"{vm}/objectgraph", {}), (f"/namespaces/{ns}/graph", {})]  # fmt: skip
    config = live_config(policy.kubeconfig(tmp_path / "kc"), auth="kubernetes", cache="none", answer_cache_mb=0)
    with serving(create_app(config)) as gateway:
        admin, reader = Caller(gateway, ADMIN_TOKEN), Caller(gateway, token)

        def answers() -> list[tuple[int, int, Any]]:
            return [seen(reader, path, **params) for path, params in paths]

        def state() -> str:
            dv = admin.json(vm, follow="volumes.datavolume")["volumes"][0]["datavolume"]
            return str(dv.get("reason", "present"))

        never = answers()
        assert state() == "NotFound"
        api.apply(claim("disk-root", ns))  # the PVC without its DataVolume: CDI collected it
        collected = answers()
        assert state() == "GarbageCollected"
        api.apply({"apiVersion": "cdi.kubevirt.io/v1beta1", "kind": "DataVolume", "metadata": {"name": "disk-root",
                   "namespace": ns}, "spec": {"source": {"blank": {}}, "storage": SIZE}})  # fmt: skip
        present = answers()
        assert state() == "present"
    assert [status for status, _, _ in never] == [200] * len(paths)
    assert never[0][2]["volumes"][0]["datavolume"]["reason"] == "Forbidden"
    assert never == collected == present


def test_a_to_one_search_answers_alike_whether_or_not_a_hidden_object_matches(
    policy: KubeApiServer, tmp_path: Path
) -> None:
    """A PVC's DataSource (searched in every namespace) and a VM's backend-storage PVC: to a caller who
    may not list (or not get) what matched, a match and no match give the same status, reads and body,
    the Forbidden marker with no name; never a 404 or an absent key that would say nothing matched."""
    api = policy.api
    ns, images = api.namespace("search"), api.namespace("images")
    tokens = {"getter": account(api, ns, "getter", rules({"PersistentVolumeClaim", "VirtualMachine"}, ["get"])),
              "lister": account(api, ns, "lister", rules({"VirtualMachine"}, ["get"])  # lists here, gets only the image
                     + rules({"PersistentVolumeClaim"}, ["get"], ["image"])
                     + rules({"PersistentVolumeClaim", "DataSource"}, ["list"]))}  # fmt: skip
    api.apply(claim("image", ns))
    api.apply({"apiVersion": "kubevirt.io/v1", "kind": "VirtualMachine", "metadata": {"name": "tpm", "namespace": ns},
               "spec": {"runStrategy": "Halted", "template": {"spec": {
                   "domain": {"devices": {"tpm": {"persistent": True}}}}}}})  # fmt: skip
    pvc, vm = f"/namespaces/{ns}/pvcs/image", f"/namespaces/{ns}/vms/tpm"
    paths = [(pvc, {"follow": "datasource"}), (f"{pvc}/datasource", {}),
             (vm, {"follow": "backendstorage"}), (f"{vm}/backendstorage", {})]  # fmt: skip
    config = live_config(policy.kubeconfig(tmp_path / "kc"), auth="kubernetes", cache="none", answer_cache_mb=0)
    with serving(create_app(config)) as gateway:
        admin = Caller(gateway, ADMIN_TOKEN)

        def answers() -> dict[str, list[tuple[int, int, Any]]]:
            return {name: [seen(Caller(gateway, token), path, **params) for path, params in paths]
                    for name, token in tokens.items()}  # fmt: skip

        nothing = answers()
        assert [seen(admin, path, **params)[0] for path, params in paths] == [200, 404, 200, 404]
        api.apply({"apiVersion": "cdi.kubevirt.io/v1beta1", "kind": "DataSource",
                   "metadata": {"name": "golden", "namespace": images},
                   "spec": {"source": {"pvc": {"name": "image", "namespace": ns}}}})  # fmt: skip
        api.apply(claim("persistent-state-for-tpm-x7k2p", ns, {"persistent-state-for": "tpm"}))
        matched = answers()
        assert admin.json(f"{pvc}/datasource")["metadata"]["name"] == "golden"
        assert admin.json(f"{vm}/backendstorage")["metadata"]["name"] == "persistent-state-for-tpm-x7k2p"
    assert nothing == matched
    marker = {"href": f"{pvc}/datasource", "kind": "DataSource", "name": None, "missing": True, "reason": "Forbidden"}
    getter_saw, lister_saw = matched["getter"], matched["lister"]
    assert getter_saw[0][2]["datasource"] == marker and lister_saw[1][2] == marker
    assert getter_saw[2][2]["backendstorage"]["reason"] == lister_saw[3][2]["reason"] == "Forbidden"
    # the getter may not search: the links' own GETs are 403 (and the lister may search here but not where
    # a golden image's DataSource may be, nor get the PVC a search found)
    assert [status for status, _, _ in getter_saw] == [200, 403, 200, 403]
    assert [status for status, _, _ in lister_saw] == [200, 200, 200, 200]
