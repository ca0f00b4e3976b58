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
from dataclasses import dataclass
from typing import Any

from flask import Flask, Request, Response, g, request

from gateway.access.policy import CallerPolicy
from gateway.api.responses import READS_HEADER
from gateway.changes.answers import Answer, Answers

CACHE_HEADER = "X-Gateway-Cache"
PRECONDITIONS = frozenset({"HTTP_IF_MATCH", "HTTP_IF_MODIFIED_SINCE", "HTTP_IF_UNMODIFIED_SINCE", "HTTP_IF_RANGE"})
"""Request headers werkzeug's `make_conditional` evaluates besides If-None-Match (which `not_modified`
answers): only a request with one of them needs it."""


RECALLED = "kubevirt_gateway.recalled"
"""The WSGI environ's note of the remembered answer a request was answered with (`Recalled`): what
the fast path (fastpath.py) keeps the response it became under. No header can set an environ key
without the `HTTP_` prefix, so a client cannot forge it."""


@dataclass(frozen=True, slots=True)
class Recalled:
    key: tuple[Any, ...]
    etag: str
    route: str
    """The URL rule that matched: /metrics' `route` label, which the fast path counts it under."""


def answer_key(request: Request, policy: CallerPolicy | None) -> tuple[Any, ...]:
    """What an answer is remembered under: its path and query, and who asked. Not the prefix it is
    served under (aggregated.py): it is remembered without it, and its hrefs get it on the way out."""
    caller = policy.user if policy is not None else None
    return request.path, request.query_string, caller


def cacheable(request: Request) -> bool:
    # a GET may carry options in its body (virtctl's ObjectGraphOptions): the key does not see them
    return request.method == "GET" and not request.content_length and not request.headers.get("Transfer-Encoding")


def not_modified(etag: str) -> str | None:
    """The tag of If-None-Match that names this body, plain or compressed (`<etag>:<encoding>`, see
    compression.py), compared weakly as RFC 9110 says; None if none does."""
    tags = request.if_none_match
    if not tags:
        return None
    if tags.star_tag:
        return etag
    for tag in tags.as_set(include_weak=True):
        if tag == etag or tag.startswith(etag + ":"):
            return tag
    return None


def as_not_modified(response: Response, tag: str) -> Response:
    """`response` as a 304: no body, and the validator the 200 would have carried (a compressed
    one keeps its `:<encoding>`); the other headers (reads, warnings) stay."""
    response.status_code = 304
    response.set_data(b"")
    for header in ("Content-Type", "Content-Length"):
        del response.headers[header]
    response.set_etag(tag)
    return response


def init_caching(app: Flask, answers: Answers | None) -> None:
    """ETags and 304s always; with `answers`, remembered answers too."""

    @app.before_request
    def from_memory() -> Response | None:
        if answers is None or not cacheable(request):
            return None
        key = answer_key(request, g.get("policy"))
        answer = answers.recall(key, g.get("policy"))
        if answer is None:
            return None
        g.body_etag = answer.etag
        matched = not_modified(answer.etag)
        if matched is not None:
            response = as_not_modified(Response(), matched)
        else:
            response = Response(answer.body, mimetype=answer.mimetype)
            response.set_etag(answer.etag)
        g.answer_kinds = answer.kinds
        if request.url_rule is not None:
            request.environ[RECALLED] = Recalled(key, answer.etag, request.url_rule.rule)
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
        g.body_etag = etag
        reads = g.get("store_reads")
        if answers is not None and reads is not None and cacheable(request):
            policy = g.get("policy")
            decisions = tuple(policy.decisions.items()) if policy is not None else ()
            mimetype = response.mimetype or "application/json"
            answer = Answer(etag, body, mimetype, tuple(reads.counts), decisions)
            answers.keep(answer_key(request, policy), answer, reads)
        matched = not_modified(etag)
        if matched is not None:
            return as_not_modified(response, matched)
        if not PRECONDITIONS.intersection(request.environ):
            return response  # nothing for make_conditional to decide: ~10 us of a built page saved
        conditional: Response = response.make_conditional(request)  # type: ignore[assignment]
        return conditional
