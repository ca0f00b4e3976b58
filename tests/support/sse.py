"""Reading a text/event-stream (`?watch=true`) on a thread, so a test can wait for the next event, bounded."""

from __future__ import annotations

import json
import queue
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import requests

from tests.support.gateway import Gateway


def _decoded(text: str) -> Any:
    """A JSON document, or the text itself (a DOT graph)."""
    try:
        return json.loads(text)
    except ValueError:
        return text


class Events:
    """Reads a text/event-stream on a thread, so tests can wait for the next event with a timeout."""

    def __init__(self, response: requests.Response) -> None:
        self.response = response
        self.queue: queue.Queue[tuple[str, Any]] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        kind, data = "message", []
        try:
            for raw in self.response.iter_lines(decode_unicode=True):
                if raw.startswith(":"):
                    self.queue.put(("heartbeat", None))
                elif raw.startswith("event: "):
                    kind = raw[7:]
                elif raw.startswith("data: "):
                    data.append(raw[6:])
                elif raw == "" and data:
                    self.queue.put((kind, _decoded("\n".join(data))))  # data lines join with newlines
                    kind, data = "message", []
        except (requests.RequestException, AttributeError, ValueError):
            pass

    def next(self, timeout: float = 10.0, skip_heartbeats: bool = True) -> tuple[str, Any]:
        while True:
            kind, data = self.queue.get(timeout=timeout)
            if kind != "heartbeat" or not skip_heartbeats:
                return kind, data

    def documents_within(self, seconds: float) -> list[Any]:
        """Every non-heartbeat event in the next `seconds`."""
        found, deadline = [], time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            try:
                kind, data = self.queue.get(timeout=left)
            except queue.Empty:
                break
            if kind != "heartbeat":
                found.append(data)
        return found


@contextmanager
def watching(gateway: Gateway, path: str, **params: str) -> Iterator[Events]:
    response = requests.get(gateway.url + path, params={**params, "watch": "true"}, stream=True, timeout=30,
                            headers={"Accept": "text/event-stream"})  # fmt: skip
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"].startswith("text/event-stream")
    try:
        yield Events(response)
    finally:
        response.close()
