"""The floor: a Flask app that returns one precomputed document, encoded with orjson on each request.

What Flask, gunicorn and the JSON encoder cost by themselves. `KUBEVIRT_GATEWAY_FLOOR_DOC` names
the JSON file holding the document.
"""

from __future__ import annotations

import os
from typing import Any

import orjson
from flask import Flask, Response


def create_floor(document: Any) -> Flask:
    app = Flask("floor")

    @app.get("/namespaces/<namespace>/vms/<name>")
    def page(namespace: str, name: str) -> Response:
        return Response(orjson.dumps(document), mimetype="application/json")

    return app


if os.environ.get("KUBEVIRT_GATEWAY_FLOOR_DOC"):
    with open(os.environ["KUBEVIRT_GATEWAY_FLOOR_DOC"], "rb") as f:
        app = create_floor(orjson.loads(f.read()))
