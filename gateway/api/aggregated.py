"""Every path also under /apis/kubevirt-gateway.io/v1alpha1, the path the cluster's API server proxies.

A WSGI middleware moves the prefix into SCRIPT_NAME, so the views, authorization, caching and
streams see the gateway's own paths, and `request.script_root` is the prefix the request came
in on. An answer is remembered once, without the prefix; the hrefs of a JSON answer get it on the
way out, with an ETag of their own, before the answer is compressed.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from flask import Flask, Response, g, request

from gateway.api.caching import as_not_modified, not_modified
from gateway.documents.apigroup import PREFIX

# an href member as orjson writes it, whose value is a gateway path; one preceded by a backslash is
# text inside a string (an escaped quote), not a member
_HREF = re.compile(rb'(?<!\\)"href":"(?=/)')

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class Prefixed:
    """The app, also under PREFIX: a request there is the same request, with SCRIPT_NAME holding it.
    PREFIX itself is not moved: it is the group version's APIResourceList, a route of its own. Under
    PREFIX a collection may also be named as discovery names it, by its kind's API resource name
    (`aliases()`: `virtualmachines` -> `vms`; asked each time, as declared kinds come and go)."""

    def __init__(self, app: WsgiApp, aliases: Callable[[], Mapping[str, str]]) -> None:
        self.app, self.aliases = app, aliases

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path.startswith(PREFIX + "/"):
            environ["SCRIPT_NAME"] = environ.get("SCRIPT_NAME", "") + PREFIX
            environ["PATH_INFO"] = self._collection_named(path[len(PREFIX) :])
        return self.app(environ, start_response)

    def _collection_named(self, path: str) -> str:
        segments = path.split("/")  # ["", "namespaces", ns, collection, ...] or ["", collection, ...]
        at = 3 if len(segments) > 3 and segments[1] == "namespaces" else 1
        aliases = self.aliases()
        if segments[at] in aliases:
            segments[at] = aliases[segments[at]]
        return "/".join(segments)


def with_prefix(body: bytes, prefix: str) -> bytes:
    """A JSON document's hrefs under `prefix`."""
    return _HREF.sub(b'"href":"' + prefix.encode(), body)


def prefixed_etag(etag: str, prefix: str) -> str:
    """The ETag of an answer's bytes under `prefix`: its own, so that a validator, and the compressed
    bytes kept by ETag (compression.py), are never the plain answer's."""
    return hashlib.blake2b(f"{prefix}\n{etag}".encode(), digest_size=16).hexdigest()


def init_aggregated(app: Flask) -> None:
    """Register after compression and before caching: after_request hooks run last-registered first, so
    an answer is remembered without the prefix (caching.answer_key has none) and gets it, and its own
    ETag, before it is compressed. The app factory wraps the app in `Prefixed` last, so that every
    layer sees the gateway's own paths."""

    @app.after_request
    def prefixed_hrefs(response: Response) -> Response:
        root = request.script_root
        if not root.endswith(PREFIX) or response.is_streamed or response.mimetype != "application/json":
            return response
        response.set_data(with_prefix(response.get_data(), root))
        plain: str | None = g.get("body_etag")
        if plain is None:
            return response
        g.body_etag = tag = prefixed_etag(plain, root)
        matched = not_modified(tag)
        if matched is None:
            response.set_etag(tag)
            return response
        return as_not_modified(response, matched)  # the client has these very bytes
