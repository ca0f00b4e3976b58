"""Objects: get, and list with labelSelector, fieldSelector (metadata.name and metadata.namespace), limit and
continue; `watch=true` hands over to watch.py."""

from __future__ import annotations

import base64
import json
from typing import Any

from flask import Blueprint, Response, request

from tests.support.emulator.cluster import Cluster, Object
from tests.support.emulator.http import Settings, as_json, served_groups, status
from tests.support.emulator.resources import Resource
from tests.support.emulator.selectors import SelectorError, parse_selector
from tests.support.emulator.watch import watch_response

BUILTIN_GROUPS = {"", "apps", "storage.k8s.io", "authentication.k8s.io", "authorization.k8s.io"}


def field_selector(text: str) -> dict[str, str]:
    fields: dict[str, str] = {}
    for term in filter(None, text.split(",")):
        key, op, value = term.partition("==") if "==" in term else term.partition("=")
        if not op or key not in ("metadata.name", "metadata.namespace"):
            raise ValueError(f'field label not supported: "{key}"')
        fields[key] = value
    return fields


def matches(obj: Object, selector: Any, fields: dict[str, str]) -> bool:
    meta = obj.get("metadata", {})
    if not selector(meta.get("labels") or {}):
        return False
    return all(meta.get(k.split(".")[1]) == v for k, v in fields.items())


def objects(cluster: Cluster, settings: Settings) -> Blueprint:
    blueprint = Blueprint("objects", __name__)

    @blueprint.get("/api/<version>/<path:rest>")
    def core_objects(version: str, rest: str) -> Response:
        return read("", version, rest)

    @blueprint.get("/apis/<group>/<version>/<path:rest>")
    def group_objects(group: str, version: str, rest: str) -> Response:
        return read(group, version, rest)

    def read(group: str, version: str, rest: str) -> Response:
        parts = rest.strip("/").split("/")
        namespace: str | None = None
        if parts[0] == "namespaces" and len(parts) >= 3:
            namespace, parts = parts[1], parts[2:]
        plural, name = parts[0], (parts[1] if len(parts) > 1 else None)
        if len(parts) > 2:
            return status(404, "NotFound", "the server could not find the requested resource")
        resource = next(
            (r for r in served_groups(cluster).get(group, []) if r.version == version and r.plural == plural), None
        )
        if resource is None or (namespace is not None and not resource.namespaced):
            return status(404, "NotFound", "the server could not find the requested resource")
        if name is not None:
            obj = cluster.get(resource, namespace, name)
            if obj is None:
                return status(
                    404, "NotFound", f'{resource.plural}.{resource.group} "{name}" not found'.replace(". ", " ")
                )
            return as_json(obj)
        try:
            selector = parse_selector(request.args.get("labelSelector", ""))
            fields = field_selector(request.args.get("fieldSelector", ""))
        except (SelectorError, ValueError) as e:
            return status(400, "BadRequest", str(e))

        def wanted(obj: Object) -> bool:
            in_namespace = namespace is None or obj.get("metadata", {}).get("namespace") == namespace
            return in_namespace and matches(obj, selector, fields)

        if request.args.get("watch") in ("true", "1"):
            return watch_response(cluster, settings, resource, namespace, wanted)
        return list_objects(resource, namespace, wanted)

    def list_objects(resource: Resource, namespace: str | None, wanted: Any) -> Response:
        items, rv = cluster.objects(resource, namespace)
        items = [o for o in items if wanted(o)]
        token = request.args.get("continue")
        if token:
            after = tuple(json.loads(base64.urlsafe_b64decode(token)))
            items = [o for o in items if (o["metadata"].get("namespace") or "", o["metadata"]["name"]) > after]
        metadata: dict[str, Any] = {"resourceVersion": str(rv)}
        limit = int(request.args.get("limit") or 0)
        if limit and len(items) > limit:
            items = items[:limit]
            last = items[-1]["metadata"]
            metadata["continue"] = base64.urlsafe_b64encode(
                json.dumps([last.get("namespace") or "", last["name"]]).encode()).decode()  # fmt: skip
            metadata["remainingItemCount"] = 0
        if resource.group in BUILTIN_GROUPS:
            # the API server leaves kind and apiVersion out of the items of built-in lists
            items = [{k: v for k, v in o.items() if k not in ("kind", "apiVersion")} for o in items]
        return as_json(
            {"kind": f"{resource.kind}List", "apiVersion": resource.api_version, "metadata": metadata, "items": items}
        )

    return blueprint
