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
a request would hold every thread, and the liveness probe would fail. Errors gunicorn
answers itself (a request line over 8,190 bytes, malformed headers) are Kubernetes `Status`
JSON, as all ours.

Both workers bound what a client may hold (the settings come from the app they serve, so
`serve`'s flags and wsgi.py's KUBEVIRT_GATEWAY_* variables alike):

- a request head must arrive within `--client-timeout`, and a body within as long again
  once the app reads it, else a 408 Status and the connection closed. The app reads a body
  only in the view that needs it, after authentication and whatever the view can decide
  without it; a body it did not read is not waited for: the connection closes;
- one peer address holds at most `--max-connections-per-address` connections; past that a
  new one is answered 429 and closed before anything is read. Before a request is read, the
  address is all that tells one caller from another.
"""

from __future__ import annotations

import contextlib
import errno
import html
import logging
import re
import selectors
import socket
import ssl
import threading
import time
from collections import Counter, deque
from collections.abc import Callable
from functools import partial
from typing import Any

import gevent
import orjson
from flask import Flask
from gunicorn.app.base import BaseApplication
from gunicorn.workers.ggevent import GeventWorker
from gunicorn.workers.gthread import TConn, ThreadWorker
from werkzeug.exceptions import RequestTimeout

from gateway.api.errors import status_document
from gateway.config import Config

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


class AddressSlots:
    """Connections open per peer address, at most `cap` for each (0: no cap)."""

    def __init__(self, cap: int) -> None:
        self.cap = cap
        self._open: Counter[str] = Counter()
        self._lock = threading.Lock()

    def take(self, peer: str | None) -> bool:
        if peer is None or not self.cap:
            return True
        with self._lock:
            if self._open[peer] >= self.cap:
                return False
            self._open[peer] += 1
            return True

    def give(self, peer: str | None) -> None:
        if peer is None or not self.cap:
            return
        with self._lock:
            self._open[peer] -= 1
            if self._open[peer] <= 0:
                del self._open[peer]


def peer_of(address: Any) -> str | None:
    """A connection's peer IP address; None on a Unix socket, where every caller is the proxy in front."""
    return str(address[0]) if isinstance(address, tuple) and address else None


def _refuse(sock: Any, peer: str, cap: int) -> None:
    message = f"{peer} has {cap} connections open, the most one address may hold (--max-connections-per-address)"
    _send_quietly(sock, _status_response(429, "Too Many Requests", message))
    with contextlib.suppress(OSError):
        sock.close()


class _Limits:
    """The gateway's settings for a worker, from the app it serves (`serve`'s flags, or wsgi.py's
    KUBEVIRT_GATEWAY_* variables); the defaults under any other app."""

    wsgi: Any
    settings: Config
    slots: AddressSlots

    def load_wsgi(self) -> None:
        super().load_wsgi()  # type: ignore[misc]  # gunicorn's Worker, next in the MRO
        gateway = (getattr(self.wsgi, "extensions", None) or {}).get("gateway")
        config = getattr(gateway, "config", None)
        self.settings = config if isinstance(config, Config) else Config()
        self.slots = AddressSlots(self.settings.max_connections_per_address)
        cfg: Any = self.cfg  # type: ignore[attr-defined]  # gunicorn's Worker has it
        if cfg.is_ssl:
            # HTTPS (certfile and keyfile: `serve`'s --tls-* flags, or gunicorn.conf.py's), with the front
            # proxy's CA from the app this worker serves
            front = (getattr(self.wsgi, "extensions", None) or {}).get("gateway_front_proxy")
            client_ca = getattr(front, "client_ca", None)
            cfg.set("ssl_context", tls_context(cfg.certfile, cfg.keyfile, client_ca))


class BoundedBody:
    """A request's body (wsgi.input) that must arrive whole within `seconds` of the app's first read
    of it, else a 408 Status. Until it has been read to its end the response says `Connection:
    close`: the rest of a body the app did not want is not waited for to find the next request."""

    def __init__(self, request: Any, seconds: float) -> None:
        self._body, self._request, self._seconds = request.body, request, seconds
        self._deadline: float | None = None
        self._closes = request.must_close
        self.ended = False
        request.must_close = True

    def __getattr__(self, name: str) -> Any:
        return getattr(self._body, name)  # gunicorn asks whether reading `failed`

    def read(self, size: int | None = None) -> bytes:
        return self._bounded(self._body.read, size)

    def readline(self, size: int | None = None) -> bytes:
        return self._bounded(self._body.readline, size)

    def readlines(self, size: int | None = None) -> list[bytes]:
        lines = []
        while line := self.readline():
            lines.append(line)
            if size is not None and 0 < size <= sum(map(len, lines)):
                break
        return lines

    def __iter__(self) -> BoundedBody:
        return self

    def __next__(self) -> bytes:
        line = self.readline()
        if not line:
            raise StopIteration
        return line

    def _bounded(self, read: Callable[[int | None], bytes], size: int | None) -> bytes:
        if self._deadline is None:
            self._deadline = time.monotonic() + self._seconds
        # one read may wait on the socket many times (gunicorn reads until it has `size`): each wait
        # gets what is left of the time, so a client sending a byte now and then gains none
        unreader = self._request.unreader
        sock = unreader.sock
        unreader.sock = _UntilDeadline(sock, self._deadline)
        try:
            data = read(size)
        except (TimeoutError, BlockingIOError):
            message = f"the request body did not arrive within {self._seconds:g} seconds (--client-timeout)"
            raise RequestTimeout(message) from None  # answered as a Status; the connection closes
        finally:
            unreader.sock = sock
        if not data:  # read to its end: the connection may carry another request
            self._request.must_close = self._closes
            self.ended = True
        return data


class _UntilDeadline:
    """A socket whose every `recv` returns, or times out, by `deadline`."""

    def __init__(self, sock: Any, deadline: float) -> None:
        self._sock, self._deadline = sock, deadline

    def __getattr__(self, name: str) -> Any:
        return getattr(self._sock, name)

    def recv(self, size: int) -> bytes:
        previous = self._sock.gettimeout()
        self._sock.settimeout(max(self._deadline - time.monotonic(), 0.0))  # 0: only what has arrived
        try:
            data: bytes = self._sock.recv(size)
            return data
        finally:
            with contextlib.suppress(OSError):
                self._sock.settimeout(previous)


LINGER_SECONDS = 1.0


def linger(request: Any, sock: Any) -> None:
    """Close the sending half once the response is out, then take in what the client still sends
    for at most LINGER_SECONDS: a socket closed with unread bytes is reset, and a reset may reach the
    client before it read the answer (RFC 9112 9.6). Only for a body the gateway did not read whole."""
    body = getattr(request, "body", None)
    if not isinstance(body, BoundedBody) or body.ended:
        return
    deadline = time.monotonic() + LINGER_SECONDS
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_WR)
        while (left := deadline - time.monotonic()) > 0:
            sock.settimeout(left)
            if not sock.recv(65536):
                break


def bound_body(request: Any, seconds: float) -> None:
    """Give `request` a `BoundedBody` when it has a body (a length over 0, or chunks) read from a socket."""
    if not hasattr(request.unreader, "sock"):
        return
    for name, value in request.headers:
        if name == "TRANSFER-ENCODING" or (name == "CONTENT-LENGTH" and int(value) > 0):
            request.body = BoundedBody(request, seconds)
            return


class _Conn(TConn):  # type: ignore[misc]  # gunicorn ships no type hints
    """gthread's connection, giving its address's slot back when it closes (whichever path closes it)."""

    def __init__(self, *args: Any, release: Callable[[], None]) -> None:
        super().__init__(*args)
        self._release: Callable[[], None] | None = release

    def close(self, graceful: bool = False) -> None:
        release, self._release = self._release, None
        if release is not None:
            release()
        super().close(graceful)


class HeadFirstWorker(_Limits, ThreadWorker):  # type: ignore[misc]  # gunicorn ships no type hints
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
        peer = peer_of(address)
        if not self.slots.take(peer):
            _refuse(client, str(peer), self.slots.cap)
            return
        self.nr_conns += 1
        conn = _Conn(self.cfg, client, address, listener.getsockname(), release=partial(self.slots.give, peer))
        self._await_head(conn)

    def on_client_socket_readable(self, conn: TConn, client: Any) -> None:
        # a kept-alive connection's next request is read in the poller too
        self.poller.unregister(client)
        self.keepalived_conns.remove(conn)
        self._await_head(conn)

    def enqueue_req(self, conn: TConn) -> None:
        if getattr(conn, "head", None) is None and conn.initialized:
            # gthread hands on a kept-alive connection whose client sent its next request with the
            # last one: what came may be half a head, which a thread would wait for
            self._await_head(conn, conn.parser.unreader.take_buffered())
            return
        super().enqueue_req(conn)

    def _await_head(self, conn: TConn, arrived: bytes = b"") -> None:
        if arrived and head_complete(arrived):
            self._hand_on(conn, bytearray(arrived))
            return
        conn.sock.setblocking(False)
        conn.timeout = time.monotonic() + self.settings.client_timeout
        self._head_of[id(conn)] = bytearray(arrived)
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
            self._hand_on(conn, buffered)

    def _hand_on(self, conn: TConn, buffered: bytearray) -> None:
        conn.head = bytes(buffered)
        conn.data_ready = True
        super().enqueue_req(conn)

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

    def handle_request(self, req: Any, conn: TConn) -> Any:
        bound_body(req, self.settings.client_timeout)  # chunked, or over BUFFERED_BODY
        keep = super().handle_request(req, conn)
        if not keep:
            linger(req, conn.sock)
        return keep

    def murder_pending(self) -> None:
        super().murder_pending()
        now = time.monotonic()
        while self.heads and self.heads[0].timeout <= now:
            conn = self.heads[0]
            self._forget_head(conn)
            message = f"the request did not arrive within {self.settings.client_timeout:g} seconds (--client-timeout)"
            _send_quietly(conn.sock, _status_response(408, "Request Timeout", message))
            self.nr_conns -= 1
            conn.close()

    def handle_error(self, req: Any, client: Any, addr: Any, exc: Exception) -> None:
        super().handle_error(req, _StatusSocket(client), addr, exc)


class GreenletWorker(_Limits, GeventWorker):  # type: ignore[misc]  # gunicorn ships no type hints
    """gunicorn's gevent worker, with the same rules as `HeadFirstWorker`: a request head (or the
    next one on a kept-alive connection) must arrive within `--client-timeout`, else the connection
    is closed, and a body as well once the app reads it (else 408); one address holds at most
    `--max-connections-per-address` connections; errors gunicorn answers itself are `Status` JSON."""

    def timeout_ctx(self) -> Any:
        return gevent.Timeout(self.settings.client_timeout, False)

    def handle(self, listener: Any, client: Any, addr: Any) -> None:
        peer = peer_of(addr)
        if not self.slots.take(peer):
            _refuse(client, str(peer), self.slots.cap)
            return
        try:
            super().handle(listener, client, addr)
        finally:
            self.slots.give(peer)

    def handle_request(self, listener_name: Any, req: Any, sock: Any, addr: Any) -> Any:
        bound_body(req, self.settings.client_timeout)
        try:
            return super().handle_request(listener_name, req, sock, addr)
        except StopIteration:  # gunicorn's way of closing the connection after this response
            linger(req, sock)
            raise

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
        # a header spelled with underscores (X-Remote_User) would reach the app as X-Remote-User: dropped
        "header_map": "drop",
    }
    if config.tls_cert_file and config.tls_private_key_file:
        # the worker makes its TLS context from them (`_Limits.load_wsgi`)
        options.update(certfile=config.tls_cert_file, keyfile=config.tls_private_key_file)
    if greenlets:
        options["worker_connections"] = config.max_subscribers + 1024  # every stream, and room for requests
    else:
        options["threads"] = config.threads
    GatewayServer(app, options, (lambda: _quietly(create_app, config)) if greenlets else None).run()


def tls_context(cert: str, key: str, client_ca: str | None) -> Callable[[Any, Any], ssl.SSLContext]:
    """gunicorn's ssl_context hook: HTTPS with `cert`, and with `client_ca` a client certificate verified
    against that CA alone when one is offered (one from any other CA fails the handshake). gunicorn's own
    context would also trust the system's CAs: any certificate a public CA signed could then name users."""

    def build(_config: Any, _default: Any) -> ssl.SSLContext:
        # called in the worker, after gevent patched ssl: its context makes sockets that yield, not block
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        context.load_cert_chain(cert, key)
        if client_ca:
            context.verify_mode = ssl.CERT_OPTIONAL
            context.load_verify_locations(cadata=client_ca)
        return context

    return build


def _quietly(build: Callable[[Config], Flask], config: Config) -> Flask:
    """The worker's app, built again from the same source: what loading it found (manifests left out,
    replaced) the master has logged already, and is not said twice."""
    loading = logging.getLogger("gateway.store.snapshot")
    level = loading.level
    loading.setLevel(logging.ERROR)
    try:
        return build(config)
    finally:
        loading.setLevel(level)
