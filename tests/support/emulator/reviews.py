"""TokenReview and SubjectAccessReview, answered from the cluster's RBAC table; reviews can be slowed down,
and the most at once is recorded (the gateway runs per-name reviews side by side)."""

from __future__ import annotations

import threading
import time

from flask import Blueprint, Response, request

from tests.support.emulator.cluster import Cluster
from tests.support.emulator.http import as_json


def reviews(cluster: Cluster) -> Blueprint:
    blueprint = Blueprint("reviews", __name__)
    in_flight = [0]
    in_flight_lock = threading.Lock()

    @blueprint.post("/apis/authentication.k8s.io/v1/tokenreviews")
    def token_review() -> Response:
        body = request.get_json(silent=True) or {}
        token = (body.get("spec") or {}).get("token", "")
        return as_json({**body, "status": cluster.rbac.review_token(token)}, 201)

    @blueprint.post("/apis/authorization.k8s.io/v1/subjectaccessreviews")
    def access_review() -> Response:
        body = request.get_json(silent=True) or {}
        with in_flight_lock:
            in_flight[0] += 1
            log = cluster.requests
            log.most_reviews_at_once = max(log.most_reviews_at_once, in_flight[0])
        try:
            time.sleep(cluster.faults.review_seconds)
            return as_json({**body, "status": cluster.rbac.review_access(body.get("spec") or {})}, 201)
        finally:
            with in_flight_lock:
                in_flight[0] -= 1

    return blueprint
