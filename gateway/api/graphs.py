"""Object graphs (KubeVirt's subresource, GET or POST) and the application graph of a namespace."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from importlib import resources
from typing import Any

from flask import Response

from gateway.api.auth import caller_policy
from gateway.api.blueprint import Blueprint
from gateway.api.contract import DOT
from gateway.api.params import label_selector
from gateway.api.responses import json_response, request_store, state
from gateway.catalog import Entity
from gateway.errors import NotFound
from gateway.graph import appgraph
from gateway.graph.objectgraph import GraphOptions, flat, to_dot
from schemas.graphs import (
    AppGraphArgs,
    AppGraphSchema,
    ObjectGraphArgs,
    ObjectGraphOptionsSchema,
)
from schemas.status import StatusSchema

blp = Blueprint("graphs", __name__, description="KubeVirt's object graph and the application graph")


def _options(args: dict[str, Any], body: dict[str, Any]) -> GraphOptions:
    """Query parameters and an ObjectGraphOptions body together; the body wins where both say."""
    include = body.get("includeOptionalNodes")
    if include is None:
        include = args.get("includeOptionalNodes")
    selector = label_selector(args.get("labelSelector"), body.get("labelSelector"))
    return GraphOptions(include_optional=include is not False, selector=selector)


def _root_before_body(view: Callable[..., Response]) -> Callable[..., Response]:
    """Finds the VM or VMI (400, 403, 404 as for a GET) before the options body is read: a caller
    who may not see it cannot hold the connection by sending a body slowly."""

    @wraps(view)
    def decided(*args: Any, namespace: str, collection: str, name: str) -> Response:
        docs = state().documents
        root = docs.entity(request_store(), docs.kind(collection), namespace, name, caller_policy())
        return view(*args, root=root)

    return decided


@blp.route("/namespaces/<namespace>/<any(vms,vmis):collection>/<name>/objectgraph", methods=["GET", "POST"])
@blp.arguments(ObjectGraphArgs(), location="query")
@_root_before_body
@blp.arguments(ObjectGraphOptionsSchema(), location="json", required=False)
@blp.response(
    200,
    # the tree, or its nodes as a list with format=flat: the two shapes share no required key
    {"oneOf": [{"$ref": f"#/components/schemas/{name}"} for name in ("ObjectGraphNode", "ObjectGraphFlat")]},
    description="KubeVirt's ObjectGraphNode tree ({items} with format=flat, DOT with dot)",
)
@blp.doc(**{DOT: True})
@blp.alt_response(400, schema=StatusSchema, description="Malformed options or label selector")
@blp.alt_response(404, schema=StatusSchema, description="No such VM or VMI")
def objectgraph(args: dict[str, Any], body: dict[str, Any], root: Entity) -> Response:
    """KubeVirt's objectgraph subresource, for a VM (`vms`) or a VMI (`vmis`)."""
    options = _options(args, body or {})
    (graph,) = state().objectgraph.build(request_store(), [root], options, caller_policy())
    if args["format"] == "dot":
        return Response(to_dot(graph), mimetype="text/vnd.graphviz")
    return json_response({"items": flat(graph)} if args["format"] == "flat" else graph)


@blp.route("/namespaces/<namespace>/graph")
@blp.arguments(AppGraphArgs(), location="query")
@blp.response(200, AppGraphSchema, description="Radius-shaped application graph (or Graphviz DOT with format=dot)")
@blp.doc(**{DOT: True})
@blp.alt_response(400, schema=StatusSchema, description="Malformed label selector")
@blp.alt_response(404, schema=StatusSchema, description="No VM in this scope")
def app_graph(args: dict[str, Any], namespace: str) -> Response:
    selector = label_selector(args["labelSelector"])
    state().documents.namespace(namespace)
    graph = state().appgraph.build(request_store(), namespace, selector, caller_policy())
    if args["format"] == "dot":
        return Response(appgraph.to_dot(graph, namespace), mimetype="text/vnd.graphviz")
    return json_response(graph)


@blp.route("/ui/graph")
@blp.doc(
    summary="A page drawing the application graph of a namespace (?namespace=, else the first with VMs)",
    responses={"200": {"description": "HTML", "content": {"text/html": {"schema": {"type": "string"}}}}},
)
def graph_page() -> Response:
    page = resources.files("gateway.ui").joinpath("graph.html").read_text(encoding="utf-8")
    return Response(page, mimetype="text/html")


@blp.route("/ui/graph.js")
@blp.doc(
    summary="The graph page's script: Cytoscape.js and the page's own code, bundled by `make ui`",
    responses={"200": {"description": "JavaScript", "content": {"text/javascript": {"schema": {"type": "string"}}}}},
)
@blp.alt_response(404, schema=StatusSchema, description="The bundle was not built (`make ui`)")
def graph_script() -> Response:
    bundle = resources.files("gateway.ui").joinpath("graph.js")
    if not bundle.is_file():  # a checkout whose build step did not run: say which step, not a bare 404
        raise NotFound("the graph page's script is not built: run `make ui` (npm ci and esbuild, in ui/)")
    return Response(bundle.read_bytes(), mimetype="text/javascript")
