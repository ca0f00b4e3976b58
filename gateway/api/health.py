"""/healthz: the process serves. /readyz: the store reflects the cluster."""

from __future__ import annotations

from flask import Response, current_app

from gateway.api.blueprint import Blueprint
from gateway.api.errors import status
from gateway.api.responses import json_response, state
from schemas.entities import HealthSchema
from schemas.status import StatusSchema

blp = Blueprint("health", __name__, description="Liveness and readiness")


@blp.route("/healthz")
@blp.response(200, HealthSchema)
def healthz() -> Response:
    return json_response({"status": "ok"})


@blp.route("/readyz")
@blp.response(200, HealthSchema)
@blp.alt_response(503, schema=StatusSchema)
def readyz() -> Response:
    ready, reason = state().store.readiness()
    links = current_app.extensions.get("gateway_links_source")
    if links is not None:  # --kube: the ConfigMaps that declare links must have been listed too
        links_ready, links_reason = links.readiness()
        ready, reason = ready and links_ready, f"{reason}; {links_reason}"
    if not ready:
        return status(503, f"not ready: {reason}", "ServiceUnavailable")
    return json_response({"status": "ok", "reason": reason})
