"""openapi.yaml is generated from the code; this fails when the checked-in copy is stale."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml
from openapi_spec_validator import validate

from gateway.app import create_app
from gateway.cli.commands import openapi_yaml
from gateway.config import Config

CHECKED_IN = Path(__file__).resolve().parent.parent / "openapi.yaml"
SCHEMAS = "#/components/schemas/"


def _refs(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                yield value
            else:
                yield from _refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from _refs(value)


def test_checked_in_openapi_matches_the_code() -> None:
    generated = openapi_yaml(create_app(Config(extra={"TESTING": True})))
    assert CHECKED_IN.read_text() == generated, "openapi.yaml is stale: run `make openapi` and commit it"


def test_openapi_documents_every_route_with_status_errors() -> None:
    spec = yaml.safe_load(CHECKED_IN.read_text())
    paths = spec["paths"]
    for path in (
        "/namespaces/{namespace}/{collection}/{name}",
        "/{collection}/{name}",
        "/catalog",
        "/readyz",
    ):
        assert path in paths
    get = paths["/namespaces/{namespace}/{collection}/{name}"]["get"]
    assert {p["name"] for p in get["parameters"]} >= {"follow"}
    assert "Status" in spec["components"]["schemas"]


def test_the_checked_in_document_is_valid_openapi() -> None:
    validate(yaml.safe_load(CHECKED_IN.read_text()))


def test_every_schema_in_components_is_used() -> None:
    """Reachable from an operation (or a shared response or header), directly or through other schemas."""
    spec = yaml.safe_load(CHECKED_IN.read_text())
    schemas = spec["components"]["schemas"]
    outside = {**spec, "components": {k: v for k, v in spec["components"].items() if k != "schemas"}}
    pending = [ref.removeprefix(SCHEMAS) for ref in _refs(outside) if ref.startswith(SCHEMAS)]
    used: set[str] = set()
    while pending:
        name = pending.pop()
        if name not in used:
            used.add(name)
            pending += [ref.removeprefix(SCHEMAS) for ref in _refs(schemas[name]) if ref.startswith(SCHEMAS)]
    assert sorted(set(schemas) - used) == [], "schemas defined but used nowhere"
