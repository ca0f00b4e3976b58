"""Collections, objects, and the links of an object, namespaced and cluster-scoped.

/namespaces/{namespace}/{collection}[/{name}[/{rel}[/{part}]]]
/{collection}[/{name}[/{rel}[/{part}]]]     cluster-scoped kinds; for namespaced
                                           kinds, ?namespace= (list: all namespaces)
"""

from __future__ import annotations

from typing import Any

from flask import Response

from gateway.api.auth import access
from gateway.api.blueprint import Blueprint
from gateway.api.responses import json_response, request_store, state
from gateway.catalog import Kind
from gateway.catalog.selectors import LabelSelector, SelectorError, parse_selector
from gateway.documents import ListParams
from gateway.errors import BadRequest
from schemas.entities import EntitySchema, ListSchema
from schemas.query import AllNamespacesListArgs, FollowArgs, ListArgs, ObjectArgs
from schemas.status import StatusSchema

blp = Blueprint("objects", __name__, description="Kubernetes and KubeVirt objects, with follow")

_ERRORS = (
    (400, "Malformed parameters, unknown rel, or a limit exceeded"),
    (404, "No such collection or object"),
)


def _documented(func: Any) -> Any:
    for code, description in _ERRORS:
        func = blp.alt_response(code, schema=StatusSchema, description=description)(func)
    return func


def _list_params(args: dict[str, Any]) -> ListParams:
    selector = args.get("labelSelector")
    try:
        parsed = parse_selector(selector) if selector else None
    except SelectorError as e:
        raise BadRequest(f"labelSelector: {e}", field="labelSelector") from e
    return ListParams(parsed or LabelSelector(), args.get("limit"), args.get("continue_"))


def _namespace(kind: Kind, namespace: str | None) -> str | None:
    if not kind.namespaced:
        return None
    return namespace or state().config.default_namespace


# --- namespaced ----------------------------------------------------------------------------


@blp.route("/namespaces/<namespace>/<collection>")
@blp.arguments(ListArgs, location="query")
@blp.response(200, ListSchema)
@_documented
def list_namespaced(args: dict[str, Any], namespace: str, collection: str) -> Response:
    docs = state().documents
    kind = docs.kind(collection, namespaced=True)
    return json_response(
        docs.collection(request_store(), kind, namespace, _list_params(args), args["follow"], access())
    )


@blp.route("/namespaces/<namespace>/<collection>/<name>")
@blp.arguments(FollowArgs, location="query")
@blp.response(200, EntitySchema)
@_documented
def get_namespaced(args: dict[str, Any], namespace: str, collection: str, name: str) -> Response:
    docs = state().documents
    kind = docs.kind(collection, namespaced=True)
    return json_response(docs.object(request_store(), kind, namespace, name, args["follow"], access()))


@blp.route("/namespaces/<namespace>/<collection>/<name>/<rel>")
@blp.arguments(FollowArgs, location="query")
@blp.response(200, ListSchema, description="A to-many link as a collection; a to-one link as its target")
@_documented
def get_namespaced_related(args: dict[str, Any], namespace: str, collection: str, name: str, rel: str) -> Response:
    docs = state().documents
    kind = docs.kind(collection, namespaced=True)
    return json_response(docs.related(request_store(), kind, namespace, name, rel, args["follow"], access()))


@blp.route("/namespaces/<namespace>/<collection>/<name>/<rel>/<part>")
@blp.arguments(FollowArgs, location="query")
@blp.response(200, EntitySchema, description="One sub-entity, such as a VM's volume")
@_documented
def get_namespaced_part(
    args: dict[str, Any], namespace: str, collection: str, name: str, rel: str, part: str
) -> Response:
    docs = state().documents
    kind = docs.kind(collection, namespaced=True)
    return json_response(docs.part(request_store(), kind, namespace, name, rel, part, args["follow"], access()))


# --- cluster-scoped, and the short forms for namespaced kinds ------------------------------


@blp.route("/<collection>")
@blp.arguments(AllNamespacesListArgs, location="query")
@blp.response(200, ListSchema)
@_documented
def list_cluster(args: dict[str, Any], collection: str) -> Response:
    docs = state().documents
    kind = docs.kind(collection)
    namespace = args.get("namespace") if kind.namespaced else None
    return json_response(
        docs.collection(request_store(), kind, namespace, _list_params(args), args["follow"], access())
    )


@blp.route("/<collection>/<name>")
@blp.arguments(ObjectArgs, location="query")
@blp.response(200, EntitySchema)
@_documented
def get_cluster(args: dict[str, Any], collection: str, name: str) -> Response:
    docs = state().documents
    kind = docs.kind(collection)
    return json_response(
        docs.object(request_store(), kind, _namespace(kind, args["namespace"]), name, args["follow"], access())
    )


@blp.route("/<collection>/<name>/<rel>")
@blp.arguments(ObjectArgs, location="query")
@blp.response(200, ListSchema, description="A to-many link as a collection; a to-one link as its target")
@_documented
def get_cluster_related(args: dict[str, Any], collection: str, name: str, rel: str) -> Response:
    docs = state().documents
    kind = docs.kind(collection)
    namespace = _namespace(kind, args["namespace"])
    return json_response(docs.related(request_store(), kind, namespace, name, rel, args["follow"], access()))


@blp.route("/<collection>/<name>/<rel>/<part>")
@blp.arguments(ObjectArgs, location="query")
@blp.response(200, EntitySchema, description="One sub-entity, such as a VM's volume")
@_documented
def get_cluster_part(args: dict[str, Any], collection: str, name: str, rel: str, part: str) -> Response:
    docs = state().documents
    kind = docs.kind(collection)
    namespace = _namespace(kind, args["namespace"])
    return json_response(docs.part(request_store(), kind, namespace, name, rel, part, args["follow"], access()))
