"""Live documents: `?watch=true` streams a document as server-sent events, then again on each change.

Object, collection and graph routes stream: the request is re-dispatched internally without
`watch`, through the same views and the same authorization. A stream opens only once that first
build answered 200 (else its Status is the answer, never an event stream); the caller's access
is checked again every `--auth-cache-seconds` and the stream closed with a Status event when it
is revoked; a client gone away is noticed at the next heartbeat. Routes whose answer cannot
change (probes, metrics, the catalogue) do not stream. Each
build records what it read (objects by name, what its searches returned, and the searches); the
same index as remembered answers' (`dependents.py`) picks which streams a watch event concerns,
so a change wakes only the documents it can change. Changes are coalesced over a short window,
heartbeats keep idle streams open, and the number of streams is bounded.
"""

from __future__ import annotations

import math
import select
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from flask import Flask, Response, g, request, stream_with_context
from werkzeug.test import EnvironBuilder

from gateway.api.dependents import Dependents
from gateway.catalog import Catalog
from gateway.errors import BadRequest, GatewayError
from gateway.store import Observable, Store, Versioned
from gateway.store.counting import CountingStore

COALESCE_SECONDS = 0.1
STREAMING_BLUEPRINTS = frozenset({"objects", "graphs"})
"""Views whose answers change with the cluster; the others (probes, metrics, catalogue) do not stream."""
STATIC_VIEWS = frozenset({"graphs.graph_page"})


class TooManySubscribers(GatewayError):
    code, reason = 429, "TooManyRequests"


@dataclass(eq=False)
class Subscription:
    caller: str = ""
    changed: threading.Event = field(default_factory=threading.Event)


class Subscriptions:
    """Live streams, and which of them a change concerns (the same index as remembered answers')."""

    def __init__(self, limit: int, per_caller: int, catalog: Catalog) -> None:
        self.limit, self.per_caller = limit, per_caller
        self._lock = threading.Lock()
        self._all: set[Subscription] = set()
        self._dependents: Dependents[Subscription] = Dependents(catalog)

    def __len__(self) -> int:
        return len(self._all)

    def open(self, caller: str) -> Subscription:
        with self._lock:
            if len(self._all) >= self.limit:
                raise TooManySubscribers(
                    f"{self.limit} live streams are open, the most this gateway serves (--max-subscribers)"
                )
            if sum(1 for s in self._all if s.caller == caller) >= self.per_caller:
                raise TooManySubscribers(
                    f"you have {self.per_caller} live streams open, the most one caller may hold "
                    "(--max-subscribers-per-caller)"
                )
            subscription = Subscription(caller)
            self._all.add(subscription)
            return subscription

    def depend(self, subscription: Subscription, reads: CountingStore) -> None:
        self._dependents.depend(subscription, reads)

    def close(self, subscription: Subscription) -> None:
        self._dependents.forget(subscription)
        with self._lock:
            self._all.discard(subscription)

    def notify(self, kind: str, old: dict[str, Any] | None, new: dict[str, Any] | None) -> None:
        """A watch event: wake the streams whose documents read this object or would find it now."""
        for subscription in self._dependents.affected(kind, old, new):
            subscription.changed.set()


def init_live(
    app: Flask, store: Store, catalog: Catalog, limit: int, per_caller: int, heartbeat: float, recheck: float
) -> Subscriptions:
    """Streams need a store that can tell what changed (not direct reads); one that also calls
    listeners wakes exactly the streams a change concerns. `recheck`: seconds between
    re-authorizations of a stream's caller (`--auth-cache-seconds`)."""
    subscriptions = Subscriptions(limit, per_caller, catalog)
    streams = isinstance(store, Observable | Versioned)
    if isinstance(store, Observable):
        store.on_change(subscriptions.notify)

    def build(path: str, query: list[tuple[str, str]], headers: dict[str, str]) -> tuple[int, bytes, Any]:
        environ = EnvironBuilder(
            path=path, query_string=urlencode(query), headers=list(headers.items()), method="GET"
        ).get_environ()
        with app.request_context(environ):
            response = app.full_dispatch_request()
            reads = g.get("store_reads")
            return response.status_code, response.get_data(), reads

    @app.before_request
    def live() -> Response | None:
        if request.method != "GET" or request.args.get("watch", "").lower() not in ("true", "1"):
            return None
        if request.url_rule is None:
            return None  # no such path: its 404 Status, as without watch
        if request.blueprint not in STREAMING_BLUEPRINTS or request.endpoint in STATIC_VIEWS:
            raise BadRequest(f"{request.path} does not change: it has no live updates (watch=true)", field="watch")
        if not streams:
            raise BadRequest("watch=true needs the watch cache: this gateway reads the API directly (--cache none)")
        query = [(k, v) for k, v in request.args.items(multi=True) if k != "watch"]
        headers = {k: v for k, v in request.headers.items() if k.lower() in ("authorization", "accept-language")}
        path = request.path
        # the first build is the plain GET: its authentication, authorization and existence checks
        status, body, reads = build(path, query, headers)
        if status != 200:
            return Response(body, status=status, mimetype="application/json")
        viewer = g.get("viewer")
        subscription = subscriptions.open(viewer.user.name if viewer is not None else str(request.remote_addr))
        if reads is not None:
            subscriptions.depend(subscription, reads)
        client = client_socket(request.environ)
        every = recheck if viewer is not None else math.inf

        def events() -> Iterator[str]:
            last, next_check = body, time.monotonic() + every
            try:
                yield frame("document", body)
                while True:
                    if subscription.changed.wait(min(heartbeat, max(0.0, next_check - time.monotonic()))):
                        time.sleep(COALESCE_SECONDS)  # let a burst of changes settle into one rebuild
                        subscription.changed.clear()
                    elif time.monotonic() < next_check:
                        if client_gone(client):
                            return
                        yield ": heartbeat\n\n"
                        continue
                    next_check = time.monotonic() + every  # a change, or the caller's access is due a check
                    status, document, reads = build(path, query, headers)
                    if reads is not None:
                        subscriptions.depend(subscription, reads)
                    if status in (401, 403):  # revoked: say so, and close
                        yield frame("status", document)
                        return
                    if document != last:
                        yield frame("document" if status == 200 else "status", document)
                        last = document
            finally:
                subscriptions.close(subscription)

        response = Response(stream_with_context(events()), mimetype="text/event-stream")
        response.headers["Cache-Control"] = "no-cache"
        response.headers["X-Accel-Buffering"] = "no"  # proxies must pass events through as they come
        return response

    return subscriptions


def frame(event: str, document: bytes) -> str:
    """One server-sent event: a `data:` line per line of the document (DOT spans many)."""
    data = "".join(f"data: {line}\n" for line in document.decode().split("\n"))
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
