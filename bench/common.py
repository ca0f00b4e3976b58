"""What the benchmarks share: an emulated cluster, gateways over it, and timing."""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from gateway.app import create_app  # noqa: E402
from gateway.config import Config  # noqa: E402
from tests.support.emulator.cluster import Cluster  # noqa: E402
from tests.support.emulator.server import EmulatorServer, Settings  # noqa: E402
from tests.support.gateway import Gateway, serving  # noqa: E402

UI_PAGE = "vmi.pod.node,volumes.pvc.pv,instancetype.revision,preference.revision,networks.nad,accesscredentials"
__all__ = [
    "ROOT", "UI_PAGE", "Gateway", "RemoteEmulator", "cached_objects", "emulator", "first_answer", "gateway_config",
    "gunicorn", "milliseconds", "rss_mib", "serve", "serving", "summary", "worker_pid", "wrk",
]  # fmt: skip


def emulator(objects: Iterable[dict[str, Any]]) -> EmulatorServer:
    cluster = Cluster()
    cluster.load(objects)
    return EmulatorServer(cluster, settings=Settings(bookmark_interval=5.0, max_watch_seconds=300)).start()


class RemoteEmulator:
    """The emulator in its own process, as an API server is: it does not share the gateway's GIL."""

    def __init__(self, *source: str) -> None:
        import socket
        import subprocess

        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tests.support.emulator", "--port", str(self.port), *source],
            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
        )  # fmt: skip
        assert self.process.stdout is not None
        self.banner = self.process.stdout.readline().strip()

    def kubeconfig(self, path: Any) -> str:
        import json

        config = {"apiVersion": "v1", "kind": "Config", "current-context": "e",
                  "clusters": [{"name": "e", "cluster": {"server": self.url}}],
                  "users": [{"name": "u", "user": {"token": "emulator-admin"}}],
                  "contexts": [{"name": "e", "context": {"cluster": "e", "user": "u"}}]}  # fmt: skip
        Path(path).write_text(json.dumps(config))
        return str(path)

    def requests(self) -> dict[str, int]:
        import requests

        result: dict[str, int] = requests.get(self.url + "/_emulator/requests", timeout=30).json()
        return result

    def reset(self) -> None:
        import requests

        requests.post(self.url + "/_emulator/reset", timeout=30)

    def latency(self, seconds: float) -> None:
        import requests

        requests.post(self.url + "/_emulator/latency", params={"seconds": seconds}, timeout=30)

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=30)


def gateway_config(server: EmulatorServer | RemoteEmulator, **settings: Any) -> Config:
    kubeconfig = server.kubeconfig(Path(tempfile.mkdtemp()) / "kubeconfig")
    return Config(kube=True, kubeconfig=kubeconfig, auth="none", api_timeout=60, **settings)


def gateway(server: EmulatorServer | RemoteEmulator, **settings: Any) -> Any:
    return create_app(gateway_config(server, **settings))


def rss_mib(pid: int) -> float:
    """A process's resident memory, MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def worker_pid(master: int) -> int:
    """The one worker of a gunicorn master."""
    for _ in range(100):
        children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
        if children:
            return int(children[0])
        time.sleep(0.1)
    raise RuntimeError("no gunicorn worker")


def gunicorn(app: str, env: dict[str, str], cwd: Path, probe: str, *options: str) -> tuple[Any, str]:
    """`app` under gunicorn with the project's settings (and `options` over them) on a free port, once
    `probe` answers 200."""
    import os
    import socket
    import subprocess

    import requests

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    binary = str(Path(sys.executable).parent / "gunicorn")
    process = subprocess.Popen(
        [binary, "-c", str(ROOT / "gunicorn.conf.py"), "--bind", f"127.0.0.1:{port}",
         "--access-logfile", "/dev/null", *options, app],
        cwd=cwd, env={**os.environ, **env}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    for _ in range(600):
        try:
            if requests.get(url + probe, timeout=5).status_code == 200:
                return process, url
        except requests.ConnectionError:
            pass
        time.sleep(0.05)
    process.terminate()
    raise RuntimeError(f"{app} did not start")


def wrk(target: str, seconds: int, paths: list[str] | None = None) -> float:
    """Requests per second from wrk (2 threads, 8 connections): `target` is a URL, or with `paths`
    the server's base URL and the paths it GETs in turn (bench/pages.lua)."""
    import re
    import subprocess

    command = ["wrk", "-t2", "-c8", f"-d{seconds}s", target]
    if paths is not None:
        listing = Path(tempfile.mkdtemp()) / "paths.txt"
        listing.write_text("\n".join(paths) + "\n")
        command = [*command[:-1], "-s", str(ROOT / "bench" / "pages.lua"), target, "--", str(listing)]
    out = subprocess.run(command, capture_output=True, text=True).stdout
    match = re.search(r"Requests/sec:\s+([\d.]+)", out)
    return float(match.group(1)) if match else 0.0


def milliseconds(fn: Callable[[], Any], repeat: int) -> list[float]:
    """Wall time of each of `repeat` calls, in milliseconds."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return times


def summary(times: list[float]) -> tuple[float, float]:
    """(p50, p99) in milliseconds."""
    ordered = sorted(times)
    return statistics.median(ordered), ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]


def serve(kubeconfig: str, *options: str, probe: str = "/healthz") -> tuple[Any, str]:
    """`kubevirt-gateway serve` in its own process over a kubeconfig, once `probe` answers 200."""
    import socket
    import subprocess

    import requests

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    process = subprocess.Popen(
        [sys.executable, "-m", "gateway", "serve", "--kube", "--auth", "none", "--kubeconfig", kubeconfig,
         "--port", str(port), "--api-timeout", "600", *options],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    for _ in range(600):
        try:
            if requests.get(url + probe, timeout=2).status_code == 200:
                break
        except requests.ConnectionError:
            pass
        time.sleep(0.1)
    return process, url


def first_answer(session: Any, url: str) -> float:
    """Seconds from a cold gateway's start of sync to its first answer of the UI's VM page."""
    start = time.perf_counter()
    first = session.get(url + "/namespaces/bench/vms", params={"follow": UI_PAGE, "limit": 1}, timeout=600)
    assert first.status_code == 200, first.text[:500]
    return time.perf_counter() - start


def cached_objects(session: Any, url: str) -> dict[str, float]:
    """What the gateway's watch cache holds, per kind (its /metrics)."""
    cached: dict[str, float] = {}
    for line in session.get(url + "/metrics", timeout=60).text.splitlines():
        if line.startswith("gateway_cached_objects{"):
            cached[line.split('kind="', 1)[1].split('"', 1)[0]] = float(line.rsplit(" ", 1)[1])
    return cached
