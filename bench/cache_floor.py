"""The VM page from the watch cache, side by side with the floor (the same bytes from a bare Flask route).

In-process through Flask's test client (p50, p99; the five measured in turn, 20 rounds), then
through gunicorn on loopback with wrk (requests per second), then a profile of where a page built
every time spends its time (pyinstrument, or cProfile without it).

    .venv/bin/python bench/cache_floor.py [--requests 2000] [--seconds 8]
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
from pathlib import Path

import orjson
from common import ROOT, UI_PAGE, RemoteEmulator, gateway, gunicorn, milliseconds, summary, wrk
from floor import create_floor

from gateway.changes.reads import ReadRecorder

PATH = "/namespaces/demo/vms/fedora"
ROUNDS = 20


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
    built_app = gateway(server, answer_cache_mb=0)
    built = built_app.test_client()  # every answer built: what a change costs
    # the same page from the documents service alone (engine, rendering, encoding; no HTTP): the part of
    # a built page that is not Flask's, so (floor + this) / floor bounds what trimming HTTP could reach
    state = built_app.extensions["gateway"]
    vm = state.documents.catalog.kind("VirtualMachine")
    flask_only = gateway(server, extra={"GATEWAY_FAST_PATH": False}).test_client()  # remembered, no fast path
    flask_only.get(PATH, query_string={"follow": UI_PAGE})
    measured = {
        "gateway": lambda: client.get(PATH, query_string={"follow": UI_PAGE}),
        "flask": lambda: flask_only.get(PATH, query_string={"follow": UI_PAGE}),
        "floor": lambda: floor.get(PATH, query_string={"follow": UI_PAGE}),
        "built": lambda: built.get(PATH, query_string={"follow": UI_PAGE}),
        "service": lambda: orjson.dumps(state.documents.object(
            ReadRecorder(state.store, state.feed), vm, "demo", "fedora", UI_PAGE)),
    }  # fmt: skip
    # interleaved, a twentieth of the requests of each in turn: on a shared machine a burst of other
    # work then falls on all five alike, not on whichever ran during it
    times: dict[str, list[float]] = {name: [] for name in measured}
    for _ in range(ROUNDS):
        for name, request in measured.items():
            times[name] += milliseconds(request, max(1, n // ROUNDS))
    (gw50, gw99), (fl50, fl99) = summary(times["gateway"]), summary(times["floor"])
    b50, s50, f50 = summary(times["built"])[0], summary(times["service"])[0], summary(times["flask"])[0]
    print(f"| VM page ({size:,} bytes), {n} requests | gateway, watch cache | floor | ratio |")
    print("|---|---|---|---|")
    print(f"| in-process p50 | {gw50:.3f} ms | {fl50:.3f} ms | **{gw50 / fl50:.2f}x** |")
    print(f"| in-process p99 | {gw99:.3f} ms | {fl99:.3f} ms | **{gw99 / fl99:.2f}x** |")
    print(f"| in-process p50, remembered but through Flask (no fast path) | {f50:.3f} ms | {fl50:.3f} ms "
          f"| {f50 / fl50:.2f}x |")  # fmt: skip
    print(f"| in-process p50, built every time (`--answer-cache-mb 0`) | {b50:.3f} ms | {fl50:.3f} ms "
          f"| **{b50 / fl50:.2f}x** |")  # fmt: skip
    print(f"| documents service alone, built every time (no HTTP) | {s50:.3f} ms | {fl50:.3f} ms | {s50 / fl50:.2f}x; "
          f"floor + it: **{(fl50 + s50) / fl50:.2f}x** |", flush=True)  # fmt: skip

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

    # where a page built every time spends its time: what is left for issue 24's goal 2
    try:
        from pyinstrument import Profiler
    except ImportError:
        import cProfile
        import pstats

        profile = cProfile.Profile()
        profile.runcall(lambda: [built.get(PATH, query_string={"follow": UI_PAGE}) for _ in range(500)])
        print("\n(pyinstrument not installed: cProfile, 500 built requests)\n```")
        pstats.Stats(profile).sort_stats("cumulative").print_stats(40)
        print("```")
    else:
        profiler = Profiler(interval=0.0001)
        profiler.start()
        for _ in range(500):
            built.get(PATH, query_string={"follow": UI_PAGE})
        profiler.stop()
        print("\n```")
        print(profiler.output_text(unicode=False, color=False, show_all=False)[:6000])
        print("```")
    server.stop()


if __name__ == "__main__":
    main()
