"""deploy/ (`kubectl apply -k deploy/`) applied to the real API server, and the gateway's own ServiceAccount,
with exactly that ClusterRole, serves the whole demo as an admin's gateway does."""

from __future__ import annotations

import subprocess
from pathlib import Path

import yaml

from gateway.app import create_app
from tests.support.apiserver import ADMIN_TOKEN, KubeApiServer
from tests.support.demo_requests import REQUESTS
from tests.support.gateway import Caller, live_config, serving
from tests.support.pod import deploy_objects
from tests.support.processes import ROOT


def test_the_deploy_manifests_apply_and_their_role_serves_the_whole_demo(
    apiserver: KubeApiServer, tmp_path: Path
) -> None:
    api = apiserver.api
    for obj in deploy_objects():
        api.apply(obj)  # validated by the real API server, the Deployment and its PodDisruptionBudget included
    token = api.token("kubevirt-gateway", "kubevirt-gateway")
    admin_config = live_config(apiserver.kubeconfig(tmp_path / "admin"))
    for cache in ("watch", "none"):
        # the gateway reads as its ServiceAccount, and reviews callers with it (--auth kubernetes)
        own = live_config(apiserver.kubeconfig(tmp_path / cache, token), cache=cache, auth="kubernetes")
        own_app, admin_app = create_app(own), create_app(admin_config)
        with serving(own_app) as gateway, serving(admin_app) as admin:
            caller = Caller(gateway, ADMIN_TOKEN)
            for path, params in REQUESTS:
                expected, got = admin.get(path, **params), caller.get(path, **params)
                assert (got.status_code, got.json()) == (expected.status_code, expected.json()), (cache, path)
        for app in (own_app, admin_app):
            store = app.extensions["gateway"].store
            if hasattr(store, "close"):
                store.close()


def test_kubectl_apply_k_deploy_works_with_the_installer_role_and_no_more(
    apiserver: KubeApiServer, tmp_path: Path
) -> None:
    """docs/deploy.md's step 4 as its step 3's installer runs it: the suite's kubectl, the installer's token."""
    api = apiserver.api
    role = yaml.safe_load((ROOT / "deploy/installer/clusterrole.yaml").read_text())
    api.apply(role)
    ns = api.namespace("installer")
    api.create({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "installer", "namespace": ns}})
    api.apply({
        "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding", "metadata": {"name": ns},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": role["metadata"]["name"]},
        "subjects": [{"kind": "ServiceAccount", "name": "installer", "namespace": ns}],
    })  # fmt: skip
    kubeconfig = apiserver.kubeconfig(tmp_path / "installer", api.token(ns, "installer"))
    kubectl = [str(apiserver.bin / "kubectl"), "--kubeconfig", kubeconfig]
    done = subprocess.run([*kubectl, "apply", "-k", str(ROOT / "deploy")], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "deployment.apps/kubevirt-gateway" in done.stdout
    for action in ("delete clusterrole/cluster-admin", "patch deployments -n kube-system", "delete namespace/default"):
        can = subprocess.run([*kubectl, "auth", "can-i", *action.split()], capture_output=True, text=True, timeout=30)
        assert can.stdout.strip() == "no", action
