"""deploy/ renders (`kubectl kustomize deploy/`), the gateway's ClusterRole grants exactly what the catalogue
reads, and the Deployment agrees with the image the Dockerfile builds."""

from __future__ import annotations

from functools import cache
from typing import Any

import yaml

from gateway.catalog import CATALOG
from tests.support.pod import deploy_objects, dockerfile
from tests.support.processes import ROOT


@cache
def documents() -> list[dict[str, Any]]:
    return deploy_objects()


def test_manifests_parse_and_name_their_kinds() -> None:
    kinds = {d["kind"] for d in documents()}
    assert {"Namespace", "Deployment", "Service", "ServiceAccount", "ClusterRole", "ClusterRoleBinding",
            "PodDisruptionBudget"} <= kinds  # fmt: skip


def grants(role: dict[str, Any]) -> dict[tuple[str, str], set[str]]:
    """(group, resource) -> verbs, for the rules that name no resourceNames."""
    granted: dict[tuple[str, str], set[str]] = {}
    for rule in role["rules"]:
        for group in rule["apiGroups"] if not rule.get("resourceNames") else ():
            for resource in rule["resources"]:
                granted.setdefault((group, resource), set()).update(rule["verbs"])
    return granted


def test_cluster_role_reads_every_catalogue_kind_and_writes_nothing() -> None:
    role = next(d for d in documents() if d["kind"] == "ClusterRole")
    granted = grants(role)
    wanted = {(k.group, k.plural) for k in CATALOG.kinds() if not k.part}
    reviews = {("authentication.k8s.io", "tokenreviews"), ("authorization.k8s.io", "subjectaccessreviews")}
    assert set(granted) == wanted | reviews
    for key in wanted:
        assert granted[key] == {"get", "list", "watch"}, key
    for key in reviews:
        assert granted[key] == {"create"}


def test_the_deployment_runs_the_wsgi_app_as_the_service_account() -> None:
    deployment = next(d for d in documents() if d["kind"] == "Deployment")
    pod = deployment["spec"]["template"]["spec"]
    binding = next(d for d in documents() if d["kind"] == "ClusterRoleBinding")
    assert pod["serviceAccountName"] == binding["subjects"][0]["name"]
    container = pod["containers"][0]
    assert "wsgi:app" in container["args"]
    assert {e["name"] for e in container["env"]} >= {"KUBEVIRT_GATEWAY_KUBE"}
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"


def test_the_replicas_are_drained_one_at_a_time() -> None:
    deployment = next(d for d in documents() if d["kind"] == "Deployment")
    budget = next(d for d in documents() if d["kind"] == "PodDisruptionBudget")
    assert deployment["spec"]["replicas"] > 1
    assert budget["spec"]["selector"] == deployment["spec"]["selector"]
    assert budget["spec"]["maxUnavailable"] < deployment["spec"]["replicas"]


def test_the_deployment_runs_the_image_the_dockerfile_builds() -> None:
    """The manifest's args are the whole command (no ENTRYPOINT), its files are in the image's WORKDIR, and
    the pod's uid is the image's USER; the container's only writable place is the volume its TMPDIR names."""
    image = dockerfile()
    pod = next(d for d in documents() if d["kind"] == "Deployment")["spec"]["template"]["spec"]
    container = pod["containers"][0]
    assert "ENTRYPOINT" not in image
    copied = " ".join(image["COPY"]).split()
    assert [a for a in container["args"] if a.endswith((".py", ":app"))] == ["gunicorn.conf.py", "wsgi:app"]
    assert {"gunicorn.conf.py", "wsgi.py"} <= set(copied)
    security = pod["securityContext"]
    assert image["USER"][-1] == f"{security['runAsUser']}:{security['runAsGroup']}"
    assert f"--uid {security['runAsUser']} --gid {security['runAsGroup']}" in " ".join(image["RUN"])
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    env = {e["name"]: e["value"] for e in container["env"]}
    mounts = {m["mountPath"] for m in container["volumeMounts"]}
    assert env["TMPDIR"] in mounts
    assert container["args"][container["args"].index("--worker-tmp-dir") + 1] in mounts


def test_the_installer_holds_what_it_grants_the_gateway() -> None:
    """RBAC lets no one grant what they do not hold (docs/deploy.md, step 3)."""
    role = next(d for d in documents() if d["kind"] == "ClusterRole")
    installer = grants(yaml.safe_load((ROOT / "deploy/installer/clusterrole.yaml").read_text()))
    for key, verbs in grants(role).items():
        assert verbs <= installer.get(key, set()), key


def test_a_role_lets_the_gateway_read_the_configmaps_of_its_own_namespace_and_nothing_else() -> None:
    """Declared links come from ConfigMaps in the gateway's namespace (docs/declaring-links.md)."""
    deployment = next(d for d in documents() if d["kind"] == "Deployment")
    namespace, account = (
        deployment["metadata"]["namespace"],
        deployment["spec"]["template"]["spec"]["serviceAccountName"],
    )
    # the gateway's own (an overlay may bind others, in other namespaces, such as kube-system's)
    role = next(d for d in documents() if d["kind"] == "Role" and d["metadata"]["namespace"] == namespace)
    binding = next(d for d in documents() if d["kind"] == "RoleBinding" and d["metadata"]["namespace"] == namespace)
    assert role["metadata"]["namespace"] == binding["metadata"]["namespace"] == namespace
    assert grants(role) == {("", "configmaps"): {"get", "list", "watch"}}
    assert binding["roleRef"] == {
        "apiGroup": "rbac.authorization.k8s.io",
        "kind": "Role",
        "name": role["metadata"]["name"],
    }
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": account, "namespace": namespace}]
    installer = grants(yaml.safe_load((ROOT / "deploy/installer/clusterrole.yaml").read_text()))
    assert installer[("", "configmaps")] >= {"get", "list", "watch"}  # RBAC lets no one grant what they lack


def test_the_aggregated_overlay_registers_the_group_and_serves_it_over_tls() -> None:
    """deploy/overlays/aggregated (DESIGN section 13): the APIService names the Service that selects the
    Deployment's pods on the port the gateway serves HTTPS on, from the certificate Secret it mounts."""
    objects = deploy_objects(ROOT / "deploy/overlays/aggregated")
    apiservice = next(d for d in objects if d["kind"] == "APIService")
    assert apiservice["metadata"]["name"] == "v1alpha1.kubevirt-gateway.io"
    assert (apiservice["spec"]["group"], apiservice["spec"]["version"]) == ("kubevirt-gateway.io", "v1alpha1")
    assert not apiservice["spec"].get("insecureSkipTLSVerify")
    service = next(d for d in objects if d["kind"] == "Service")
    named = apiservice["spec"]["service"]
    assert (named["name"], named["namespace"]) == (service["metadata"]["name"], service["metadata"]["namespace"])
    port = next(p for p in service["spec"]["ports"] if p["port"] == named["port"])
    deployment = next(d for d in objects if d["kind"] == "Deployment")
    pod = deployment["spec"]["template"]["spec"]
    assert service["spec"]["selector"] == deployment["spec"]["selector"]["matchLabels"]
    container = pod["containers"][0]
    serving = next(p for p in container["ports"] if p["name"] == port["targetPort"])
    assert f"0.0.0.0:{serving['containerPort']}" in container["args"]
    env = {e["name"]: e["value"] for e in container["env"]}
    mount = next(
        m for m in container["volumeMounts"] if env["KUBEVIRT_GATEWAY_TLS_CERT_FILE"].startswith(m["mountPath"])
    )
    assert env["KUBEVIRT_GATEWAY_TLS_PRIVATE_KEY_FILE"].startswith(mount["mountPath"])
    volume = next(v for v in pod["volumes"] if v["name"] == mount["name"])
    assert volume["secret"]["secretName"]
    for probe in ("readinessProbe", "livenessProbe"):
        assert container[probe]["httpGet"]["scheme"] == "HTTPS"


def test_the_aggregated_overlay_binds_what_an_aggregated_api_server_needs() -> None:
    objects = deploy_objects(ROOT / "deploy/overlays/aggregated")
    account = next(d for d in objects if d["kind"] == "ServiceAccount")["metadata"]
    subject = {"kind": "ServiceAccount", "name": account["name"], "namespace": account["namespace"]}
    bound = {(d["kind"], d["metadata"].get("namespace"), d["roleRef"]["name"])
             for d in objects if d["kind"].endswith("Binding") and subject in d["subjects"]}  # fmt: skip
    assert ("ClusterRoleBinding", None, "system:auth-delegator") in bound
    assert ("RoleBinding", "kube-system", "extension-apiserver-authentication-reader") in bound
    # users: reading the group, aggregated into the cluster's view, edit and admin roles
    labels = {f"rbac.authorization.k8s.io/aggregate-to-{r}" for r in ("view", "edit", "admin")}
    readers = [d for d in objects if d["kind"] == "ClusterRole" and labels <= set(d["metadata"].get("labels", {}))]
    assert readers
    for role in readers:
        assert all(d["metadata"]["labels"][label] == "true" for d in readers for label in labels)
        assert grants(role) == {("kubevirt-gateway.io", "*"): {"get", "list", "watch"}}
