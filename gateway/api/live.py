"""Live documents: `?watch=true` streams a document as server-sent events, then again on each change.

Any GET route streams: the request is re-dispatched internally without `watch`, so objects,
collections and graphs all stream, through the same views and the same authorization. Each
build records what it read (objects by name, and the kinds and namespaces it searched); a
reverse index from those to subscriptions picks which streams a watch event concerns, so a
change wakes only the documents it can change. Changes are coalesced over a short window,
heartbeats keep idle streams open, and the number of streams is bounded.
"""

from __future__ import annotations

import threading
import time
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from flask import Flask, Response, g, request, stream_with_context
from werkzeug.test import EnvironBuilder

from gateway.catalog import ObjectRef
from gateway.catalog.kinds import meta
from gateway.errors import BadRequest, GatewayError
from gateway.store import Store

COALESCE_SECONDS = 0.1


class TooManySubscribers(GatewayError):
    code, reason = 429, "TooManyRequests"


@dataclass(eq=False)
class Subscription:
    changed: threading.Event = field(default_factory=threading.Event)
    objects: set[ObjectRef] = field(default_factory=set)
    scopes: set[tuple[str, str | None]] = field(default_factory=set)


class Subscriptions:
    """Live streams and the reverse index from what they read to them."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._lock = threading.Lock()
        self._all: set[Subscription] = set()
        self._by_object: dict[ObjectRef, set[Subscription]] = defaultdict(set)
        self._by_scope: dict[tuple[str, str | None], set[Subscription]] = defaultdict(set)

    def __len__(self) -> int:
        return len(self._all)

    def open(self) -> Subscription:
        with self._lock:
            if len(self._all) >= self.limit:
                raise TooManySubscribers(
                    f"{self.limit} live streams are open, the most this gateway serves (--max-subscribers)"
                )
            subscription = Subscription()
            self._all.add(subscription)
            return subscription

    def depend(self, subscription: Subscription, objects: set[ObjectRef], scopes: set[tuple[str, str | None]]) -> None:
        with self._lock:
            self._forget(subscription)
            subscription.objects, subscription.scopes = set(objects), set(scopes)
            for ref in objects:
                self._by_object[ref].add(subscription)
            for scope in scopes:
                self._by_scope[scope].add(subscription)

    def close(self, subscription: Subscription) -> None:
        with self._lock:
            self._forget(subscription)
            self._all.discard(subscription)

    def _forget(self, subscription: Subscription) -> None:
        for ref in subscription.objects:
            self._by_object[ref].discard(subscription)
        for scope in subscription.scopes:
            self._by_scope[scope].discard(subscription)

    def notify(self, kind: str, old: dict[str, Any] | None, new: dict[str, Any] | None) -> None:
        """A watch event: wake the streams whose documents read this object or searched where it is."""
        with self._lock:
            woken: set[Subscription] = set()
            for obj in (old, new):
                if obj is None:
                    continue
                namespace = meta(obj).get("namespace") or None
                woken |= self._by_object.get(ObjectRef(kind, namespace, str(meta(obj).get("name", ""))), set())
                woken |= self._by_scope.get((kind, namespace), set()) | self._by_scope.get((kind, None), set())
        for subscription in woken:
            subscription.changed.set()


def init_live(app: Flask, store: Store, limit: int, heartbeat: float) -> Subscriptions:
    subscriptions = Subscriptions(limit)
    on_change = getattr(store, "on_change", None)
    if on_change is not None:
        on_change(subscriptions.notify)

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
        if on_change is None and not hasattr(store, "generation"):
            raise BadRequest("watch=true needs the watch cache: this gateway reads the API directly (--cache none)")
        query = [(k, v) for k, v in request.args.items(multi=True) if k != "watch"]
        headers = {k: v for k, v in request.headers.items() if k.lower() in ("authorization", "accept-language")}
        path = request.path
        subscription = subscriptions.open()

        def events() -> Iterator[str]:
            last = None
            try:
                while True:
                    status, body, reads = build(path, query, headers)
                    if reads is not None:
                        subscriptions.depend(subscription, reads.objects, reads.scopes)
                    if body != last:
                        kind = "document" if status == 200 else "status"
                        yield f"event: {kind}\ndata: {body.decode()}\n\n"
                        last = body
                    while not subscription.changed.wait(heartbeat):
                        yield ": heartbeat\n\n"
                    time.sleep(COALESCE_SECONDS)  # let a burst of changes settle into one rebuild
                    subscription.changed.clear()
            finally:
                subscriptions.close(subscription)

        response = Response(stream_with_context(events()), mimetype="text/event-stream")
        response.headers["Cache-Control"] = "no-cache"
        response.headers["X-Accel-Buffering"] = "no"  # proxies must pass events through as they come
        return response

    return subscriptions
