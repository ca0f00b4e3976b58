"""openapi.yaml is generated from the code; this fails when the checked-in copy is stale."""

from __future__ import annotations

from pathlib import Path

import yaml
from openapi_spec_validator import validate

from gateway.app import create_app
from gateway.cli.commands import openapi_yaml
from gateway.config import Config

CHECKED_IN = Path(__file__).resolve().parent.parent / "openapi.yaml"


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
