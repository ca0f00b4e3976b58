"""Cross-origin calls from browser pages (flask-cors), only from the origins `--cors-origin` names."""

from __future__ import annotations

from flask import Flask
from flask_cors import CORS

from gateway.api.caching import CACHE_HEADER
from gateway.api.responses import READS_HEADER

EXPOSED = ["ETag", "Warning", READS_HEADER, CACHE_HEADER]
"""Response headers a page's script may read (beyond the CORS-safelisted ones)."""


def init_cors(app: Flask, origins: tuple[str, ...], credentials: bool) -> None:
    """None by default: a browser page of another origin can read nothing. A preflight (OPTIONS with
    Access-Control-Request-Method) from an allowed origin is answered with what it may send."""
    if not origins:
        return
    CORS(
        app,
        origins=list(origins),
        methods=["GET", "HEAD", "POST", "OPTIONS"],
        allow_headers=["Authorization", "Content-Type", "If-None-Match", "Accept-Encoding"],
        expose_headers=EXPOSED,
        supports_credentials=credentials,
        max_age=600,
        vary_header=True,
    )
