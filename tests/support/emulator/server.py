"""The emulator's HTTP side: the Kubernetes API protocol over a `Cluster`, in a thread on loopback.

Its parts: discovery.py, objects.py (get and list), watch.py, reviews.py; here they are put
together with what every request passes through: the request log and injected faults
(`cluster.faults`: latency, a failing path). kubectl works against it: tests/store prove it.
"""

from __future__ import annotations

import json
import threading
import time
from typing import Any

from flask import Flask, Response, request
from werkzeug.serving import BaseWSGIServer, make_server

from tests.support.emulator.cluster import Cluster
from tests.support.emulator.discovery import discovery
from tests.support.emulator.http import Settings, status
from tests.support.emulator.objects import objects
from tests.support.emulator.reviews import reviews


def create_emulator(cluster: Cluster, settings: Settings | None = None) -> Flask:
    app = Flask("emulator")
    app.url_map.strict_slashes = False  # clients ask for /apis/ as well as /apis

    @app.errorhandler(404)
    def not_found(_: Exception) -> Response:
        return status(404, "NotFound", "the server could not find the requested resource")

    @app.errorhandler(405)
    def not_allowed(_: Exception) -> Response:
        return status(405, "MethodNotAllowed", "the emulator serves reads only")

    @app.before_request
    def faults() -> Response | None:
        cluster.requests.entries.append((request.method, request.path, dict(request.args)))
        f = cluster.faults
        if f.latency and not request.path.startswith("/_emulator"):
            time.sleep(f.latency)
        if f.fail_next > 0 and f.fail_paths in request.path:
            f.fail_next -= 1
            return status(f.fail_status, "InternalError", "injected fault")
        return None

    for blueprint in (reviews(cluster), discovery(cluster), objects(cluster, settings or Settings())):
        app.register_blueprint(blueprint)
    return app


class EmulatorServer:
    """The emulator on 127.0.0.1, in a thread; `start` can be called again after `stop`."""

    def __init__(self, cluster: Cluster, port: int = 0, settings: Settings | None = None) -> None:
        self.cluster = cluster
        self.app = create_emulator(cluster, settings)
        self.port = port
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> EmulatorServer:
        self._server = make_server("127.0.0.1", self.port, self.app, threaded=True)
        self.port = self._server.server_port
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True, name="emulator")
        self._thread.start()
        return self

    def __enter__(self) -> EmulatorServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self) -> None:
        if self._server is not None:
            self.cluster.drop_watches()
            self._server.shutdown()
            self._server.server_close()
            if self._thread is not None:
                self._thread.join(timeout=5)
            self._server = None

    def kubeconfig(self, path: Any, token: str = "emulator-admin") -> str:
        """A kubeconfig file pointing at this emulator, as kubectl and the client read it."""
        config = {
            "apiVersion": "v1", "kind": "Config", "current-context": "emulator",
            "clusters": [{"name": "emulator", "cluster": {"server": self.url}}],
            "users": [{"name": "tester", "user": {"token": token}}],
            "contexts": [{"name": "emulator", "context": {"cluster": "emulator", "user": "tester"}}],
        }  # fmt: skip
        with open(path, "w") as f:
            json.dump(config, f)
        return str(path)
