"""Collections, objects, and the links of an object, namespaced and cluster-scoped.

/namespaces/{namespace}/{collection}[/{name}[/{rel}[/{part}]]]
/{collection}[/{name}[/{rel}[/{part}]]]     cluster-scoped kinds; for namespaced
                                           kinds, ?namespace= (list: all namespaces)
"""

from __future__ import annotations

from typing import Any

from flask import Response

from gateway.api.auth import caller_policy
from gateway.api.blueprint import Blueprint, sparse_fields
from gateway.api.params import label_selector
from gateway.api.responses import json_response, request_store, state
from gateway.catalog import Kind
from gateway.documents import ListParams
from gateway.documents.sparse import Fields
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
    return ListParams(label_selector(args.get("labelSelector")), args.get("limit"), args.get("continue_"))


def _fields(args: dict[str, Any]) -> Fields:
    return state().documents.fields(args.get("fields_"), sparse_fields())


def _scope(
    collection: str, namespace: str | None, args: dict[str, Any], listing: bool = False
) -> tuple[Kind, str | None]:
    """The kind and namespace a route names: in the path (/namespaces/NS/...), or for the short
    forms, `?namespace=` (a listing without it spans all namespaces; one object, the default)."""
    if namespace is not None:
        return state().documents.kind(collection, namespaced=True), namespace
    kind = state().documents.kind(collection)
    if not kind.namespaced:
        return kind, None
    return kind, args.get("namespace") or (None if listing else state().config.default_namespace)


def _list(args: dict[str, Any], collection: str, namespace: str | None = None) -> Response:
    kind, scope = _scope(collection, namespace, args, listing=True)
    docs = state().documents
    params = _list_params(args)
    fields = _fields(args)
    return json_response(docs.collection(request_store(), kind, scope, params, args["follow"], caller_policy(), fields))


def _object(args: dict[str, Any], collection: str, name: str, namespace: str | None = None) -> Response:
    kind, scope = _scope(collection, namespace, args)
    fields = _fields(args)
    docs = state().documents
    return json_response(docs.object(request_store(), kind, scope, name, args["follow"], caller_policy(), fields))


def _related(args: dict[str, Any], collection: str, name: str, rel: str, namespace: str | None = None) -> Response:
    kind, scope = _scope(collection, namespace, args)
    docs = state().documents
    fields = _fields(args)
    return json_response(docs.related(request_store(), kind, scope, name, rel, args["follow"], caller_policy(), fields))


def _part(
    args: dict[str, Any], collection: str, name: str, rel: str, part: str, namespace: str | None = None
) -> Response:
    kind, scope = _scope(collection, namespace, args)
    docs = state().documents
    fields = _fields(args)
    return json_response(
        docs.part(request_store(), kind, scope, name, rel, part, args["follow"], caller_policy(), fields)
    )


# --- namespaced ----------------------------------------------------------------------------


@blp.route("/namespaces/<namespace>/<collection>")
@blp.arguments(ListArgs(), location="query")
@blp.response(200, ListSchema)
@_documented
def list_namespaced(args: dict[str, Any], namespace: str, collection: str) -> Response:
    return _list(args, collection, namespace)


@blp.route("/namespaces/<namespace>/<collection>/<name>")
@blp.arguments(FollowArgs(), location="query")
@blp.response(200, EntitySchema)
@_documented
def get_namespaced(args: dict[str, Any], namespace: str, collection: str, name: str) -> Response:
    return _object(args, collection, name, namespace)


@blp.route("/namespaces/<namespace>/<collection>/<name>/<rel>")
@blp.arguments(FollowArgs(), location="query")
@blp.response(200, ListSchema, description="A to-many link as a collection; a to-one link as its target")
@_documented
def get_namespaced_related(args: dict[str, Any], namespace: str, collection: str, name: str, rel: str) -> Response:
    return _related(args, collection, name, rel, namespace)


@blp.route("/namespaces/<namespace>/<collection>/<name>/<rel>/<part>")
@blp.arguments(FollowArgs(), location="query")
@blp.response(200, EntitySchema, description="One sub-entity, such as a VM's volume")
@_documented
def get_namespaced_part(
    args: dict[str, Any], namespace: str, collection: str, name: str, rel: str, part: str
) -> Response:
    return _part(args, collection, name, rel, part, namespace)


# --- cluster-scoped, and the short forms for namespaced kinds ------------------------------


@blp.route("/<collection>")
@blp.arguments(AllNamespacesListArgs(), location="query")
@blp.response(200, ListSchema)
@_documented
def list_cluster(args: dict[str, Any], collection: str) -> Response:
    return _list(args, collection)


@blp.route("/<collection>/<name>")
@blp.arguments(ObjectArgs(), location="query")
@blp.response(200, EntitySchema)
@_documented
def get_cluster(args: dict[str, Any], collection: str, name: str) -> Response:
    return _object(args, collection, name)


@blp.route("/<collection>/<name>/<rel>")
@blp.arguments(ObjectArgs(), location="query")
@blp.response(200, ListSchema, description="A to-many link as a collection; a to-one link as its target")
@_documented
def get_cluster_related(args: dict[str, Any], collection: str, name: str, rel: str) -> Response:
    return _related(args, collection, name, rel)


@blp.route("/<collection>/<name>/<rel>/<part>")
@blp.arguments(ObjectArgs(), location="query")
@blp.response(200, EntitySchema, description="One sub-entity, such as a VM's volume")
@_documented
def get_cluster_part(args: dict[str, Any], collection: str, name: str, rel: str, part: str) -> Response:
    return _part(args, collection, name, rel, part)
