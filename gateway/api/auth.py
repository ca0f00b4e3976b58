"""`--auth kubernetes` at the HTTP boundary: every request but the public ones needs a bearer token, or
comes from the front proxy (the cluster's API server) over a connection whose client certificate the
TLS layer verified against the request-header CA (gateway/access/frontproxy.py decides which user)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from flask import Flask, Request, g, request

from gateway.access.frontproxy import FrontProxy
from gateway.access.policy import CallerPolicy
from gateway.access.reviews import Authorizer
from gateway.documents.apigroup import GROUP, PREFIX
from gateway.errors import Unauthorized
from gateway.follow.policy import Policy

# the API group's discovery documents, public as the catalogue is (the aggregator probes them)
DISCOVERY = frozenset({"/apis", f"/apis/{GROUP}", PREFIX})

# no cluster data here: probes, metrics, the collections and the catalogue, the page's HTML and script
PUBLIC = frozenset({"/healthz", "/readyz", "/metrics", "/", "/catalog", "/ui/graph", "/ui/graph.js"}) | DISCOVERY


Establish = Callable[[Request], "CallerPolicy | None"]
"""Who a request comes from: its `CallerPolicy`, None on a public path; raises Unauthorized."""


def init_auth(app: Flask, authorizer: Authorizer, front: FrontProxy | None = None) -> Establish:
    """Returns the one function that establishes a request's caller: the hook below and the fast
    path (fastpath.py) both call it, so a request's identity is decided in one place."""

    def establish(request: Request) -> CallerPolicy | None:
        if request.path in PUBLIC:
            return None
        proxied = front.user(verified_client_name(request.environ), request.headers.items()) if front else None
        if proxied is not None:
            return CallerPolicy(proxied, authorizer)
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Unauthorized("a bearer token is required: Authorization: Bearer <token>")
        return CallerPolicy(authorizer.authenticate(token.strip()), authorizer)

    @app.before_request
    def authenticate() -> None:
        policy = establish(request)
        if policy is not None:
            g.policy = policy

    return establish


def verified_client_name(environ: Mapping[str, Any]) -> str | None:
    """The common name of the connection's client certificate, which the TLS layer verified against the
    request-header CA (it refuses any other in the handshake); None without one. Read from gunicorn's
    own socket for the connection: nothing a client sends can set it."""
    sock = environ.get("gunicorn.socket")
    peer = getattr(sock, "getpeercert", None)
    try:
        cert = peer() if peer is not None else None
    except (OSError, ValueError):  # not a TLS socket, or closed
        return None
    for rdn in (cert or {}).get("subject", ()):
        for key, value in rdn:
            if key == "commonName":
                return str(value)
    return None


def identity_headers(request: Request, front: FrontProxy | None) -> dict[str, str]:
    """The headers that say who a request comes from, for a request rebuilt from it (a live stream's)."""
    names = {"authorization"}
    if front is not None:
        names |= {h.lower() for h in (*front.username_headers, *front.uid_headers, *front.group_headers)}
    prefixes = tuple(p.lower() for p in front.extra_prefixes) if front is not None else ()
    return {k: v for k, v in request.headers.items() if k.lower() in names or k.lower().startswith(prefixes)}


def caller_policy() -> Policy | None:
    """The caller's view of the cluster, or None when the gateway runs without auth."""
    policy: CallerPolicy | None = g.get("policy")
    return policy
