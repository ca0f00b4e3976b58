"""The floor: a Flask app that returns one precomputed document, encoded with orjson on each request.

What Flask, gunicorn and the JSON encoder cost by themselves. `KUBEVIRT_GATEWAY_FLOOR_DOC` names
the JSON file holding the document; or `KUBEVIRT_GATEWAY_FLOOR_PAGES` a JSON file of
{path: document}, each path answered with its own document's bytes (many pages, bench/churn.py).
"""

from __future__ import annotations

import os
from typing import Any

import orjson
from flask import Flask, Response, request


def create_floor(document: Any) -> Flask:
    app = Flask("floor")

    @app.get("/namespaces/<namespace>/vms/<name>")
    def page(namespace: str, name: str) -> Response:
        return Response(orjson.dumps(document), mimetype="application/json")

    return app


def create_pages_floor(pages: dict[str, Any]) -> Flask:
    app = Flask("floor")
    bodies = {path: orjson.dumps(doc) for path, doc in pages.items()}

    @app.get("/namespaces/<namespace>/vms/<name>")
    def page(namespace: str, name: str) -> Response:
        return Response(bodies[request.path], mimetype="application/json")

    return app


if os.environ.get("KUBEVIRT_GATEWAY_FLOOR_PAGES"):
    with open(os.environ["KUBEVIRT_GATEWAY_FLOOR_PAGES"], "rb") as f:
        app = create_pages_floor(orjson.loads(f.read()))
elif os.environ.get("KUBEVIRT_GATEWAY_FLOOR_DOC"):
    with open(os.environ["KUBEVIRT_GATEWAY_FLOOR_DOC"], "rb") as f:
        app = create_floor(orjson.loads(f.read()))
