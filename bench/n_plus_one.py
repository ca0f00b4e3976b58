"""N+1: a collection of VMs with their dependencies, in direct mode (every read an API call).

Optimized (batch) handlers against the generic follower, on the same gateway code and the
same emulated cluster: API calls made, wall time, and the identical document.

    .venv/bin/python bench/n_plus_one.py [--vms 500] [--repeat 3]
"""

from __future__ import annotations

import argparse

import requests
from common import RemoteEmulator, gateway, milliseconds, serving, summary

FOLLOW = "volumes.pvc.pv,vmi.pod,instancetype.revision"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--vms", type=int, default=500)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--latency", type=float, default=0.0, help="seconds the API server adds to each call")
    args = parser.parse_args()
    server = RemoteEmulator("--synthetic", str(args.vms), "--latency", str(args.latency))
    path, params = "/namespaces/bench/vms", {"follow": FOLLOW}
    results = {}
    for optimize in (True, False):
        with serving(gateway(server, cache="none", optimize=optimize)) as gw:
            session = requests.Session()
            session.get(gw.url + "/readyz")  # discovery, once
            server.reset()
            body = session.get(gw.url + path, params=params).content
            counted = server.requests()
            url = gw.url + path
            p50, _ = summary(milliseconds(lambda s=session, u=url: s.get(u, params=params), args.repeat))
            results[optimize] = (counted["count"], counted["lists"], p50, body)
    (fast_calls, fast_lists, fast_ms, fast_body), (slow_calls, slow_lists, slow_ms, slow_body) = (
        results[True], results[False],
    )  # fmt: skip
    assert fast_body == slow_body, "optimized and generic documents differ"
    print(f"| {args.vms} VMs `?follow={FOLLOW}`, --cache none, API latency {args.latency * 1000:.0f} ms "
          "| optimized | generic | ratio |")  # fmt: skip
    print("|---|---|---|---|")
    print(f"| API calls | {fast_calls} ({fast_lists} lists) | {slow_calls} ({slow_lists} lists) "
          f"| **{slow_calls / fast_calls:.0f}x fewer** |")  # fmt: skip
    print(
        f"| time (p50 of {args.repeat}) | {fast_ms:.0f} ms | {slow_ms:.0f} ms | **{slow_ms / fast_ms:.1f}x faster** |"
    )
    print(f"| identical document | {len(fast_body):,} bytes | {len(slow_body):,} bytes | yes |")
    server.stop()


if __name__ == "__main__":
    main()
