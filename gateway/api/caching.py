"""HTTP caching: an ETag on every GET, and 304 without building where the store shows nothing changed.

The ETag hashes the body, which holds every object's uid and resourceVersion and reflects the
query, so equal ETags mean equal answers, from any replica. To answer If-None-Match without
building the document, each answer is remembered with the generations of the kinds it read
(a bounded memo, keyed by path, query and caller): if none of those kinds changed since, the
document cannot have.
"""

from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass
from typing import Any

from cachetools import LRUCache
from flask import Flask, Response, g, request

from gateway.api.responses import READS_HEADER
from gateway.store import Store
from gateway.store.counting import generation_of


@dataclass(frozen=True, slots=True)
class _Answer:
    etag: str
    generations: tuple[tuple[str, int], ...]


def _key() -> tuple[Any, ...]:
    viewer = g.get("viewer")
    caller = viewer.user if viewer is not None else None
    return request.path, tuple(sorted(request.args.items(multi=True))), caller


def init_caching(app: Flask, store: Store, size: int = 10_000) -> None:
    answers: LRUCache[tuple[Any, ...], _Answer] = LRUCache(maxsize=size)
    lock = threading.Lock()

    @app.before_request
    def not_modified() -> Response | None:
        if request.method != "GET" or not request.if_none_match:
            return None
        with lock:
            answer = answers.get(_key())
        if answer is None or not request.if_none_match.contains(answer.etag):
            return None
        if any(generation_of(store, kind) != generation for kind, generation in answer.generations):
            return None
        response = Response(status=304)
        response.set_etag(answer.etag)
        response.headers[READS_HEADER] = "0"
        return response

    @app.after_request
    def tagged(response: Response) -> Response:
        if request.method != "GET" or response.status_code != 200 or response.is_streamed:
            return response
        etag = hashlib.blake2b(response.get_data(), digest_size=16).hexdigest()
        response.set_etag(etag)
        counted = g.get("store_reads")
        if counted is not None:
            generations = tuple(sorted((kind, generation_of(store, kind)) for kind in counted.kinds))
            if all(generation is not None for _, generation in generations):
                with lock:
                    answers[_key()] = _Answer(etag, generations)  # type: ignore[arg-type]
        conditional: Response = response.make_conditional(request)  # type: ignore[assignment]
        return conditional
