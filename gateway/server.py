"""Serve the app with gunicorn, in this process: one worker, a greenlet (or a thread) per connection.

One worker, because the store (and, for live clusters, the watch cache) lives in the
worker's memory: more workers would each keep a copy and each watch the API server.
`GreenletWorker` (the default, `--server gevent`) is gunicorn's gevent worker: a connection
costs a greenlet, so a thousand live streams or slow clients hold no thread
(docs/benchmarks.md section 7). `--server threads` is the thread-per-connection worker below.

`HeadFirstWorker` is gunicorn's gthread worker with one change: a request's head (and a
small body) is read by the worker's poller, and the request reaches a thread only once it
has arrived whole. gthread hands a connection to a thread as soon as a byte arrives, and
that thread then blocks until the client finishes its headers: sixteen clients sending half
a request would hold every thread, and the liveness probe would fail. A head that does not
arrive within `HEAD_SECONDS` is answered 408 and closed. Errors gunicorn answers itself (a
request line over 8,190 bytes, malformed headers) are Kubernetes `Status` JSON, as all ours.
"""

from __future__ import annotations

import contextlib
import errno
import html
import re
import selectors
import time
from collections import deque
from collections.abc import Callable
from functools import partial
from typing import Any

import gevent
import orjson
from flask import Flask
from gunicorn.app.base import BaseApplication
from gunicorn.workers.ggevent import GeventWorker
from gunicorn.workers.gthread import TConn, ThreadWorker

from gateway.api.errors import status_document
from gateway.config import Config

HEAD_SECONDS = 10.0
"""How long a client may take to send a request's head (and a body of up to `BUFFERED_BODY`)."""
BUFFERED_BODY = 1 << 20
"""Bodies up to this size are read before a thread is given the request; larger ones by the thread."""
MAX_HEAD = 64 * 1024
"""Past this much without the end of the head, the thread's parser answers (431 or 414)."""
_CONTENT_LENGTH = re.compile(rb"\r\ncontent-length:[ \t]*(\d+)", re.IGNORECASE)


def head_complete(buffered: bytes | bytearray) -> bool:
    """Whether `buffered` holds a whole request head, and its body when small enough to wait for."""
    end = buffered.find(b"\r\n\r\n")
    if end < 0:
        return len(buffered) > MAX_HEAD
    length = _CONTENT_LENGTH.search(buffered, 0, end + 2)
    wanted = int(length.group(1)) if length else 0
    return wanted > BUFFERED_BODY or len(buffered) >= end + 4 + wanted


class HeadFirstWorker(ThreadWorker):  # type: ignore[misc]  # gunicorn ships no type hints
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.heads: deque[TConn] = deque()  # connections whose request is still arriving, by deadline
        self._head_of: dict[int, bytearray] = {}  # id(conn) -> what arrived so far

    def accept(self, listener: Any) -> None:
        try:
            client, address = listener.accept()
        except OSError as e:
            if e.errno not in (errno.EAGAIN, errno.ECONNABORTED, errno.EWOULDBLOCK):
                raise
            return
        self.nr_conns += 1
        self._await_head(TConn(self.cfg, client, address, listener.getsockname()))

    def on_client_socket_readable(self, conn: TConn, client: Any) -> None:
        # a kept-alive connection's next request is read in the poller too
        self.poller.unregister(client)
        self.keepalived_conns.remove(conn)
        self._await_head(conn)

    def _await_head(self, conn: TConn) -> None:
        conn.sock.setblocking(False)
        conn.timeout = time.monotonic() + HEAD_SECONDS
        self._head_of[id(conn)] = bytearray()
        self.heads.append(conn)
        self.poller.register(conn.sock, selectors.EVENT_READ, partial(self._read_head, conn))

    def _read_head(self, conn: TConn, _client: Any) -> None:
        try:
            chunk = conn.sock.recv(65536)
        except BlockingIOError:
            return
        except OSError:
            chunk = b""
        if not chunk:  # the client went away before finishing its request
            self._forget_head(conn)
            self.nr_conns -= 1
            conn.close()
            return
        buffered = self._head_of[id(conn)]
        buffered += chunk
        if head_complete(buffered):
            self._forget_head(conn)
            conn.head = bytes(buffered)
            conn.data_ready = True
            self.enqueue_req(conn)

    def _forget_head(self, conn: TConn) -> None:
        self.poller.unregister(conn.sock)
        self.heads.remove(conn)
        self._head_of.pop(id(conn), None)

    def handle(self, conn: TConn) -> Any:
        head = getattr(conn, "head", None)
        if head is not None:
            conn.head = None
            conn.sock.setblocking(True)
            conn.init()
            conn.parser.unreader.unread(head)
        return super().handle(conn)

    def murder_pending(self) -> None:
        super().murder_pending()
        now = time.monotonic()
        while self.heads and self.heads[0].timeout <= now:
            conn = self.heads[0]
            self._forget_head(conn)
            message = f"the request did not arrive within {HEAD_SECONDS:.0f} seconds"
            _send_quietly(conn.sock, _status_response(408, "Request Timeout", message))
            self.nr_conns -= 1
            conn.close()

    def handle_error(self, req: Any, client: Any, addr: Any, exc: Exception) -> None:
        super().handle_error(req, _StatusSocket(client), addr, exc)


class GreenletWorker(GeventWorker):  # type: ignore[misc]  # gunicorn ships no type hints
    """gunicorn's gevent worker, with the same two rules as `HeadFirstWorker`: a request head (or the
    next one on a kept-alive connection) must arrive within `HEAD_SECONDS`, else the connection is
    closed; and errors gunicorn answers itself are Kubernetes `Status` JSON."""

    def timeout_ctx(self) -> Any:
        return gevent.Timeout(HEAD_SECONDS, False)

    def handle_error(self, req: Any, client: Any, addr: Any, exc: Exception) -> None:
        super().handle_error(req, _StatusSocket(client), addr, exc)


class _StatusSocket:
    """Hands gunicorn's HTML error page on as a Kubernetes Status: same code, same message."""

    def __init__(self, sock: Any) -> None:
        self._sock = sock

    def __getattr__(self, name: str) -> Any:
        return getattr(self._sock, name)

    def sendall(self, data: bytes) -> None:
        line, _, rest = data.partition(b"\r\n")
        _, code, phrase = line.decode("latin-1").split(" ", 2)
        page = rest.decode("latin-1")
        message = re.sub(r"<[^>]+>", " ", page.split("</h1>", 1)[-1].split("</body>", 1)[0])
        self._sock.sendall(_status_response(int(code), phrase, html.unescape(" ".join(message.split())) or phrase))


def _status_response(code: int, phrase: str, message: str) -> bytes:
    body = orjson.dumps(status_document(code, message))
    head = f"HTTP/1.1 {code} {phrase}\r\nConnection: close\r\nContent-Type: application/json\r\n"
    return head.encode("latin-1") + f"Content-Length: {len(body)}\r\n\r\n".encode() + body


def _send_quietly(sock: Any, data: bytes) -> None:
    with contextlib.suppress(OSError):  # a client that stalled may be gone as well
        sock.send(data)


class GatewayServer(BaseApplication):  # type: ignore[misc]  # gunicorn ships no type hints
    def __init__(self, app: Flask, options: dict[str, Any], build: Callable[[], Flask] | None = None) -> None:
        self.application = app
        self.build = build
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> Flask:
        return self.build() if self.build is not None else self.application


def serve(app: Flask, config: Config) -> None:
    """Serve `app` (built here, in the master, so that a bad source is refused before any fork).

    With gevent the worker builds the app again after gevent patched threading and sockets in it:
    the master's app holds locks and events that would block the whole worker, not one greenlet.
    """
    from gateway.app import create_app

    greenlets = config.server == "gevent"
    options: dict[str, Any] = {
        "bind": f"{config.host}:{config.port}",
        "workers": 1,
        "worker_class": "gateway.server.GreenletWorker" if greenlets else "gateway.server.HeadFirstWorker",
        "accesslog": "-",
        "errorlog": "-",
        "timeout": 60,
        "limit_request_line": 8190,  # gunicorn's most; --max-url-bytes answers shorter ones as a Status
        "graceful_timeout": 5,
    }
    if greenlets:
        options["worker_connections"] = config.max_subscribers + 1024  # every stream, and room for requests
    else:
        options["threads"] = config.threads
    GatewayServer(app, options, (lambda: create_app(config)) if greenlets else None).run()
