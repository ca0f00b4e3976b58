"""GET /: the collections as links. GET /catalog: every kind and its links (the follow names).
GET /apis and below: the gateway's API group as Kubernetes discovery documents (DESIGN section 13)."""

from __future__ import annotations

from flask import Response

from gateway.api.blueprint import Blueprint
from gateway.api.responses import json_response, state
from gateway.documents import apigroup
from gateway.store import Discovering
from schemas.entities import CatalogSchema, IndexSchema

blp = Blueprint("discovery", __name__, description="What the gateway serves and how kinds link")


@blp.route("/")
@blp.response(200, IndexSchema)
def index() -> Response:
    return json_response(state().documents.index())


@blp.route("/catalog")
@blp.response(200, CatalogSchema)
def catalog() -> Response:
    store = state().store
    served = store.served_kinds() if isinstance(store, Discovering) else None
    return json_response(state().documents.catalog_document(served))


@blp.route("/apis")
@blp.response(200)
def api_groups() -> Response:
    """APIGroupList: the group kubevirt-gateway.io, as the cluster's API server finds it."""
    return json_response(apigroup.group_list())


@blp.route(f"/apis/{apigroup.GROUP}")
@blp.response(200)
def api_group() -> Response:
    """APIGroup kubevirt-gateway.io and its one version, v1alpha1."""
    return json_response(apigroup.group())


@blp.route(apigroup.PREFIX)
@blp.response(200)
def api_resources() -> Response:
    """APIResourceList: each collection a resource (get, list, watch); what the aggregator probes for Available."""
    return json_response(apigroup.resource_list(state().documents.catalog))
