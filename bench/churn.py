"""Pages of many different VMs while other VMs' VMIs and pods change, side by side with the floor.

The emulator (its own process) serves `--vms` synthetic VMs; the gateway (watch cache, remembered
answers) answers the pages of the first `--pages` VMs in turn, in-process through Flask's test
client; the floor serves the same bytes for the same paths from a dict. Then the emulator changes
the status of the VMIs and launcher pods of the other VMs at `--rate` a second, and both run
again. The gateway's remembered answers are dropped only by changes to what they read, so the
churn elsewhere should cost it little; the figures are requests per second of each, and their
ratio, with the cache hits counted.

Then the same through gunicorn (the project's gunicorn.conf.py) with wrk over the same pages
(bench/pages.lua), beside the floor under the same gunicorn settings.

    .venv/bin/python bench/churn.py [--vms 200] [--pages 100] [--rate 20] [--seconds 5]
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import requests
from common import ROOT, UI_PAGE, RemoteEmulator, gateway_config, gunicorn, wrk
from flask import Flask, Response, request

from gateway.app import create_app


def floor_of(bodies: dict[str, bytes]) -> Any:
    """The floor: the same bytes for the same paths, from a dict, with nothing else done."""
    app = Flask("floor")

    @app.get("/namespaces/<namespace>/vms/<name>")
    def page(namespace: str, name: str) -> Response:
        return Response(bodies[request.path], mimetype="application/json")

    return app.test_client()


def rate_of(client: Any, paths: list[str], seconds: float) -> tuple[float, int, int]:
    """Requests per second over `paths` in turn for `seconds`; with the count, and the cache hits."""
    done = hits = 0
    deadline = time.perf_counter() + seconds
    start = time.perf_counter()
    while time.perf_counter() < deadline:
        response = client.get(paths[done % len(paths)], query_string={"follow": UI_PAGE})
        hits += response.headers.get("X-Gateway-Cache") == "hit"
        done += 1
    return done / (time.perf_counter() - start), done, hits


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--vms", type=int, default=200)
    parser.add_argument("--pages", type=int, default=100)
    parser.add_argument("--rate", type=float, default=20.0)
    parser.add_argument("--seconds", type=float, default=5.0)
    args = parser.parse_args()
    server = RemoteEmulator("--synthetic", str(args.vms))
    paths = [f"/namespaces/bench/vms/vm-{i:05d}" for i in range(args.pages)]
    config = gateway_config(server)
    precise = create_app(config).test_client()
    bodies = {p: precise.get(p, query_string={"follow": UI_PAGE}).data for p in paths}
    floor = floor_of(bodies)
    # the same gateway with every request through Flask (no fast path): what issue 24's fast path saves
    through_flask = create_app(replace(config, extra={**config.extra, "GATEWAY_FAST_PATH": False})).test_client()
    for p in paths:  # every page built once, so the runs below measure answering
        precise.get(p, query_string={"follow": UI_PAGE})
        through_flask.get(p, query_string={"follow": UI_PAGE})
    print(f"| {args.pages} different VM pages of {args.vms} VMs, in turn, {args.seconds:.0f} s each | floor "
          "| gateway: answers dropped by their own changes | the same through Flask (no fast path) |")  # fmt: skip
    print("|---|---|---|---|")
    for label, rate in (("cluster still", 0.0), (f"{args.rate:.0f} status changes/s to other VMs", args.rate)):
        requests.post(f"{server.url}/_emulator/churn", params={"rate": rate, "first": args.pages}, timeout=10)
        before = requests.get(f"{server.url}/_emulator/changes", timeout=10).json()["changes"]
        fl_rps, _, _ = rate_of(floor, paths, args.seconds)
        rps, done, hits = rate_of(precise, paths, args.seconds)
        cell = f"{rps:,.0f} req/s, **{rps / fl_rps:.0%}** of the floor, {hits / done:.0%} from memory"
        slow, _, _ = rate_of(through_flask, paths, args.seconds)
        cell += f" | {slow:,.0f} req/s, {slow / fl_rps:.0%} of the floor"
        changes = requests.get(f"{server.url}/_emulator/changes", timeout=10).json()["changes"] - before
        print(f"| {label} ({changes} changes in the run) | {fl_rps:,.0f} req/s | {cell} |", flush=True)
    requests.post(f"{server.url}/_emulator/churn", params={"rate": 0}, timeout=10)
    if shutil.which("wrk"):
        under_gunicorn(server, paths, {p: precise.get(p, query_string={"follow": UI_PAGE}).get_json() for p in paths},
                       args)  # fmt: skip
    else:
        print("\n(wrk is not installed: apt-get install wrk; no gunicorn figures)")
    server.stop()


def under_gunicorn(server: RemoteEmulator, paths: list[str], pages: dict[str, Any], args: Any) -> None:
    """The same scenarios through gunicorn and wrk: the gateway's worker against the floor's."""
    kubeconfig = server.kubeconfig(Path(tempfile.mkdtemp()) / "kubeconfig")
    urls = [f"{p}?follow={UI_PAGE}" for p in paths]
    pages_file = Path(tempfile.mkdtemp()) / "pages.json"
    pages_file.write_text(json.dumps(pages))
    gw, gw_url = gunicorn("wsgi:app", {"KUBEVIRT_GATEWAY_KUBE": "true", "KUBEVIRT_GATEWAY_KUBECONFIG": kubeconfig,
                                       "KUBEVIRT_GATEWAY_AUTH": "none"}, ROOT, urls[0])  # fmt: skip
    fl, fl_url = gunicorn("floor:app", {"KUBEVIRT_GATEWAY_FLOOR_PAGES": str(pages_file)}, ROOT / "bench", paths[0])
    try:
        wrk(gw_url, 2, urls), wrk(fl_url, 2, paths)  # every page built once, both warm
        print(f"\n| gunicorn + wrk over the same {len(paths)} pages, {args.seconds:.0f} s each | floor | gateway "
              "| ratio |\n|---|---|---|---|")  # fmt: skip
        for label, rate in (("cluster still", 0.0), (f"{args.rate:.0f} status changes/s to other VMs", args.rate)):
            requests.post(f"{server.url}/_emulator/churn", params={"rate": rate, "first": len(paths)}, timeout=10)
            seconds = max(1, round(args.seconds))
            fl_rps, gw_rps = wrk(fl_url, seconds, paths), wrk(gw_url, seconds, urls)
            print(f"| {label} | {fl_rps:,.0f} req/s | {gw_rps:,.0f} req/s | **{gw_rps / fl_rps:.0%}** of the floor |",
                  flush=True)  # fmt: skip
        requests.post(f"{server.url}/_emulator/churn", params={"rate": 0}, timeout=10)
    finally:
        gw.terminate(), fl.terminate()


if __name__ == "__main__":
    main()
