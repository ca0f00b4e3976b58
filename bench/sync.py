"""A live cluster's sync, against the real kube-apiserver: the gateway's watch cache beside the official client.

`make apiserver`'s kube-apiserver v1.37.2 with etcd v3.7.3 (tests/support/apiserver.py) is loaded
through its API with the synthetic cluster (per VM a VM, DataVolume, PVC, PV, Secret and two
ControllerRevisions; every other VM running, with its VMI and launcher pod: 60,006 objects at
10,000 VMs), created in parallel. Then, side by side in one run, in turns:

- the official `kubernetes` client lists every kind the gateway came to cache, all namespaces, page
  by page with the gateway's page size (500): `CoreV1Api.list_<kind>_for_all_namespaces` (typed models,
  as a script with the client reads) for the core kinds, `CustomObjectsApi.list_cluster_custom_object`
  (plain dicts) for the rest;
- `kubevirt-gateway serve --kube` in its own process starts cold, and the time to its first answer
  of `GET /namespaces/bench/vms?follow=<the UI page>&limit=1` is taken (every kind the page reads
  listed: its sync), then until `/readyz` says every started watch listed; its worker's resident
  memory before and after, over the objects it caches, is the memory per cached object.

    .venv/bin/python bench/sync.py [--vms 10000] [--rounds 3] [--workers 8] [--profile]
"""

from __future__ import annotations

import argparse
import copy
import re
import statistics
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import requests
from common import UI_PAGE, cached_objects, first_answer, rss_mib, serve, worker_pid
from kubernetes import client, config

from gateway.catalog import CATALOG
from tests.support.apiserver import SERVER_FIELDS, Kube, KubeApiServer
from tests.support.synthetic import synthetic_cluster

PAGE = 500  # the gateway's list page size (WatchCache.page_size), and kubectl's


def load(server: KubeApiServer, objects: list[dict[str, Any]], workers: int) -> None:
    """`Kube.load`, in parallel: owners first (wave by wave), every uid the objects name the server's
    own, then each status through its subresource."""
    local = threading.local()

    def kube() -> Kube:
        if not hasattr(local, "kube"):
            local.kube = server.client()
        api: Kube = local.kube
        return api

    uids: dict[str, str] = {}

    def create(obj: dict[str, Any]) -> None:
        meta = obj["metadata"]
        body = {k: v for k, v in obj.items() if k != "status"}
        body["metadata"] = {k: v for k, v in meta.items() if k not in SERVER_FIELDS}
        if meta.get("ownerReferences"):
            body["metadata"]["ownerReferences"] = [{**ref, "uid": uids[ref["uid"]]} for ref in meta["ownerReferences"]]
        if meta.get("labels"):
            body["metadata"]["labels"] = {k: uids.get(v, v) for k, v in meta["labels"].items()}
        made = kube().create(body)
        if meta.get("uid"):
            uids[meta["uid"]] = made["metadata"]["uid"]

    def status(obj: dict[str, Any]) -> None:
        kube().patch(obj, {"status": obj["status"]}, "/status")

    pending = [copy.deepcopy(o) for o in objects]
    owners = {o["metadata"]["uid"] for o in pending if o["metadata"].get("uid")}
    with ThreadPoolExecutor(workers) as pool:
        while pending:
            ready = [o for o in pending if all(r["uid"] in uids or r["uid"] not in owners
                                               for r in o["metadata"].get("ownerReferences") or [])]  # fmt: skip
            assert ready, "owner references in a cycle"
            list(pool.map(create, ready))
            done = {id(o) for o in ready}
            pending = [o for o in pending if id(o) not in done]
        list(pool.map(status, [o for o in objects if o.get("status")]))


def official_listing(kubeconfig: str, kinds: list[str]) -> tuple[float, int]:
    """Seconds to list every object of these kinds with the official client, page by page, and how many."""
    configuration = client.Configuration()
    config.load_kube_config(config_file=kubeconfig, client_configuration=configuration)
    api = client.ApiClient(configuration)
    core, custom = client.CoreV1Api(api), client.CustomObjectsApi(api)
    listers: list[Callable[..., Any]] = []
    for name in kinds:
        kind = CATALOG.kind(name)
        if kind.group == "":
            snake = re.sub(r"(?<!^)(?=[A-Z])", "_", kind.name).lower()
            listers.append(getattr(core, f"list_{snake}_for_all_namespaces" if kind.namespaced else f"list_{snake}"))
        else:
            listers.append(lambda k=kind, **page: custom.list_cluster_custom_object(k.group, k.version, k.plural,
                                                                                    **page))  # fmt: skip
    count = 0
    start = time.perf_counter()
    for lister in listers:
        token = None
        while True:
            page = lister(limit=PAGE, **({"_continue": token} if token else {}))
            items = page.items if hasattr(page, "items") and not isinstance(page, dict) else page["items"]
            count += len(items)
            meta = page.metadata if not isinstance(page, dict) else page["metadata"]
            token = meta._continue if not isinstance(meta, dict) else meta.get("continue")
            if not token:
                break
    return time.perf_counter() - start, count


def gateway_sync(kubeconfig: str) -> dict[str, Any]:
    """A cold `serve --kube`: seconds to the first answer, to every watch listed; objects cached; KiB each."""
    gateway, url = serve(kubeconfig, "--answer-cache-mb", "0")
    session = requests.Session()
    try:
        worker = worker_pid(gateway.pid)
        before = rss_mib(worker)
        start = time.perf_counter()
        answered = first_answer(session, url)
        while session.get(url + "/readyz", timeout=60).status_code != 200:
            time.sleep(0.05)
        listed = time.perf_counter() - start
        cached = cached_objects(session, url)
        objects = int(sum(cached.values()))
        after = rss_mib(worker)
        return {"answered": answered, "listed": listed, "objects": objects, "kinds": sorted(cached),
                "kib": (after - before) * 1024 / objects if objects else 0.0}  # fmt: skip
    finally:
        gateway.terminate()
        gateway.wait(timeout=30)


def profile(kubeconfig: str) -> None:
    """The gateway's sync in this process under pyinstrument: where its time goes (threads: one per kind)."""
    from pyinstrument import Profiler

    from gateway.app import create_app
    from gateway.config import Config

    app = create_app(Config(kube=True, kubeconfig=kubeconfig, auth="none", api_timeout=600, answer_cache_mb=0))
    web = app.test_client()
    assert web.get("/healthz").status_code == 200
    profiler = Profiler(interval=0.001, async_mode="disabled")
    profiler.start()
    start = time.perf_counter()
    answer = web.get("/namespaces/bench/vms", query_string={"follow": UI_PAGE, "limit": 1})
    seconds = time.perf_counter() - start
    profiler.stop()
    assert answer.status_code == 200, answer.text[:300]
    print(f"in-process sync to first answer: {seconds:.2f} s")
    print(profiler.output_text(unicode=False, color=False, show_all=False, timeline=False))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--vms", type=int, default=10000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--workers", type=int, default=8)
    parser.add_argument("--profile", action="store_true", help="then profile a sync in this process")
    args = parser.parse_args()
    server = KubeApiServer().start()
    try:
        server.api.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "bench"}})
        objects = synthetic_cluster(args.vms, "bench")
        start = time.perf_counter()
        load(server, objects, args.workers)
        print(f"loaded {len(objects):,} objects in {time.perf_counter() - start:.0f} s", flush=True)
        kubeconfig = server.kubeconfig(Path(tempfile.mkdtemp()) / "kubeconfig")
        rows, gateway_s, client_s = [], [], []
        for round_ in range(1, args.rounds + 1):  # in turns, so that both see the server alike
            synced = gateway_sync(kubeconfig)
            listed_s, listed = official_listing(kubeconfig, synced["kinds"])
            gateway_s.append(synced["answered"])
            client_s.append(listed_s)
            rows.append(f"| {round_} | {listed:,} objects, {len(synced['kinds'])} kinds: {listed_s:.2f} s "
                        f"| {synced['objects']:,} objects: {synced['answered']:.2f} s "
                        f"(all listed: {synced['listed']:.2f} s) "
                        f"| **{synced['answered'] / listed_s:.2f}x** | {synced['kib']:.1f} KiB |")  # fmt: skip
            print(rows[-1], flush=True)
        print(f"\n{args.vms:,} VMs, kube-apiserver v1.37.2, page size {PAGE}\n")
        print(
            "| round | official client: list every kind | gateway: sync to first answer | gateway / client "
            "| memory per cached object |"
        )
        print("|---|---|---|---|---|")
        for row in rows:
            print(row)
        ratio = statistics.median(gateway_s) / statistics.median(client_s)
        print(f"| median | {statistics.median(client_s):.2f} s | {statistics.median(gateway_s):.2f} s "
              f"| **{ratio:.2f}x** | |")  # fmt: skip
        if args.profile:
            profile(kubeconfig)
    finally:
        server.close()


if __name__ == "__main__":
    main()
