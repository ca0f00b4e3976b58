"""N+1: a collection with its dependencies, in direct mode (every read an API call).

Optimized (batch) handlers against the generic follower, on the same gateway code and the
same emulated cluster: API calls made, wall time, and the identical document. Two cases: the
VMs with what they use, and the PVCs with the VMs that use them (a reverse link).

    .venv/bin/python bench/n_plus_one.py [--vms 500] [--repeat 3]
"""

from __future__ import annotations

import argparse
from typing import Any

import requests
from common import RemoteEmulator, gateway, milliseconds, serving, summary

FOLLOW = "volumes.pvc.pv,vmi.pod,instancetype.revision"
CASES = (
    ("VMs", "/namespaces/bench/vms", FOLLOW),
    ("PVCs", "/namespaces/bench/pvcs", "vms"),  # reverse: the VMs that name each PVC
)


def measure(server: RemoteEmulator, path: str, follow: str, repeat: int) -> dict[bool, tuple[int, int, float, bytes]]:
    """(API calls, lists, p50 ms, document) with the batch handlers and with the generic follower."""
    params = {"follow": follow}
    results = {}
    for optimize in (True, False):
        with serving(gateway(server, cache="none", optimize=optimize)) as gw:
            session = requests.Session()
            session.get(gw.url + "/readyz")  # discovery, once
            server.reset()
            body = session.get(gw.url + path, params=params).content
            counted = server.requests()
            url = gw.url + path
            p50, _ = summary(milliseconds(lambda s=session, u=url: s.get(u, params=params), repeat))
            results[optimize] = (counted["count"], counted["lists"], p50, body)
    return results


def table(args: Any, what: str, follow: str, results: dict[bool, tuple[int, int, float, bytes]]) -> None:
    (fast_calls, fast_lists, fast_ms, fast_body), (slow_calls, slow_lists, slow_ms, slow_body) = (
        results[True], results[False],
    )  # fmt: skip
    assert fast_body == slow_body, "optimized and generic documents differ"
    print(f"| {args.vms} {what} `?follow={follow}`, --cache none, API latency {args.latency * 1000:.0f} ms "
          "| optimized | generic | ratio |")  # fmt: skip
    print("|---|---|---|---|")
    print(f"| API calls | {fast_calls} ({fast_lists} lists) | {slow_calls} ({slow_lists} lists) "
          f"| **{slow_calls / fast_calls:.0f}x fewer** |")  # fmt: skip
    print(
        f"| time (p50 of {args.repeat}) | {fast_ms:.0f} ms | {slow_ms:.0f} ms | **{slow_ms / fast_ms:.1f}x faster** |"
    )
    print(f"| identical document | {len(fast_body):,} bytes | {len(slow_body):,} bytes | yes |")
    print()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--vms", type=int, default=500)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--latency", type=float, default=0.0, help="seconds the API server adds to each call")
    args = parser.parse_args()
    server = RemoteEmulator("--synthetic", str(args.vms), "--latency", str(args.latency))
    for what, path, follow in CASES:
        table(args, what, follow, measure(server, path, follow, args.repeat))
    server.stop()


if __name__ == "__main__":
    main()
