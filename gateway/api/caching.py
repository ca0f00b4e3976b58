"""HTTP caching: an ETag on every GET, and remembered answers served before any view runs.

The ETag hashes the body, which holds every object's uid and resourceVersion and reflects the
query, so equal ETags mean equal answers, from any replica. A GET answer is remembered (keyed by
path, query and caller) in `gateway.changes.answers` when the store publishes its changes; the
same request is then answered from memory, 304 if the client sent the ETag, else the same bytes,
until a change to what it read drops it or the caller's access no longer holds. A store that
cannot tell what changed (direct reads) never has its answers remembered.
"""

from __future__ import annotations

import hashlib
from typing import Any

from flask import Flask, Response, g, request

from gateway.api.responses import READS_HEADER
from gateway.changes.answers import Answer, Answers

CACHE_HEADER = "X-Gateway-Cache"


def _key() -> tuple[Any, ...]:
    policy = g.get("policy")
    caller = policy.user if policy is not None else None
    return request.path, request.query_string, caller


def _cacheable() -> bool:
    # a GET may carry options in its body (virtctl's ObjectGraphOptions): the key does not see them
    return request.method == "GET" and not request.content_length and not request.headers.get("Transfer-Encoding")


def init_caching(app: Flask, answers: Answers | None) -> None:
    """ETags and 304s always; with `answers`, remembered answers too."""

    @app.before_request
    def from_memory() -> Response | None:
        if answers is None or not _cacheable():
            return None
        answer = answers.recall(_key(), g.get("policy"))
        if answer is None:
            return None
        if request.if_none_match and request.if_none_match.contains(answer.etag):
            response = Response(status=304)
        else:
            response = Response(answer.body, mimetype=answer.mimetype)
        response.set_etag(answer.etag)
        g.answer_kinds = answer.kinds
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
        reads = g.get("store_reads")
        if answers is not None and reads is not None and _cacheable():
            policy = g.get("policy")
            decisions = tuple(policy.decisions.items()) if policy is not None else ()
            mimetype = response.mimetype or "application/json"
            answers.keep(_key(), Answer(etag, body, mimetype, tuple(reads.counts), decisions), reads)
        conditional: Response = response.make_conditional(request)  # type: ignore[assignment]
        return conditional
