"""JSON responses, encoded with orjson, and the per-request store that counts reads."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson
from flask import Response, current_app, g

from gateway.config import Config
from gateway.documents import Documents
from gateway.store import Store
from gateway.store.counting import CountingStore

READS_HEADER = "X-Gateway-Store-Reads"


@dataclass(frozen=True)
class GatewayState:
    """What the app factory built; kept in `app.extensions["gateway"]`."""

    config: Config
    store: Store
    documents: Documents


def state() -> GatewayState:
    gateway_state: GatewayState = current_app.extensions["gateway"]
    return gateway_state


def request_store() -> CountingStore:
    """This request's view of the store; its read count becomes X-Gateway-Store-Reads."""
    if "store" not in g:
        g.store = CountingStore(state().store)
    store: CountingStore = g.store
    return store


def json_response(doc: Any, status: int = 200) -> Response:
    body = orjson.dumps(doc, option=orjson.OPT_NON_STR_KEYS)
    return Response(body, status=status, mimetype="application/json")


def add_read_count(response: Response) -> Response:
    store = g.get("store")
    response.headers[READS_HEADER] = str(store.reads if store is not None else 0)
    return response
