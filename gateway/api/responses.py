"""JSON responses, encoded with orjson, and the per-request store that counts reads."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import orjson
from flask import Response, current_app, g

from gateway.changes.reads import ReadRecorder
from gateway.config import Config
from gateway.documents import Documents
from gateway.graph.appgraph import ApplicationGraphBuilder
from gateway.graph.objectgraph import ObjectGraphBuilder
from gateway.store import PerRequest, Store
from gateway.store.feed import ChangeFeed

READS_HEADER = "X-Gateway-Store-Reads"


@dataclass(frozen=True)
class GatewayState:
    """What the app factory built; kept in `app.extensions["gateway"]`."""

    config: Config
    store: Store
    documents: Documents
    objectgraph: ObjectGraphBuilder
    appgraph: ApplicationGraphBuilder
    feed: ChangeFeed | None = None
    """The store's changes, if it publishes them: what a request's reads note, to know whether a
    change came while it was built."""
    per_request: PerRequest | None = None
    """The store's own per-request view (direct mode: a memo, so the same read twice is one API call)."""
    stoppers: tuple[Callable[[], None], ...] = ()
    """What stops the threads the app started (the watch cache's watches, the ConfigMaps' watch)."""

    def close(self) -> None:
        """Stop every thread that reads the cluster for this app (tests, and an app built twice)."""
        for stop in self.stoppers:
            stop()


def state() -> GatewayState:
    gateway_state: GatewayState = current_app.extensions["gateway"]
    return gateway_state


def request_store() -> Store:
    """This request's view of the store; its read count becomes X-Gateway-Store-Reads."""
    if "store" not in g:
        gateway = state()
        g.store_reads = ReadRecorder(gateway.store, gateway.feed)
        g.store = gateway.per_request.for_request(g.store_reads) if gateway.per_request else g.store_reads
    store: Store = g.store
    return store


def json_response(doc: Any, status: int = 200) -> Response:
    try:  # string keys, as nearly every document has: twice as fast as allowing others
        body = orjson.dumps(doc)
    except orjson.JSONEncodeError:
        body = orjson.dumps(doc, option=orjson.OPT_NON_STR_KEYS)
    return Response(body, status=status, mimetype="application/json")


def add_read_count(response: Response) -> Response:
    counted = g.get("store_reads")
    response.headers[READS_HEADER] = str(counted.reads if counted is not None else 0)
    return response
