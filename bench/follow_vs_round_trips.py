"""Side-by-side measurements of the follow engine, printed as ratios (never asserted as times).

1. One follow call for a VM page against the per-object calls a client makes without follow,
   both over HTTP to the same gateway on loopback.
2. Optimized (batch) handlers against generic followers on a collection of VMs:
   store reads and wall time for the identical document.

    .venv/bin/python bench/follow_vs_round_trips.py [--vms 500] [--repeat 5]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from gateway.app import create_app
from gateway.catalog import CATALOG
from gateway.config import Config
from gateway.store.snapshot import SnapshotStore
from tests.support.gateway import serving
from tests.support.synthetic import synthetic_cluster

PAGE = (
    "vmi.pod.node,volumes.pvc.pv,volumes.datavolume,instancetype.revision,preference.revision,"
    "networks.nad,accesscredentials,services"
)
COLLECTION = "volumes.pvc.pv,vmi.pod,instancetype.revision"
READS = "X-Gateway-Store-Reads"


def timed(fn: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    """Median wall time of `repeat` calls, in milliseconds, and the last result."""
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times), result


def hrefs(doc: Any) -> list[str]:
    """Every embedded entity's href: what a client without follow would GET one by one."""
    found: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for rel in node.get("links", {}):
                value = node.get(rel)
                for item in value if isinstance(value, list) else [value] if value else []:
                    if isinstance(item, dict) and "href" in item and not item.get("missing"):
                        found.append(item["href"])
                        walk(item)

    walk(doc)
    return found


def round_trips(repeat: int) -> list[str]:
    rows = []
    with serving(create_app(Config(demo=True, answer_cache_mb=0))) as gw:
        url = gw.url + "/namespaces/demo/vms/fedora"
        session = requests.Session()
        one_ms, doc = timed(lambda: session.get(url, params={"follow": PAGE}).json(), repeat)
        targets = hrefs(doc)

        def many() -> None:
            session.get(url).json()
            for href in targets:
                session.get(gw.url + href).json()

        many_ms, _ = timed(many, repeat)
        rows.append(
            f"| VM page, demo `fedora` | 1 call: {one_ms:.2f} ms "
            f"| {1 + len(targets)} calls: {many_ms:.2f} ms | **{many_ms / one_ms:.1f}x** |"
        )
    return rows


def batching(vms: int, repeat: int) -> list[str]:
    store = SnapshotStore.from_objects(CATALOG, synthetic_cluster(vms, "bench"), "synthetic")
    rows = []
    with (
        serving(create_app(Config(answer_cache_mb=0), store=store)) as fast,
        serving(create_app(Config(optimize=False, answer_cache_mb=0), store=store)) as slow,
    ):
        path = "/namespaces/bench/vms"
        session = requests.Session()
        fast_ms, fast_r = timed(lambda: session.get(fast.url + path, params={"follow": COLLECTION}), repeat)
        slow_ms, slow_r = timed(lambda: session.get(slow.url + path, params={"follow": COLLECTION}), repeat)
        assert fast_r.content == slow_r.content, "optimized and generic documents differ"
        fr, sr = int(fast_r.headers[READS]), int(slow_r.headers[READS])
        rows.append(
            f"| {vms} VMs `?follow={COLLECTION}` | optimized: {fr} reads, {fast_ms:.0f} ms "
            f"| generic: {sr} reads, {slow_ms:.0f} ms "
            f"| **{sr / fr:.0f}x fewer reads, {slow_ms / fast_ms:.1f}x faster** |"
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--vms", type=int, default=500)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    print("| measurement | follow / optimized | without | ratio |")
    print("|---|---|---|---|")
    for row in round_trips(args.repeat) + batching(args.vms, args.repeat):
        print(row, flush=True)


if __name__ == "__main__":
    main()
