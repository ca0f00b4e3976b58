"""A thousand live streams on one replica (issue 13, goal 4), for each server choice side by side.

The emulator (its own process) serves `--vms` synthetic VMs and changes the status of their
VMIs at `--rate` a second (`POST /_emulator/churn`, each change stamped with its time in the
VMI's Ready condition). The gateway runs under gunicorn with the project's settings, with one
of the worker choices. A client in this process opens `--streams` `?watch=true` streams, each on
a different VM page (`follow=vmi`), and reads them all from one event loop. Measured: how many
opened, the worker's resident memory per idle stream, the delay from each change to its
update on the stream (p50, p99), the slowest `/healthz` answer while streams and churn run, and
a VM page's GET throughput (wrk) with the streams open against without.

    .venv/bin/python bench/streams.py [--vms 1000] [--streams 1000] [--rate 20] [--seconds 10]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import statistics
import tempfile
import threading
import time
from pathlib import Path

import orjson
import requests
from common import ROOT, RemoteEmulator, gunicorn, rss_mib, worker_pid, wrk

CHOICES = {
    # gthread (our HeadFirstWorker): a thread per stream, so as many threads as streams and then some
    "threads": lambda streams: ["-k", "gateway.server.HeadFirstWorker", "--threads", str(streams + 32)],
    # gevent (our GreenletWorker, the default): a greenlet per connection
    "gevent": lambda streams: ["-k", "gateway.server.GreenletWorker", "--worker-connections", str(streams + 256)],
}


class Streams:
    """`count` SSE streams read from one event loop: when each update arrived, against its change's stamp."""

    def __init__(self, port: int, count: int) -> None:
        self.port, self.count = port, count
        self.opened = 0
        self.delays: list[float] = []
        self.measuring = False
        self.loop = asyncio.new_event_loop()
        self.ready = threading.Event()
        self._stop: asyncio.Event | None = None

    def start(self) -> None:
        threading.Thread(target=self.loop.run_until_complete, args=(self._main(),), daemon=True).start()

    def stop(self) -> None:
        if self._stop is not None:
            self.loop.call_soon_threadsafe(self._stop.set)

    async def _main(self) -> None:
        self._stop = asyncio.Event()
        limit = asyncio.Semaphore(64)  # open them quickly, but not all in one burst
        tasks = [asyncio.create_task(self._stream(i, limit)) for i in range(self.count)]
        while self.opened < self.count and not all(t.done() for t in tasks):
            await asyncio.sleep(0.05)
        self.ready.set()
        await self._stop.wait()
        for t in tasks:
            t.cancel()

    async def _stream(self, i: int, limit: asyncio.Semaphore) -> None:
        async with limit:
            reader, writer = await asyncio.open_connection("127.0.0.1", self.port, limit=1 << 22)
            path = f"/namespaces/bench/vms/vm-{i:05d}?watch=true&follow=vmi"
            # HTTP/1.0: the stream is the body as it comes, not in chunks
            writer.write(f"GET {path} HTTP/1.0\r\nHost: gateway\r\nAccept: text/event-stream\r\n\r\n".encode())
            await writer.drain()
            head = await reader.readuntil(b"\r\n\r\n")
            if b" 200 " not in head.split(b"\r\n", 1)[0]:
                writer.close()
                return
            await self._event(reader)  # the first document
            self.opened += 1
        try:
            while True:
                data = await self._event(reader)
                if data is not None and self.measuring:
                    stamp = _stamp(data)
                    if stamp is not None:
                        self.delays.append(time.time() - stamp)
        finally:
            writer.close()

    @staticmethod
    async def _event(reader: asyncio.StreamReader) -> bytes | None:
        """The data of the next document event (None for a heartbeat or another event)."""
        data: list[bytes] = []
        event = b""
        while True:
            line = await reader.readline()
            if not line:
                raise ConnectionError("stream closed")
            line = line.rstrip(b"\r\n")
            if not line:
                if event == b"document":
                    return b"\n".join(data)
                if event or data:
                    return None
                continue
            if line.startswith(b"event: "):
                event = line[7:]
            elif line.startswith(b"data: "):
                data.append(line[6:])


def _stamp(data: bytes) -> float | None:
    """When the change this document shows was made (the emulator's stamp in the VMI's Ready condition)."""
    try:
        conditions = orjson.loads(data)["vmi"]["status"]["conditions"]
        when = conditions[0]["lastProbeTime"]
        return datetime.datetime.strptime(when, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=datetime.UTC).timestamp()
    except (KeyError, IndexError, TypeError, ValueError, orjson.JSONDecodeError):
        return None


def _slowest(probes: list[float]) -> str:
    failed = sum(1 for p in probes if p == float("inf"))
    answered = [p for p in probes if p != float("inf")]
    slowest = f"{max(answered) * 1000:.0f} ms" if answered else "none answered"
    return f"{slowest}, {failed} of {len(probes)} failed" if failed else slowest


def measure(choice: str, args: argparse.Namespace) -> str:
    emulator = RemoteEmulator("--synthetic", str(args.vms))
    kubeconfig = emulator.kubeconfig(Path(tempfile.mkdtemp()) / "kubeconfig")
    env = {"KUBEVIRT_GATEWAY_KUBE": "true", "KUBEVIRT_GATEWAY_KUBECONFIG": kubeconfig, "KUBEVIRT_GATEWAY_AUTH": "none",
           "KUBEVIRT_GATEWAY_MAX_SUBSCRIBERS": str(args.streams + 16),
           "KUBEVIRT_GATEWAY_MAX_SUBSCRIBERS_PER_CALLER": str(args.streams + 16),
           # every stream comes from this machine's one address
           "KUBEVIRT_GATEWAY_MAX_CONNECTIONS_PER_ADDRESS": str(args.streams + 256)}  # fmt: skip
    page = "/namespaces/bench/vms/vm-00000?follow=vmi"
    process, url = gunicorn("wsgi:app", env, ROOT, page, *CHOICES[choice](args.streams))
    port = int(url.rsplit(":", 1)[1])
    try:
        worker = worker_pid(process.pid)
        wrk(url + page, 2)  # warm
        alone = wrk(url + page, args.seconds)
        before = rss_mib(worker)
        streams = Streams(port, args.streams)
        streams.start()
        streams.ready.wait(300)
        time.sleep(2)  # let the worker settle after the burst
        per_stream = (rss_mib(worker) - before) * 1024 / max(streams.opened, 1)
        probes: list[float] = []
        probing = threading.Event()

        def probe() -> None:
            while not probing.is_set():
                start = time.perf_counter()
                try:
                    ok = requests.get(url + "/healthz", timeout=10).status_code == 200
                except requests.RequestException:
                    ok = False  # not answered within 10 s: a failed probe
                probes.append(time.perf_counter() - start if ok else float("inf"))
                probing.wait(0.2)

        prober = threading.Thread(target=probe, daemon=True)
        prober.start()
        requests.post(f"{emulator.url}/_emulator/churn", params={"rate": args.rate, "first": 0}, timeout=10)
        time.sleep(1)
        streams.measuring = True
        beside = wrk(url + page, args.seconds)
        streams.measuring = False
        requests.post(f"{emulator.url}/_emulator/churn", params={"rate": 0}, timeout=10)
        probing.set()
        prober.join(35)
        streams.stop()
        delays = sorted(streams.delays)
        p50 = statistics.median(delays) if delays else float("nan")
        p99 = delays[min(len(delays) - 1, int(len(delays) * 0.99))] if delays else float("nan")
        return (f"| {choice} | {streams.opened:,} of {args.streams:,} | {per_stream:.0f} KiB | {len(delays):,} | "
                f"{p50 * 1000:.0f} ms | {p99 * 1000:.0f} ms | {_slowest(probes)} | {alone:,.0f} req/s | "
                f"{beside:,.0f} req/s, **{beside / alone:.0%}** |")  # fmt: skip
    finally:
        process.kill()  # streams may still be open: no graceful wait
        process.wait(timeout=30)
        emulator.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--vms", type=int, default=1000)
    parser.add_argument("--streams", type=int, default=1000)
    parser.add_argument("--rate", type=float, default=20.0)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--choices", default="threads,gevent")
    args = parser.parse_args()
    print(
        f"| server | streams open | memory per idle stream | updates timed | change to update p50 | p99 "
        f"| slowest /healthz | VM page GET alone | beside {args.streams:,} streams and {args.rate:.0f} changes/s |"
    )
    print("|---|---|---|---|---|---|---|---|---|", flush=True)
    for choice in args.choices.split(","):
        print(measure(choice, args), flush=True)


if __name__ == "__main__":
    main()
