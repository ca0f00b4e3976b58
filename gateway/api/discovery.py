"""GET /: the collections as links. GET /catalog: every kind and its links (the follow names)."""

from __future__ import annotations

from flask import Response

from gateway.api.blueprint import Blueprint
from gateway.api.responses import json_response, state
from schemas.entities import CatalogSchema, IndexSchema

blp = Blueprint("discovery", __name__, description="What the gateway serves and how kinds link")


@blp.route("/")
@blp.response(200, IndexSchema)
def index() -> Response:
    return json_response(state().documents.index())


@blp.route("/catalog")
@blp.response(200, CatalogSchema)
def catalog() -> Response:
    return json_response(state().documents.catalog_document())
