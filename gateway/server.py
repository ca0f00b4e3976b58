"""Serve the app with gunicorn, in this process: one worker, many threads.

One worker, because the store (and, for live clusters, the watch cache) lives in the
worker's memory: more workers would each keep a copy and each watch the API server.
Threads, because requests mostly wait on the store or the API server.
"""

from __future__ import annotations

from typing import Any

from flask import Flask
from gunicorn.app.base import BaseApplication

from gateway.config import Config


class GatewayServer(BaseApplication):  # type: ignore[misc]  # gunicorn ships no type hints
    def __init__(self, app: Flask, options: dict[str, Any]) -> None:
        self.application = app
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> Flask:
        return self.application


def serve(app: Flask, config: Config) -> None:
    GatewayServer(
        app,
        {
            "bind": f"{config.host}:{config.port}",
            "workers": 1,
            "threads": config.threads,
            "worker_class": "gthread",
            "accesslog": "-",
            "errorlog": "-",
            "timeout": 60,
            "limit_request_line": 8190,  # gunicorn's most; --max-url-bytes answers shorter ones as a Status
            "graceful_timeout": 5,
        },
    ).run()
