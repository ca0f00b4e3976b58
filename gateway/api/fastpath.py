"""Remembered answers before Flask: a WSGI layer around the app that replays what Flask answered.

The first time a remembered answer is served, it goes through Flask (routing, `caching.from_memory`,
every after-request hook: compression, CORS, the prefix in hrefs, the reads header, metrics), and
this layer keeps the response it became, status, headers and bytes, as a replay: under the answer's
key (path, query, caller), the prefix the request came in on (aggregated.py: its hrefs carry it) and
the request's values of the headers a response may vary on (`VARIES`). A later GET with the same
key, prefix and values is answered with the replay straight away, once what differs per request is
done again with the full path's own functions: the caller established by auth's `establish`, the
answer recalled from the same memory (so a change drops it, and the caller's access decisions it
was built on are confirmed for this caller now), the request counted in /metrics under the route
and status Flask counted. Anything else (another method, a body, an answer no longer remembered or
rebuilt since, a watch failing behind it, a caller not established) falls through to Flask
untouched; Flask's next hit keeps a new replay. So the fast path copies no request logic: its
headers are Flask's, byte for byte, taken from a response Flask made.

A replay is kept only if its response varies on nothing but `VARIES` (its `Vary` header says so,
as an HTTP cache reads it) and carries no `Warning` or `Date` (decided per request: a stale watch's
warning by the full path).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from cachetools import LRUCache
from flask import Request

from gateway.api.auth import Establish
from gateway.api.caching import RECALLED, Recalled, answer_key, cacheable
from gateway.api.metrics import Observe
from gateway.changes.answers import Answers
from gateway.store import Lagging

StartResponse = Callable[..., Any]
WsgiApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]

VARIES = (
    "HTTP_ACCEPT",
    "HTTP_ACCEPT_ENCODING",
    "HTTP_ORIGIN",
    "HTTP_IF_NONE_MATCH",
    "HTTP_IF_MATCH",
    "HTTP_IF_MODIFIED_SINCE",
    "HTTP_IF_UNMODIFIED_SINCE",
    "HTTP_IF_RANGE",
    "HTTP_RANGE",
)
"""The request headers a replay is keyed by besides the answer's key: content negotiation, CORS's
origin, and every conditional or range header (their answer is another status)."""
_VARY_NAMES = frozenset(h[len("HTTP_") :].replace("_", "-").lower() for h in VARIES)
REPLAY_OVERHEAD_BYTES = 512
"""What a replay costs besides its body (its key, status, headers): a rough figure."""


@dataclass(frozen=True, slots=True)
class Replay:
    etag: str
    """The remembered answer's ETag: replayed only while the same answer is remembered."""
    status: str
    headers: tuple[tuple[str, str], ...]
    body: bytes
    code: int
    route: str


class FastPath:
    """`app.wsgi_app = FastPath(app.wsgi_app, ...)`: replays kept in an LRU bounded by bytes."""

    def __init__(
        self,
        wsgi_app: WsgiApp,
        request_class: type[Request],
        answers: Answers,
        establish: Establish | None,
        observe: Observe,
        lagging: Lagging | None,
        max_bytes: int,
    ) -> None:
        self.wsgi_app = wsgi_app
        self.request_class = request_class
        self.answers = answers
        self.establish = establish
        self.observe = observe
        self.lagging = lagging
        self._replays: _Replays = _Replays(max(max_bytes, 1))
        self._lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        if environ.get("REQUEST_METHOD") != "GET":
            return self.wsgi_app(environ, start_response)
        started = time.perf_counter()
        request = self.request_class(environ)
        if not cacheable(request):
            return self.wsgi_app(environ, start_response)
        root = request.script_root  # the prefix it came in on (aggregated.py): hrefs in the bytes carry it
        if (root, request.path, request.query_string) not in self._replays.places:
            # nothing replayable here: no caller is established twice (Flask establishes it)
            return self._through_flask(environ, start_response)
        try:
            policy = self.establish(request) if self.establish is not None else None
        except Exception:  # no token, a rejected one, a review that failed: the full path answers it
            return self._through_flask(environ, start_response)
        key = answer_key(request, policy)
        with self._lock:
            replay = self._replays.get((root, key, tuple(environ.get(h) for h in VARIES)))
        if replay is None:
            return self._through_flask(environ, start_response)
        answer = self.answers.recall(key, policy)
        if answer is None or answer.etag != replay.etag or self._stale(answer.kinds):
            return self._through_flask(environ, start_response)
        start_response(replay.status, list(replay.headers))
        self.observe(replay.route, "GET", replay.code, time.perf_counter() - started, 0, fast=True)
        return [replay.body]

    def _stale(self, kinds: tuple[str, ...]) -> bool:
        """Whether a watch behind the answer is failing: the full path then adds its Warning."""
        if self.lagging is None:
            return False
        failing = self.lagging.failing_watches()
        return bool(failing) and any(kind in failing for kind in kinds)

    def _through_flask(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        """Flask answers; if it answered from memory, the response it made is kept as a replay."""
        captured: list[Any] = []

        def capture(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            captured[:] = [status, headers]
            return start_response(status, headers, exc_info) if exc_info else start_response(status, headers)

        answered = self.wsgi_app(environ, capture)
        recalled = environ.get(RECALLED)
        if not isinstance(recalled, Recalled) or not captured:
            return answered
        try:  # a remembered answer's body is bytes in memory, never a stream
            body = b"".join(answered)
        finally:
            close = getattr(answered, "close", None)
            if close is not None:
                close()
        status, headers = captured
        self._keep(recalled, self.request_class(environ).script_root, environ, status, headers, body)
        return [body]

    def _keep(
        self,
        recalled: Recalled,
        root: str,
        environ: dict[str, Any],
        status: str,
        headers: list[tuple[str, str]],
        body: bytes,
    ) -> None:
        code = int(status.split(" ", 1)[0])
        names = {name.lower() for name, _ in headers}
        vary = {v.strip().lower() for name, value in headers if name.lower() == "vary" for v in value.split(",")}
        if code not in (200, 304) or names & {"warning", "date"} or not vary <= _VARY_NAMES:
            return
        replay = Replay(recalled.etag, status, tuple(headers), body, code, recalled.route)
        with self._lock:
            self._replays.put((root, recalled.key, tuple(environ.get(h) for h in VARIES)), replay)


class _Replays:
    """The replays, and the places (prefix, path, query) any is kept for: a request elsewhere goes
    to Flask without being looked up or its caller established twice."""

    def __init__(self, max_bytes: int) -> None:
        self.places: dict[tuple[Any, ...], int] = {}
        self._kept = _Evicting(max_bytes, self._forget)

    def get(self, key: tuple[Any, ...]) -> Replay | None:
        return self._kept.get(key)

    def put(self, key: tuple[Any, ...], replay: Replay) -> None:
        fresh = key not in self._kept
        try:
            self._kept[key] = replay
        except ValueError:  # larger than the whole bound: not kept
            return
        if fresh:
            place = _place(key)
            self.places[place] = self.places.get(place, 0) + 1

    def _forget(self, key: tuple[Any, ...]) -> None:
        place = _place(key)
        left = self.places.get(place, 0) - 1
        if left > 0:
            self.places[place] = left
        else:
            self.places.pop(place, None)


class _Evicting(LRUCache[tuple[Any, ...], Replay]):
    def __init__(self, max_bytes: int, forget: Callable[[tuple[Any, ...]], None]) -> None:
        super().__init__(maxsize=max_bytes, getsizeof=_cost)
        self._on_evict = forget

    def popitem(self) -> tuple[tuple[Any, ...], Replay]:
        key, replay = super().popitem()
        self._on_evict(key)
        return key, replay


def _place(key: tuple[Any, ...]) -> tuple[Any, ...]:
    """(prefix, path, query) of a replay's key (prefix, answer key, varying headers)."""
    root, (path, query, _caller), _ = key
    return root, path, query


def _cost(replay: Replay) -> int:
    return len(replay.body) + sum(len(n) + len(v) for n, v in replay.headers) + REPLAY_OVERHEAD_BYTES
