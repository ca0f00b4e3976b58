"""Compressed answers (flask-compress): zstd, brotli, gzip or deflate as the client's Accept-Encoding
prefers, on JSON, DOT, YAML and the API page's assets; never on event streams.

A compressed body carries its own strong ETag, the plain one with `:<encoding>` appended (flask-compress's
convention), and `Vary: Accept-Encoding`, as RFC 9110 wants of a different representation;
`caching.not_modified` answers either form with a 304. The compressed bytes are kept by the plain
body's ETag (a hash of the body), so a remembered answer is compressed once per encoding, not on
every request.
"""

from __future__ import annotations

import threading

from cachetools import LRUCache
from flask import Flask, g
from flask_compress import Compress

MIMETYPES = [
    "application/json",
    "application/yaml",
    "text/vnd.graphviz",
    "text/html",
    "text/css",
    "text/javascript",
    "application/javascript",
]
"""What is compressed: never text/event-stream (a live stream's events must reach the client as sent)."""


class CompressedBodies:
    """flask-compress's cache backend: compressed bytes by (encoding, plain ETag), bounded by bytes."""

    def __init__(self, max_bytes: int) -> None:
        self._kept: LRUCache[str, bytes] = LRUCache(maxsize=max(max_bytes, 1), getsizeof=len)
        self._lock = threading.Lock()

    def get(self, key: str) -> bytes | None:
        if key.endswith(";"):  # no ETag (a POST's answer): nothing to key it by
            return None
        with self._lock:
            return self._kept.get(key)

    def set(self, key: str, value: bytes) -> None:
        if key.endswith(";") or len(value) > self._kept.maxsize:
            return
        with self._lock:
            self._kept[key] = value


def _key(_request: object) -> str:
    etag: str | None = g.get("body_etag")
    return etag or ""


def init_compression(app: Flask, max_bytes: int) -> None:
    """Registered before the ETag hook: after_request hooks run last-registered first, so the body is
    hashed (and `g.body_etag` set) before it is compressed."""
    app.config.update(
        COMPRESS_MIMETYPES=MIMETYPES,
        COMPRESS_STREAMS=False,
        COMPRESS_ALGORITHM=["zstd", "br", "gzip", "deflate"],
        COMPRESS_CACHE_KEY=_key,
        COMPRESS_CACHE_BACKEND=(lambda: CompressedBodies(max_bytes)) if max_bytes > 0 else None,
        # the 304s are decided in caching.py, before anything is compressed
        COMPRESS_EVALUATE_CONDITIONAL_REQUEST=False,
    )
    Compress(app)
