"""The watch cache as the cluster grows: memory per object, sync time, page latency, namespace graph time.

Emulator and gateway each run in their own process (the gateway as `kubevirt-gateway serve`
under gunicorn), so the gateway's memory is its own. Answers are built every time
(`--answer-cache-mb 0`): the latency is the engine's over the cache, not a memo's.

    .venv/bin/python bench/scale.py [--sizes 100,1000,10000] [--repeat 200]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import requests
from common import (
    UI_PAGE,
    RemoteEmulator,
    cached_objects,
    first_answer,
    milliseconds,
    rss_mib,
    serve,
    summary,
    worker_pid,
)


def measure(vms: int, repeat: int) -> str:
    emulator = RemoteEmulator("--synthetic", str(vms))
    kubeconfig = emulator.kubeconfig(Path(tempfile.mkdtemp()) / "kubeconfig")
    gateway, url = serve(kubeconfig, "--answer-cache-mb", "0")
    session = requests.Session()
    try:
        worker = worker_pid(gateway.pid)
        before = rss_mib(worker)
        sync_s = first_answer(session, url)
        cached = sum(cached_objects(session, url).values())
        after = rss_mib(worker)
        page = url + "/namespaces/bench/vms/vm-00000"
        p50, p99 = summary(milliseconds(lambda: session.get(page, params={"follow": UI_PAGE}), repeat))
        start = time.perf_counter()
        graph = session.get(url + "/namespaces/bench/graph", timeout=600)
        graph_s = time.perf_counter() - start
        assert graph.status_code == 200
        objectgraphs = "-"
        if vms >= 800:  # issue 13, goal 3: the object graphs of a collection of 800 VMs
            start = time.perf_counter()
            collection = session.get(url + "/namespaces/bench/vms", params={"follow": "objectgraph", "limit": 800},
                                     timeout=600)  # fmt: skip
            assert collection.status_code == 200 and len(collection.json()["items"]) == 800
            objectgraphs = f"{time.perf_counter() - start:.2f} s"
        per_object = (after - before) * 1024 / cached if cached else 0.0
        return (f"| {vms:,} | {int(cached):,} | {per_object:.1f} KiB | {sync_s:.2f} s | {p50:.2f} ms | {p99:.2f} ms "
                f"| {graph_s:.2f} s ({len(graph.json()['resources']):,} resources) | {objectgraphs} |")  # fmt: skip
    finally:
        gateway.terminate()
        gateway.wait(timeout=30)
        emulator.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="100,1000,10000")
    parser.add_argument("--repeat", type=int, default=200)
    args = parser.parse_args()
    print(
        "| VMs | objects cached | memory per object | sync (first answer) | VM page p50 | VM page p99 "
        "| application graph of the namespace | 800 VMs with `follow=objectgraph` |"
    )
    print("|---|---|---|---|---|---|---|---|", flush=True)
    for size in (int(s) for s in args.sizes.split(",")):
        print(measure(size, args.repeat), flush=True)


if __name__ == "__main__":
    main()
