"""Live documents: `?watch=true` streams a document as server-sent events, then again on each change.

Object, collection and graph routes stream: the request is re-dispatched internally without
`watch`, through the same views and the same authorization, each time in a request state of its
own. A stream opens only once that first build answered 200 (else its Status is the answer, never
an event stream); the caller's access is checked again every `--auth-cache-seconds` and the
stream closed with a Status event when it is revoked; a client gone away is noticed at the next
wake-up or heartbeat, whichever comes first. Routes whose answer cannot change (probes, metrics,
the catalogue) do not stream. Which change wakes which stream is `gateway.changes.streams`'s;
changes are coalesced over a short window, and heartbeats keep idle streams open.
"""

from __future__ import annotations

import math
import select
import socket
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

from flask import Flask, Response, g, request, stream_with_context
from werkzeug.test import EnvironBuilder

from gateway.access.frontproxy import FrontProxy
from gateway.api.auth import identity_headers
from gateway.changes.reads import ReadRecorder
from gateway.changes.streams import Subscriptions
from gateway.errors import BadRequest

COALESCE_SECONDS = 0.1
STREAMING_BLUEPRINTS = frozenset({"objects", "graphs"})
"""Views whose answers change with the cluster; the others (probes, metrics, catalogue) do not stream."""
STATIC_VIEWS = frozenset({"graphs.graph_page", "graphs.graph_script"})


def init_live(
    app: Flask,
    subscriptions: Subscriptions | None,
    heartbeat: float,
    recheck: float,
    front: FrontProxy | None = None,
) -> None:
    """Streams need a store that publishes its changes (not direct reads: `subscriptions` None).
    `recheck`: seconds between re-authorizations of a stream's caller (`--auth-cache-seconds`).
    `front`: the front proxy, whose headers name the caller on its verified connection."""

    def build(
        path: str, query: list[tuple[str, str]], headers: dict[str, str], connection: dict[str, Any]
    ) -> tuple[int, bytes, Any]:
        # the same prefix (its hrefs) and the same connection (its client certificate) as the stream's request
        environ = EnvironBuilder(
            path=path,
            base_url="http://localhost" + connection["SCRIPT_NAME"],
            query_string=urlencode(query),
            headers=list(headers.items()),
            method="GET",
            environ_overrides={k: v for k, v in connection.items() if k != "SCRIPT_NAME"},
        ).get_environ()
        # an app context of its own: each build has its own `g` (its own reads, its own policy),
        # not the stream's first request's, where what every rebuild read would pile up
        with app.app_context(), app.request_context(environ):
            response = app.full_dispatch_request()
            reads: ReadRecorder | None = g.get("store_reads")
            return response.status_code, response.get_data(), reads

    @app.before_request
    def live() -> Response | None:
        if request.method != "GET" or request.args.get("watch", "").lower() not in ("true", "1"):
            return None
        if request.url_rule is None:
            return None  # no such path: its 404 Status, as without watch
        if request.blueprint not in STREAMING_BLUEPRINTS or request.endpoint in STATIC_VIEWS:
            raise BadRequest(f"{request.path} does not change: it has no live updates (watch=true)", field="watch")
        if subscriptions is None:
            raise BadRequest("watch=true needs the watch cache: this gateway reads the API directly (--cache none)")
        query = [(k, v) for k, v in request.args.items(multi=True) if k != "watch"]
        headers = {k: v for k, v in request.headers.items() if k.lower() == "accept-language"}
        headers |= identity_headers(request, front)
        connection = {"SCRIPT_NAME": request.script_root}
        if "gunicorn.socket" in request.environ:
            connection["gunicorn.socket"] = request.environ["gunicorn.socket"]
        path = request.path
        # the first build is the plain GET: its authentication, authorization and existence checks
        status, body, reads = build(path, query, headers, connection)
        if status != 200:
            return Response(body, status=status, mimetype="application/json")
        policy = g.get("policy")
        subscription = subscriptions.open(policy.user.name if policy is not None else str(request.remote_addr))
        if reads is not None:
            subscriptions.depend(subscription, reads)
        client = client_socket(request.environ)
        every = recheck if policy is not None else math.inf

        def events() -> Iterator[str]:
            last, now = body, time.monotonic()
            next_check, next_beat = now + every, now + heartbeat
            try:
                yield frame("document", body)
                while True:
                    woke = subscription.changed.wait(max(0.0, min(next_check, next_beat) - time.monotonic()))
                    if client_gone(client):  # whatever woke it: a client gone frees its slot now
                        return
                    if woke:
                        time.sleep(COALESCE_SECONDS)  # let a burst of changes settle into one rebuild
                        subscription.changed.clear()
                    if woke or time.monotonic() >= next_check:  # a change, or the caller's access is due a check
                        next_check = time.monotonic() + every
                        status, document, reads = build(path, query, headers, connection)
                        if reads is not None:
                            subscriptions.depend(subscription, reads)
                        if status in (401, 403):  # revoked: say so, and close
                            yield frame("status", document)
                            return
                        if document != last:
                            yield frame("document" if status == 200 else "status", document)
                            last, next_beat = document, time.monotonic() + heartbeat
                    if time.monotonic() >= next_beat:
                        yield ": heartbeat\n\n"
                        next_beat = time.monotonic() + heartbeat
            finally:
                subscriptions.close(subscription)

        response = Response(stream_with_context(events()), mimetype="text/event-stream")
        response.headers["Cache-Control"] = "no-cache"
        response.headers["X-Accel-Buffering"] = "no"  # proxies must pass events through as they come
        return response


def frame(event: str, document: bytes) -> str:
    """One server-sent event: a `data:` line per line of the document (DOT spans many). A line ends
    wherever an event stream's reader ends one, at CR, LF or CRLF: a CR left inside a data line
    would end it there, and what follows could be read as a field or a whole event of its own."""
    lines = document.decode().replace("\r\n", "\n").replace("\r", "\n").split("\n")
    data = "".join(f"data: {line}\n" for line in lines)
    return f"event: {event}\n{data}\n"


def client_socket(environ: dict[str, Any]) -> socket.socket | None:
    """The connection to the client, as gunicorn or werkzeug's server hands it to the app."""
    found = environ.get("gunicorn.socket") or environ.get("werkzeug.socket")
    return found if isinstance(found, socket.socket) else None


def client_gone(client: socket.socket | None) -> bool:
    """Whether the client closed its side: readable with nothing to read. Never blocks."""
    if client is None:
        return False
    try:
        readable, _, _ = select.select([client], [], [], 0)
        return bool(readable) and client.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT) == b""
    except (OSError, ValueError):
        return True
