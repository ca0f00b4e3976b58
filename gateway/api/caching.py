"""HTTP caching: an ETag on every GET, and answers served from memory while nothing they read changed.

The ETag hashes the body, which holds every object's uid and resourceVersion and reflects the
query, so equal ETags mean equal answers, from any replica. Each answer is remembered (in an
LRU bounded by bytes, keyed by path, query and caller) with the generations of the kinds it
read. While none of those kinds changed, the same request is answered from memory: 304 if the
client sent the ETag, else the same bytes, without building anything. A store that reports each
change (the watch cache) makes this precise: an answer is dropped only when an object it read or
found changes, or an object starts to match one of its searches (`dependents.py`), or a kind it
read is listed again; changes elsewhere, another VM's VMI or pod, leave it in memory. With `--auth kubernetes`
an answer also keeps the caller's access decisions it was built on; it is served again only
when each still holds now (reviews at most `--auth-cache-seconds` old), else it is rebuilt. A store that cannot
tell what changed (direct reads) never has its answers remembered.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from flask import Flask, Response, g, request

from gateway.access.policy import Viewer
from gateway.access.reviews import Check
from gateway.api.dependents import Dependents, Remembered
from gateway.api.responses import READS_HEADER
from gateway.catalog import Catalog
from gateway.store import Epoched, Observable, Versioned

CACHE_HEADER = "X-Gateway-Cache"


@dataclass(frozen=True, slots=True)
class _Answer:
    etag: str
    generations: tuple[tuple[str, int | None], ...]
    body: bytes
    mimetype: str
    decisions: tuple[tuple[Check, bool], ...] = ()
    """The caller's access decisions the answer was built on: all must still hold to serve it again."""
    epochs: tuple[tuple[str, int], ...] = ()
    """Precise mode: each kind's epoch when read; the answer's own changes drop it from memory."""


def _changed_since(versions: Versioned | None, generations: tuple[tuple[str, int | None], ...]) -> bool:
    return versions is not None and any(versions.generation(kind) != gen for kind, gen in generations)


def _key() -> tuple[Any, ...]:
    viewer = g.get("viewer")
    caller = viewer.user if viewer is not None else None
    return request.path, request.query_string, caller


def init_caching(
    app: Flask, versions: Versioned | None, max_bytes: int, changes: Any = None, catalog: Catalog | None = None
) -> Dependents[tuple[Any, ...]] | None:
    """`max_bytes` bounds the answers kept in memory; 0 keeps none (ETags and 304s still work).
    With `changes` (a store that is Observable and Epoched, and the catalogue), invalidation is
    precise. Returns the dependents index (its size is what tests and /metrics can count)."""
    precise = isinstance(changes, Observable) and isinstance(changes, Epoched) and catalog is not None
    answers: Remembered[tuple[Any, ...], _Answer] = Remembered(
        max_bytes, lambda a: len(a.body) + 200, catalog, changes if precise else None
    )
    epochs: Epoched | None = changes if precise else None

    def cacheable() -> bool:
        # a GET may carry options in its body (virtctl's ObjectGraphOptions): the key does not see them
        return request.method == "GET" and not request.content_length and not request.headers.get("Transfer-Encoding")

    @app.before_request
    def from_memory() -> Response | None:
        if not cacheable():
            return None
        answer = answers.get(_key())
        if answer is None or versions is None:
            return None
        if epochs is not None:
            if any(epochs.epoch(kind) != epoch for kind, epoch in answer.epochs):
                return None  # listed again since: changes no event reported
        elif _changed_since(versions, answer.generations):
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
                kept = tuple((kind, epochs.epoch(kind)) for kind, _ in generations) if epochs else ()
                answer = _Answer(etag, generations, body, response.mimetype or "application/json", decisions, kept)
                answers.keep(_key(), answer, counted, lambda: not _changed_since(versions, generations))
        conditional: Response = response.make_conditional(request)  # type: ignore[assignment]
        return conditional

    return answers.dependents
