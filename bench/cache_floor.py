"""The VM page from the watch cache, side by side with the floor (the same bytes from a bare Flask route).

In-process through Flask's test client (p50, p99), then through gunicorn on loopback with wrk
(requests per second), then a profile of where a request's time goes (pyinstrument).

    .venv/bin/python bench/cache_floor.py [--requests 2000] [--seconds 8]
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
from pathlib import Path

from common import ROOT, UI_PAGE, RemoteEmulator, gateway, gunicorn, milliseconds, summary, wrk
from floor import create_floor

PATH = "/namespaces/demo/vms/fedora"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--seconds", type=int, default=8)
    args = parser.parse_args()
    server = RemoteEmulator("--demo")
    kubeconfig = server.kubeconfig(Path(tempfile.mkdtemp()) / "kubeconfig")

    app = gateway(server)
    client = app.test_client()
    document = client.get(PATH, query_string={"follow": UI_PAGE}).get_json()
    floor = create_floor(document).test_client()
    size = len(client.get(PATH, query_string={"follow": UI_PAGE}).data)
    n = args.requests
    built = gateway(server, answer_cache_mb=0).test_client()  # every answer built: what a change costs
    gw50, gw99 = summary(milliseconds(lambda: client.get(PATH, query_string={"follow": UI_PAGE}), n))
    fl50, fl99 = summary(milliseconds(lambda: floor.get(PATH, query_string={"follow": UI_PAGE}), n))
    b50, _ = summary(milliseconds(lambda: built.get(PATH, query_string={"follow": UI_PAGE}), n))
    print(f"| VM page ({size:,} bytes), {n} requests | gateway, watch cache | floor | ratio |")
    print("|---|---|---|---|")
    print(f"| in-process p50 | {gw50:.3f} ms | {fl50:.3f} ms | **{gw50 / fl50:.2f}x** |")
    print(f"| in-process p99 | {gw99:.3f} ms | {fl99:.3f} ms | **{gw99 / fl99:.2f}x** |")
    print(f"| in-process p50, built every time (`--answer-cache-mb 0`) | {b50:.3f} ms | {fl50:.3f} ms "
          f"| **{b50 / fl50:.2f}x** |", flush=True)  # fmt: skip

    if shutil.which("wrk"):
        floor_doc = Path(tempfile.mkdtemp()) / "doc.json"
        floor_doc.write_bytes(client.get(PATH, query_string={"follow": UI_PAGE}).data)
        gw_env = {"KUBEVIRT_GATEWAY_KUBE": "true", "KUBEVIRT_GATEWAY_KUBECONFIG": kubeconfig,
                  "KUBEVIRT_GATEWAY_AUTH": "none"}  # fmt: skip
        probe = f"{PATH}?follow={UI_PAGE}"
        gw_process, gw_url = gunicorn("wsgi:app", gw_env, ROOT, probe)
        floor_process, floor_url = gunicorn("floor:app", {"KUBEVIRT_GATEWAY_FLOOR_DOC": str(floor_doc)}, ROOT / "bench",
                                            probe)  # fmt: skip
        try:
            wrk(gw_url + probe, 2), wrk(floor_url + probe, 2)  # warm both
            gw_rps, floor_rps = wrk(gw_url + probe, args.seconds), wrk(floor_url + probe, args.seconds)
        finally:
            gw_process.terminate(), floor_process.terminate()
        print(f"| gunicorn + wrk (2 threads, 8 connections, {args.seconds} s) | {gw_rps:,.0f} req/s | "
              f"{floor_rps:,.0f} req/s | **{gw_rps / floor_rps:.0%} of the floor** |", flush=True)  # fmt: skip
    else:
        print("| gunicorn + wrk | wrk is not installed (apt-get install wrk) | | |")

    try:
        from pyinstrument import Profiler
    except ImportError:
        print("\n(pyinstrument not installed: no profile)")
    else:
        profiler = Profiler(interval=0.0001)
        profiler.start()
        for _ in range(500):
            client.get(PATH, query_string={"follow": UI_PAGE})
        profiler.stop()
        print("\n```")
        print(profiler.output_text(unicode=False, color=False, show_all=False)[:6000])
        print("```")
    server.stop()


if __name__ == "__main__":
    main()
