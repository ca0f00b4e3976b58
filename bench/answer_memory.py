"""What remembering costs a worker, and what one change that concerns every remembered answer costs.

A gateway (`serve`, gevent, its own process) over the emulator's synthetic namespace of `--vms`
VMs answers `--answers` distinct `vms?limit=1&labelSelector=probe!=vN` pages: each searches the
whole namespace and is remembered. The worker's resident memory is read before and after, beside
the answer memory's budget. Then one label change to one VM concerns every one of those searches:
`/healthz` is asked in a loop meanwhile, and its slowest answer is what that change held the worker.

    .venv/bin/python bench/answer_memory.py [--vms 500] [--answers 2000] [--budget-mb 64]
"""

from __future__ import annotations

import argparse
import copy
import tempfile
import threading
import time
from pathlib import Path

import requests
from common import emulator, rss_mib, serve, worker_pid

from tests.support.synthetic import synthetic_cluster


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--vms", type=int, default=500)
    parser.add_argument("--answers", type=int, default=2000)
    parser.add_argument("--budget-mb", type=int, default=64)
    args = parser.parse_args()
    server = emulator(synthetic_cluster(args.vms))
    kubeconfig = server.kubeconfig(Path(tempfile.mkdtemp()) / "kubeconfig")
    process, url = serve(kubeconfig, "--answer-cache-mb", str(args.budget_mb), "--max-connections-per-address", "0")
    session = requests.Session()
    try:
        session.get(url + "/namespaces/bench/vms", params={"limit": "1"}, timeout=600)  # watch listed
        worker = worker_pid(process.pid)
        before = rss_mib(worker)
        for i in range(args.answers):
            session.get(url + "/namespaces/bench/vms", params={"limit": "1", "labelSelector": f"probe!=v{i}"},
                        timeout=60)  # fmt: skip
        after = rss_mib(worker)
        hits = sum(
            session.get(url + "/namespaces/bench/vms", params={"limit": "1", "labelSelector": f"probe!=v{i}"},
                        timeout=60).headers.get("X-Gateway-Cache") == "hit"
            for i in range(0, args.answers, max(1, args.answers // 100))
        )  # fmt: skip
        probes: list[float] = []
        done = threading.Event()

        def probe() -> None:
            with requests.Session() as own:
                while not done.is_set():
                    started = time.perf_counter()
                    own.get(url + "/healthz", timeout=60)
                    probes.append(time.perf_counter() - started)

        prober = threading.Thread(target=probe, daemon=True)
        prober.start()
        time.sleep(0.5)
        vms = next(r for r in server.cluster.resources if r.kind == "VirtualMachine")
        vm = copy.deepcopy(server.cluster.get(vms, "bench", "vm-00007"))
        assert vm is not None
        vm["metadata"].setdefault("labels", {})["probe"] = "changed"
        server.cluster.apply(vm)
        time.sleep(5)
        done.set()
        prober.join(timeout=60)
        print(f"| {args.answers} remembered selector pages over {args.vms} VMs, budget {args.budget_mb} MiB "
              f"| worker {before:.0f} -> {after:.0f} MiB (+{after - before:.0f}) | {hits}% of a sample still "
              f"remembered | one label change: slowest /healthz {max(probes) * 1000:.0f} ms "
              f"(of {len(probes)}) |")  # fmt: skip
    finally:
        process.terminate()
        process.wait(timeout=30)
        server.stop()


if __name__ == "__main__":
    main()
