"""The API contract served: /openapi.json (flask-smorest's), /openapi.yaml, and Swagger UI at /api, its
assets served from the swagger-ui-bundle package (nothing is fetched from elsewhere at run time)."""

from __future__ import annotations

import json
from typing import Any

import yaml
from apispec import APISpec, BasePlugin
from flask import Blueprint, Flask, Response, request, send_from_directory
from swagger_ui_bundle import swagger_ui_path

from gateway.api.caching import CACHE_HEADER
from gateway.api.responses import READS_HEADER

ASSETS = "/api/assets/"

SETTINGS = {
    "OPENAPI_URL_PREFIX": "/",
    "OPENAPI_JSON_PATH": "openapi.json",
    "OPENAPI_SWAGGER_UI_PATH": "api",
    # relative to the page (/api), so that under the aggregated API path its assets are found there too
    "OPENAPI_SWAGGER_UI_URL": ASSETS.removeprefix("/"),
}
"""flask-smorest's settings that serve the document and the page."""


DOT = "x-gateway-dot"
"""An operation marked `@blp.doc(**{DOT: True})` also answers Graphviz DOT (`format=dot`)."""

HEADERS: dict[str, dict[str, Any]] = {
    "ETag": {
        "description": "A hash of the body; `:<encoding>` appended when the body is compressed. "
        "Send it back as If-None-Match: an unchanged answer is a 304",
        "schema": {"type": "string"},
    },
    READS_HEADER: {
        "description": "How many store lookups the answer cost (0 when it came from memory)",
        "schema": {"type": "integer", "minimum": 0},
    },
    CACHE_HEADER: {
        "description": "`hit`: answered from memory, as nothing it read has changed since",
        "schema": {"type": "string", "enum": ["hit"]},
    },
    "Warning": {
        "description": '299 - "<Kind> may be stale: its watch has been failing since <time> (<error>)", one per '
        "such kind the answer read",
        "schema": {"type": "string"},
    },
}

SECURITY_SCHEME = {
    "type": "http",
    "scheme": "bearer",
    "description": "A Kubernetes bearer token (with --auth kubernetes, the default with --kube): each caller "
    "sees only what the cluster would show them. Without it (--auth none) no token is needed.",
}


def _schema(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


FOLLOWED = {
    "description": "A link followed (`follow=`), under its rel's name: the target entity, a Missing marker "
    "where the target is gone or hidden, or a list of them; beside these, the object's own fields (spec, status)",
    "anyOf": [
        _schema("Entity"),
        _schema("Missing"),
        {"type": "array", "items": {"anyOf": [_schema("Entity"), _schema("Missing")]}},
        {"description": "the object's own fields: spec, status, data, ..."},
    ],
}
"""What an entity's extra top-level keys hold. The last alternative accepts anything, as the object's own
fields are keys too (OpenAPI 3.0 has no patternProperties to tell them from rels); the others say what a
followed link looks like and give Missing its one use."""


class ContractPlugin(BasePlugin):
    """What every operation's documentation needs beyond what flask-smorest writes: the headers of every
    answer, the 304 of every GET, Graphviz DOT beside JSON where a graph has it."""

    def init_spec(self, spec: APISpec) -> None:
        self.spec = spec
        for name, header in HEADERS.items():
            spec.components.header(name, header)
        spec.components.security_scheme("bearer", SECURITY_SCHEME)

    def schema_helper(self, name: str, definition: dict[str, Any], **_: Any) -> dict[str, Any] | None:
        return {"additionalProperties": FOLLOWED} if name == "Entity" else None

    def operation_helper(self, path: str | None = None, operations: dict[str, Any] | None = None, **_: Any) -> None:
        for method, operation in (operations or {}).items():
            dot = operation.pop(DOT, False)
            responses: dict[Any, Any] = operation.setdefault("responses", {})
            for code, response in responses.items():
                if not isinstance(response, dict):
                    continue  # a reference to a shared response (flask-smorest's default error)
                response.setdefault("description", f"HTTP {code}")
                response.setdefault("headers", {})[READS_HEADER] = {"$ref": f"#/components/headers/{READS_HEADER}"}
            ok = responses.get(200) or responses.get("200")
            if ok is not None and dot:
                ok.setdefault("content", {})["text/vnd.graphviz"] = {
                    "schema": {"type": "string", "description": "Graphviz DOT"}
                }
            if method != "get" or ok is None:
                continue
            for name in HEADERS:
                ok["headers"][name] = {"$ref": f"#/components/headers/{name}"}
            responses[304] = {
                "description": "Not modified: If-None-Match names the answer's ETag, and the answer is unchanged",
                "headers": {name: {"$ref": f"#/components/headers/{name}"} for name in ("ETag", READS_HEADER)},
            }


def spec_of(app: Flask, root: str = "") -> dict[str, Any]:
    """The OpenAPI document; served under a path prefix (the aggregated API path), it names that prefix as
    its server, so that a client of the document, Swagger UI's "Try it out" among them, calls it there."""
    spec: dict[str, Any] = app.extensions["gateway_api"].spec.to_dict()
    return {**spec, "servers": [{"url": root}]} if root else spec


def spec_yaml(app: Flask) -> str:
    """The OpenAPI document as YAML, keys sorted: what `make openapi` writes and /openapi.yaml serves."""
    return _yaml(spec_of(app))


def _yaml(spec: dict[str, Any]) -> str:
    return str(yaml.safe_dump(spec, sort_keys=True, allow_unicode=True))


def init_contract(app: Flask) -> None:
    blueprint = Blueprint("contract", __name__)
    built: dict[tuple[str, str], str] = {}  # the document is fixed once the app is built: one per format and root

    def served(kind: str, mimetype: str) -> Response:
        key = (kind, request.script_root)
        if key not in built:
            spec = spec_of(app, request.script_root)
            built[key] = json.dumps(spec, indent=2) if kind == "json" else _yaml(spec)
        return Response(built[key], mimetype=mimetype)

    @blueprint.route("/openapi.yaml")
    def openapi_yaml() -> Response:
        return served("yaml", "application/yaml")

    # flask-smorest's own view of /openapi.json, which knows of no prefix, answered by ours
    app.view_functions["api-docs.openapi_json"] = lambda: served("json", "application/json")

    @blueprint.route(ASSETS + "<path:filename>")
    def swagger_assets(filename: str) -> Response:
        return send_from_directory(swagger_ui_path, filename, max_age=3600)

    app.register_blueprint(blueprint)
