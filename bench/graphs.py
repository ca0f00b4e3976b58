"""The application graph of a whole namespace, kept in pieces: built once, recalled, and under churn.

Side by side in one run, over one emulator serving a synthetic cluster: a gateway that builds the
graph every time (`--answer-cache-mb 0`) and one with the default memory, which keeps one piece per
workload with what it read (`gateway/api/pieces.py`). Under churn (status changes to VMIs, pods and
PVCs of any VM, through the emulator), each request rebuilds only the pieces of the VMs that
changed; the store-reads header counts the reads it made.

    .venv/bin/python bench/graphs.py [--sizes 1000,10000] [--rate 20] [--seconds 20]   (in `make bench`)
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import requests
from common import RemoteEmulator, serve


def graph(session: requests.Session, url: str) -> tuple[float, int, int]:
    """Seconds, resources and store reads of one request for the namespace's graph."""
    start = time.perf_counter()
    answer = session.get(url + "/namespaces/bench/graph", timeout=600)
    seconds = time.perf_counter() - start
    assert answer.status_code == 200, answer.text[:300]
    return seconds, len(answer.json()["resources"]), int(answer.headers["X-Gateway-Store-Reads"])


def measure(vms: int, rate: float, seconds: float) -> list[str]:
    emulator = RemoteEmulator("--synthetic", str(vms))
    kubeconfig = emulator.kubeconfig(Path(tempfile.mkdtemp()) / "kubeconfig")
    every_time, every_url = serve(kubeconfig, "--answer-cache-mb", "0", probe="/readyz")
    kept, kept_url = serve(kubeconfig, probe="/readyz")
    session = requests.Session()
    rows = []
    try:
        warm_up = ("/namespaces/bench/vms/vm-00000/objectgraph", "/namespaces/bench/vms/vm-00000?follow=services")
        for url in (every_url, kept_url):  # each kind the graph reads listed and watched, before any timing
            for path in warm_up:
                assert session.get(url + path, timeout=600).status_code == 200
        built, resources, built_reads = graph(session, every_url)
        rows.append(f"| {vms:,} | built every time | {built:.2f} s | {built_reads:,} | {resources:,} |")
        first, _, first_reads = graph(session, kept_url)
        rows.append(f"| {vms:,} | kept in pieces: first request | {first:.2f} s | {first_reads:,} | {resources:,} |")
        recalled = [graph(session, kept_url) for _ in range(5)]
        median = statistics.median(s for s, _, _ in recalled)
        rows.append(f"| {vms:,} | kept in pieces: cluster still (median of 5) | **{median:.2f} s** "
                    f"| {recalled[-1][2]:,} | {resources:,} |")  # fmt: skip
        requests.post(f"{emulator.url}/_emulator/churn", params={"rate": rate, "first": 0}, timeout=10)
        before = requests.get(f"{emulator.url}/_emulator/changes", timeout=10).json()["changes"]
        churned = []
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            churned.append(graph(session, kept_url))
        changes = requests.get(f"{emulator.url}/_emulator/changes", timeout=10).json()["changes"] - before
        requests.post(f"{emulator.url}/_emulator/churn", params={"rate": 0}, timeout=10)
        times = sorted(s for s, _, _ in churned)
        reads = statistics.median(r for _, _, r in churned)
        rows.append(f"| {vms:,} | kept in pieces: {rate:.0f} status changes/s ({changes} in {seconds:.0f} s, "
                    f"{len(churned)} requests) | **{statistics.median(times):.2f} s** median, {times[-1]:.2f} s max "
                    f"| {reads:,.0f} (median) | {resources:,} |")  # fmt: skip
        ratio = built / statistics.median(times)
        rows.append(f"| {vms:,} | ratio, built every time / kept under churn | **{ratio:.1f}x** | | |")
        return rows
    finally:
        for process in (every_time, kept):
            process.terminate()
            process.wait(timeout=30)
        emulator.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="1000,10000")
    parser.add_argument("--rate", type=float, default=20.0)
    parser.add_argument("--seconds", type=float, default=20.0)
    args = parser.parse_args()
    print("| VMs | application graph of the namespace | time | store reads | resources |")
    print("|---|---|---|---|---|", flush=True)
    for size in (int(s) for s in args.sizes.split(",")):
        for row in measure(size, args.rate, args.seconds):
            print(row, flush=True)


if __name__ == "__main__":
    main()
