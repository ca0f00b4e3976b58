"""The gateway as a process, as a user runs it: started, waited for, stopped."""

from __future__ import annotations

import os
import signal
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import requests

from tests.support.waiting import eventually

ROOT = Path(__file__).resolve().parents[2]


@contextmanager
def running(command: list[str], port: int, env: dict[str, str] | None = None, ready: bool = True) -> Iterator[str]:
    """The command as a process, once it is ready (`ready=False`: once it answers /healthz)."""
    with subprocess.Popen(
        command,
        cwd=ROOT,
        env={**os.environ, **(env or {})},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    ) as process:
        yield from _until_ready(process, f"http://127.0.0.1:{port}", "/readyz" if ready else "/healthz")


def _until_ready(process: subprocess.Popen[str], url: str, probe: str) -> Iterator[str]:
    def ready() -> bool:
        if process.poll() is not None:
            output = process.stdout.read() if process.stdout else ""
            pytest.fail(f"the gateway exited before it was ready: {output}")
        try:
            return requests.get(url + probe, timeout=1).status_code == 200
        except (requests.ConnectionError, requests.Timeout):  # a worker still starting on a busy machine
            return False

    try:
        eventually(ready, timeout=30, interval=0.1)
        yield url
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=15)
