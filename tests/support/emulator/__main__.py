"""Run the emulator as its own process (benchmarks: an API server that does not share the GIL).

    python -m tests.support.emulator --port 6443 (--demo | --synthetic N) [--latency SECONDS]

`GET /_emulator/requests` counts the requests served (and the lists among them);
`POST /_emulator/reset` clears that count; `POST /_emulator/latency?seconds=S` sets the delay.
"""

from __future__ import annotations

import argparse
import copy
import datetime
import signal
import sys
import threading

from flask import jsonify, request

from gateway.catalog import CATALOG
from gateway.store.snapshot import demo_objects
from tests.support.emulator.cluster import Cluster
from tests.support.emulator.server import EmulatorServer, Settings
from tests.support.synthetic import synthetic_cluster


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.support.emulator", description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--demo", action="store_true")
    source.add_argument("--synthetic", type=int, metavar="VMS")
    parser.add_argument("--namespace", default="bench")
    parser.add_argument("--latency", type=float, default=0.0)
    args = parser.parse_args()
    cluster = Cluster()
    if args.demo:
        cluster.load(obj for _, obj in demo_objects(CATALOG))
    else:
        cluster.load(synthetic_cluster(args.synthetic, args.namespace))
    cluster.faults.latency = args.latency
    server = EmulatorServer(cluster, port=args.port, settings=Settings(bookmark_interval=5.0, max_watch_seconds=300))

    @server.app.get("/_emulator/requests")
    def requests_served():  # type: ignore[no-untyped-def]
        entries = [e for e in cluster.requests.entries if not e[1].startswith("/_emulator")]
        return jsonify(count=len(entries), lists=sum(1 for _, _, q in entries if "limit" in q))

    @server.app.post("/_emulator/reset")
    def reset():  # type: ignore[no-untyped-def]
        cluster.requests.clear()
        return jsonify(ok=True)

    @server.app.post("/_emulator/latency")
    def latency():  # type: ignore[no-untyped-def]
        cluster.faults.latency = float(request.args.get("seconds", "0"))
        return jsonify(latency=cluster.faults.latency)

    churning = threading.Event()

    @server.app.post("/_emulator/churn")
    def churn():  # type: ignore[no-untyped-def]
        """Status changes at `rate` a second to the VMIs and launcher pods of the running synthetic VMs from
        index `first` on (the VMs a benchmark does not read), as virt-handler and the kubelet write them."""
        rate, first = float(request.args.get("rate", "20")), int(request.args.get("first", "0"))
        churning.clear()
        if rate > 0:
            threading.Thread(target=_churn, args=(cluster, args, rate, first, churning), daemon=True).start()
        return jsonify(rate=rate, first=first)

    @server.app.get("/_emulator/changes")
    def changes():  # type: ignore[no-untyped-def]
        return jsonify(changes=cluster.rv)

    server.start()
    print(f"emulator serving {sum(1 for _ in cluster.dump())} objects on {server.url}", flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    stop.wait()
    server.stop()
    sys.exit(0)


def _churn(cluster: Cluster, args: argparse.Namespace, rate: float, first: int, stop: threading.Event) -> None:
    vmis = cluster.resource_of({"apiVersion": "kubevirt.io/v1", "kind": "VirtualMachineInstance"})
    pods = cluster.resource_of({"apiVersion": "v1", "kind": "Pod"})
    running = [i for i in range(first, args.synthetic or 0) if i % 2 == 0]
    step = 0
    while running and not stop.wait(1 / rate):
        i = running[step % len(running)]
        resource, name = (vmis, f"vm-{i:05d}") if step % 2 == 0 else (pods, f"virt-launcher-vm-{i:05d}-abcde")
        obj = cluster.get(resource, args.namespace, name)
        if obj is not None:
            changed = copy.deepcopy(obj)
            # when it changed, as metav1.Time writes it (RFC 3339, here with microseconds): benchmarks
            # of live streams read it back to time each update
            now = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
            changed.setdefault("status", {})["conditions"] = [{"type": "Ready", "status": "True",
                                                              "lastProbeTime": now}]  # fmt: skip
            cluster.apply(changed)
        step += 1


if __name__ == "__main__":
    main()
