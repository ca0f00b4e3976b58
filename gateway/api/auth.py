"""`--auth kubernetes` at the HTTP boundary: every request but the public ones needs a bearer token."""

from __future__ import annotations

from flask import Flask, g, request

from gateway.access.policy import CallerPolicy
from gateway.access.reviews import Authorizer
from gateway.errors import Unauthorized
from gateway.follow.policy import Policy

# no cluster data here: probes, metrics, the collections and the catalogue, the page's HTML and script
PUBLIC = frozenset({"/healthz", "/readyz", "/metrics", "/", "/catalog", "/ui/graph", "/ui/graph.js"})


def init_auth(app: Flask, authorizer: Authorizer) -> None:
    @app.before_request
    def authenticate() -> None:
        if request.path in PUBLIC:
            return
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Unauthorized("a bearer token is required: Authorization: Bearer <token>")
        g.policy = CallerPolicy(authorizer.authenticate(token.strip()), authorizer)


def caller_policy() -> Policy | None:
    """The caller's view of the cluster, or None when the gateway runs without auth."""
    policy: CallerPolicy | None = g.get("policy")
    return policy
