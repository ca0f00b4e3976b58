"""A `Warning` header on answers built from kinds whose watch is failing: the cache may be behind.

A replica whose watch fails stays ready (all replicas would fail together), so the answer
itself says that it may be stale, since when and why, as the API server's own warnings do
(`299 - "text"`, RFC 7234).
"""

from __future__ import annotations

import time

from flask import Flask, Response, g

from gateway.store import Lagging


def warning(kind: str, since: float, error: str) -> str:
    when = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(since))
    text = f"{kind} may be stale: its watch has been failing since {when} ({error})"
    text = text.encode("ascii", "replace").decode().replace("\\", "\\\\").replace('"', "'")
    return f'299 - "{text[:400]}"'


def read_kinds() -> set[str]:
    """The kinds this request's answer was built from, whether built now or remembered."""
    counted = g.get("store_reads")
    kinds = set(counted.counts) if counted is not None else set()
    return kinds | set(g.get("answer_kinds", ()))


def init_stale_warnings(app: Flask, store: Lagging | None) -> None:
    if store is None:
        return

    @app.after_request
    def warn_if_stale(response: Response) -> Response:
        failing = store.failing_watches()
        if failing:
            for kind in sorted(read_kinds() & failing.keys()):
                response.headers.add("Warning", warning(kind, *failing[kind]))
        return response
