"""HTTP caching: an ETag on every GET, and answers served from memory while nothing they read changed.

The ETag hashes the body, which holds every object's uid and resourceVersion and reflects the
query, so equal ETags mean equal answers, from any replica. Each answer is remembered (in an
LRU bounded by bytes, keyed by path, query and caller) with the generations of the kinds it
read. While none of those kinds changed, the same request is answered from memory: 304 if the
client sent the ETag, else the same bytes, without building anything. With `--auth kubernetes`
an answer also keeps the caller's access decisions it was built on; it is served again only
when each still holds now (reviews at most `--auth-cache-seconds` old), else it is rebuilt. A store that cannot
tell what changed (direct reads) never has its answers remembered.
"""

from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass
from typing import Any

from cachetools import LRUCache
from flask import Flask, Response, g, request

from gateway.access.policy import Viewer
from gateway.access.reviews import Check
from gateway.api.responses import READS_HEADER
from gateway.store import Versioned

CACHE_HEADER = "X-Gateway-Cache"


@dataclass(frozen=True, slots=True)
class _Answer:
    etag: str
    generations: tuple[tuple[str, int | None], ...]
    body: bytes
    mimetype: str
    decisions: tuple[tuple[Check, bool], ...] = ()
    """The caller's access decisions the answer was built on: all must still hold to serve it again."""


def _key() -> tuple[Any, ...]:
    viewer = g.get("viewer")
    caller = viewer.user if viewer is not None else None
    return request.path, request.query_string, caller


def init_caching(app: Flask, versions: Versioned | None, max_bytes: int) -> None:
    """`max_bytes` bounds the answers kept in memory; 0 keeps none (ETags and 304s still work)."""
    answers: LRUCache[tuple[Any, ...], _Answer] = LRUCache(
        maxsize=max(max_bytes, 1), getsizeof=lambda a: len(a.body) + 200
    )
    lock = threading.Lock()

    def cacheable() -> bool:
        # a GET may carry options in its body (virtctl's ObjectGraphOptions): the key does not see them
        return request.method == "GET" and not request.content_length and not request.headers.get("Transfer-Encoding")

    @app.before_request
    def from_memory() -> Response | None:
        if not cacheable():
            return None
        with lock:
            answer = answers.get(_key())
        if answer is None or versions is None:
            return None
        if any(versions.generation(kind) != gen for kind, gen in answer.generations):
            return None
        viewer: Viewer | None = g.get("viewer")
        if viewer is not None and not viewer.confirms(answer.decisions):
            return None  # access changed since: build it again, as this caller may now see it
        if request.if_none_match and request.if_none_match.contains(answer.etag):
            response = Response(status=304)
        else:
            response = Response(answer.body, mimetype=answer.mimetype)
        response.set_etag(answer.etag)
        g.answer_kinds = [kind for kind, _ in answer.generations]
        response.headers[READS_HEADER] = "0"
        response.headers[CACHE_HEADER] = "hit"
        return response

    @app.after_request
    def remembered(response: Response) -> Response:
        if (
            request.method != "GET"
            or response.status_code != 200
            or response.is_streamed
            or CACHE_HEADER in response.headers
        ):
            return response
        body = response.get_data()
        etag = hashlib.blake2b(body, digest_size=16).hexdigest()
        response.set_etag(etag)
        counted = g.get("store_reads")
        if counted is not None and cacheable() and 0 < len(body) <= max_bytes // 16:
            generations = tuple(sorted(counted.generations.items()))
            if all(gen is not None for _, gen in generations):
                viewer: Viewer | None = g.get("viewer")
                decisions = tuple(viewer.decisions.items()) if viewer is not None else ()
                with lock:
                    answers[_key()] = _Answer(
                        etag, generations, body, response.mimetype or "application/json", decisions
                    )
        conditional: Response = response.make_conditional(request)  # type: ignore[assignment]
        return conditional
