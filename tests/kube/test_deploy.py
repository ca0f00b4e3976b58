"""deploy/ applied to the real API server, and the gateway's own ServiceAccount, with exactly that
ClusterRole, serves the whole demo as an admin's gateway does."""

from __future__ import annotations

from pathlib import Path

import yaml

from gateway.app import create_app
from tests.support.apiserver import ADMIN_TOKEN, KubeApiServer
from tests.support.demo_requests import REQUESTS
from tests.support.gateway import Caller, live_config, serving
from tests.support.processes import ROOT


def test_the_deploy_manifests_apply_and_their_role_serves_the_whole_demo(
    apiserver: KubeApiServer, tmp_path: Path
) -> None:
    api = apiserver.api
    for manifest in sorted((ROOT / "deploy").glob("*.yaml")):
        for obj in yaml.safe_load_all(manifest.read_text()):
            if obj:
                api.apply(obj)  # validated by the real API server, the Deployment included
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
