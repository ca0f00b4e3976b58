"""Watch: from a resourceVersion (or the current objects as ADDED), with bookmarks and timeoutSeconds;
410 Gone as an ERROR event after `compact()`; cut cleanly or mid-stream when the test drops watches."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator

from flask import Response, request, stream_with_context

from tests.support.emulator.cluster import Cluster, Gone, Object
from tests.support.emulator.http import Settings
from tests.support.emulator.resources import Resource


class DroppedConnection(Exception):
    """Raised inside a watch stream to cut the connection mid-stream."""


def _event(kind: str, obj: Object) -> bytes:
    return json.dumps({"type": kind, "object": obj}).encode() + b"\n"


def _expired(message: str) -> Object:
    return {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure", "message": message,
            "reason": "Expired", "code": 410}  # fmt: skip


def watch_response(
    cluster: Cluster, settings: Settings, resource: Resource, namespace: str | None, wanted: Callable[[Object], bool]
) -> Response:
    since = request.args.get("resourceVersion")
    bookmarks = request.args.get("allowWatchBookmarks") in ("true", "1")
    timeout = min(float(request.args.get("timeoutSeconds") or settings.max_watch_seconds), settings.max_watch_seconds)

    def stream() -> Iterator[bytes]:
        epoch = cluster.watch_epoch
        deadline = time.monotonic() + timeout
        if since in (None, "", "0"):
            items, last = cluster.objects(resource, namespace)
            yield from (_event("ADDED", obj) for obj in items if wanted(obj))
        else:
            last = int(since)
        next_bookmark = time.monotonic() + settings.bookmark_interval
        while True:
            try:
                events, current = cluster.events_after(resource, last)
            except Gone as e:
                yield _event("ERROR", _expired(str(e)))
                return
            yield from (_event(ev.type, ev.obj) for ev in events if wanted(ev.obj))
            last = current
            if cluster.watch_epoch != epoch:
                if cluster.abrupt_drop:
                    raise DroppedConnection("watch dropped by the test")
                return
            now = time.monotonic()
            if now >= deadline:
                return
            if bookmarks and now >= next_bookmark:
                marker = {"kind": resource.kind, "apiVersion": resource.api_version,
                          "metadata": {"resourceVersion": str(last)}}  # fmt: skip
                yield _event("BOOKMARK", marker)
                next_bookmark = now + settings.bookmark_interval
            with cluster.changed:
                if cluster.rv == last and cluster.watch_epoch == epoch:
                    cluster.changed.wait(timeout=min(0.2, max(0.0, deadline - now)))

    return Response(stream_with_context(stream()), mimetype="application/json")
