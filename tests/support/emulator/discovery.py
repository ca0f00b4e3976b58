"""Discovery: /version, /api, /apis, each group and each group-version's resources, as served right now."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, request

from tests.support.emulator.cluster import Cluster
from tests.support.emulator.http import as_json, served_groups, status


def discovery(cluster: Cluster) -> Blueprint:
    blueprint = Blueprint("discovery", __name__)

    def group_doc(group: str) -> dict[str, Any]:
        versions = sorted({r.version for r in served_groups(cluster)[group]}, reverse=True)
        entries = [{"groupVersion": f"{group}/{v}", "version": v} for v in versions]
        return {"name": group, "versions": entries, "preferredVersion": entries[0]}

    def resource_list(group: str, version: str) -> Response:
        served = [r for r in served_groups(cluster).get(group, []) if r.version == version]
        if not served:
            return status(404, "NotFound", "the server could not find the requested resource")
        resources = [{"name": r.plural, "singularName": r.singular, "namespaced": r.namespaced, "kind": r.kind,
                      "verbs": list(r.verbs), **({"shortNames": list(r.short_names)} if r.short_names else {})}
                     for r in served]  # fmt: skip
        group_version = f"{group}/{version}" if group else version
        return as_json(
            {"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": group_version, "resources": resources}
        )

    @blueprint.get("/version")
    def version() -> Response:
        return as_json({"major": "1", "minor": "32", "gitVersion": "v1.32.0-emulator", "platform": "linux/amd64"})

    @blueprint.get("/api")
    def core_versions() -> Response:
        address = [{"clientCIDR": "0.0.0.0/0", "serverAddress": request.host}]
        return as_json({"kind": "APIVersions", "versions": ["v1"], "serverAddressByClientCIDRs": address})

    @blueprint.get("/apis")
    def group_list() -> Response:
        groups = [group_doc(g) for g in sorted(served_groups(cluster)) if g]
        return as_json({"kind": "APIGroupList", "apiVersion": "v1", "groups": groups})

    @blueprint.get("/apis/<group>")
    def one_group(group: str) -> Response:
        if group not in served_groups(cluster) or not group:
            return status(404, "NotFound", f"the server could not find the requested resource ({group})")
        return as_json({"kind": "APIGroup", "apiVersion": "v1", **group_doc(group)})

    @blueprint.get("/api/<version>")
    def core_resources(version: str) -> Response:
        return resource_list("", version)

    @blueprint.get("/apis/<group>/<version>")
    def group_resources(group: str, version: str) -> Response:
        return resource_list(group, version)

    return blueprint
