"""deploy/ parses, and the gateway's ClusterRole grants exactly what the catalogue reads."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from gateway.catalog import CATALOG

DEPLOY = Path(__file__).resolve().parent.parent / "deploy"


def documents() -> list[dict[str, Any]]:
    return [d for f in sorted(DEPLOY.glob("*.yaml")) for d in yaml.safe_load_all(f.read_text()) if d]


def test_manifests_parse_and_name_their_kinds() -> None:
    kinds = {d["kind"] for d in documents()}
    assert {"Namespace", "Deployment", "Service", "ServiceAccount", "ClusterRole", "ClusterRoleBinding"} <= kinds


def test_cluster_role_reads_every_catalogue_kind_and_writes_nothing() -> None:
    role = next(d for d in documents() if d["kind"] == "ClusterRole")
    granted: dict[tuple[str, str], set[str]] = {}
    for rule in role["rules"]:
        for group in rule["apiGroups"]:
            for resource in rule["resources"]:
                granted.setdefault((group, resource), set()).update(rule["verbs"])
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
