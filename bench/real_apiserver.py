"""Round trips and N+1 against the real kube-apiserver, side by side with the emulator, in one run.

The same measurements as round_trips.py (the VM page: a script's per-object calls against one
follow call) and n_plus_one.py (a collection in direct mode: optimized against generic
followers), on both servers with no added latency, because a real server's per-call cost
(authentication, RBAC, admission chain, etcd or its watch cache) is what a cluster charges.
API calls are counted by each server itself: the emulator's request log (exact), the real server's
`apiserver_request_total` (it counts a request after answering it, and comes out a call or two under
the gateway's own count, which is exact in direct mode: both are shown).

    .venv/bin/python bench/real_apiserver.py [--vms 100] [--repeat 20]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path
from typing import Any

import requests
from common import UI_PAGE, RemoteEmulator, gateway_config, milliseconds, serving, summary
from kubernetes import client, config
from prometheus_client.parser import text_string_to_metric_families
from round_trips import page_by_hand

from gateway.app import create_app
from gateway.config import Config
from tests.support.apiserver import KubeApiServer
from tests.support.synthetic import synthetic_cluster

N_PLUS_ONE = "volumes.pvc.pv,vmi.pod,instancetype.revision"


class RealServer:
    """kube-apiserver and etcd from `make apiserver`, loaded with the same `vms` synthetic VMs as the emulator."""

    def __init__(self, vms: int) -> None:
        self.server = KubeApiServer().start()
        self.server.api.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "bench"}})
        self.server.api.load(synthetic_cluster(vms, "bench"))
        self.scrapes = 0

    def kubeconfig(self, path: Any) -> str:
        return self.server.kubeconfig(path)

    def calls(self) -> int:
        """Requests served so far, less this method's own scrapes of /metrics. The server counts a
        request after answering it, so a scrape right after may miss the last: read until two agree."""
        last = -1
        while True:
            text = self.server.api.session.get(self.server.url + "/metrics", verify=self.server.ca_file,
                                               timeout=30).text  # fmt: skip
            total = sum(sample.value for family in text_string_to_metric_families(text)
                        if family.name == "apiserver_request" for sample in family.samples
                        if sample.name == "apiserver_request_total")  # fmt: skip
            served = int(total) - self.scrapes
            self.scrapes += 1
            if served == last:
                return served
            last = served
            time.sleep(0.2)

    def stop(self) -> None:
        self.server.close()


class Emulator:
    def __init__(self, vms: int) -> None:
        self.emulator = RemoteEmulator("--synthetic", str(vms))

    def kubeconfig(self, path: Any) -> str:
        return self.emulator.kubeconfig(path)

    def calls(self) -> int:
        return self.emulator.requests()["count"]

    def stop(self) -> None:
        self.emulator.stop()


def official_client(server: RealServer | Emulator) -> client.ApiClient:
    configuration = client.Configuration()
    kubeconfig = server.kubeconfig(Path(tempfile.mkdtemp()) / "kubeconfig")
    config.load_kube_config(config_file=kubeconfig, client_configuration=configuration)
    return client.ApiClient(configuration)


def gateway_on(server: RealServer | Emulator, **settings: Any) -> Any:
    base: Config = gateway_config(server, **settings)  # type: ignore[arg-type]
    return create_app(base)


def measure(server: RealServer | Emulator, namespace: str, vm: str, repeat: int) -> dict[str, Any]:
    figures: dict[str, Any] = {}
    api = official_client(server)
    path, params = f"/namespaces/{namespace}/vms/{vm}", {"follow": UI_PAGE}
    with serving(gateway_on(server)) as cached, serving(gateway_on(server, cache="none")) as direct:
        session = requests.Session()
        session.get(cached.url + path, params=params).raise_for_status()  # starts the watches
        session.get(direct.url + path, params=params).raise_for_status()  # discovery, once
        figures["script calls"] = page_by_hand(api, namespace, vm)
        figures["script"], _ = summary(milliseconds(lambda: page_by_hand(api, namespace, vm), repeat))
        figures["watch cache"], _ = summary(milliseconds(lambda: session.get(cached.url + path, params=params), repeat))
        before = server.calls()
        read = session.get(direct.url + path, params=params)
        figures["direct calls"] = server.calls() - before
        figures["direct reads"] = int(read.headers["X-Gateway-Store-Reads"])
        figures["direct"], _ = summary(milliseconds(lambda: session.get(direct.url + path, params=params), repeat))
    collection, follow = "/namespaces/bench/vms", {"follow": N_PLUS_ONE}
    for optimize in (True, False):
        with serving(gateway_on(server, cache="none", optimize=optimize)) as gw:
            session = requests.Session()
            session.get(gw.url + "/readyz")
            before = server.calls()
            answer = session.get(gw.url + collection, params=follow)
            body = answer.content
            calls = server.calls() - before
            url = gw.url + collection
            ms, _ = summary(milliseconds(lambda s=session, u=url: s.get(u, params=follow), max(3, repeat // 5)))
            reads = int(answer.headers["X-Gateway-Store-Reads"])
            figures["optimized" if optimize else "generic"] = (calls, ms, body, reads)
    assert figures["optimized"][2] == figures["generic"][2], "optimized and generic documents differ"
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--vms", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    results = {}
    for name, make in (("emulator", Emulator), ("kube-apiserver v1.37.2", RealServer)):
        server = make(args.vms)
        try:
            # the emulator's synthetic VMs live in `bench`; the page is the first of them on both servers
            results[name] = measure(server, "bench", "vm-00000", args.repeat)
        finally:
            server.stop()
    print("| measurement | " + " | ".join(results) + " |")
    print("|---|" + "---|" * len(results))

    def row(label: str, cell: Any) -> None:
        print(f"| {label} | " + " | ".join(cell(f) for f in results.values()) + " |")

    row("VM page by hand (official client)", lambda f: f"{f['script calls']} calls: {f['script']:.1f} ms")
    row("VM page, one follow call, watch cache", lambda f: f"{f['watch cache']:.1f} ms")
    row(
        "VM page, one follow call, --cache none",
        lambda f: f"{f['direct']:.1f} ms ({f['direct calls']} API calls; the gateway counts {f['direct reads']})",
    )
    row("ratio by hand / follow (watch cache)", lambda f: f"**{f['script'] / f['watch cache']:.1f}x**")
    row("ratio by hand / follow (--cache none)", lambda f: f"**{f['script'] / f['direct']:.1f}x**")
    row(
        f"{args.vms} VMs `?follow={N_PLUS_ONE}`, --cache none, optimized",
        lambda f: f"{f['optimized'][1]:.0f} ms ({f['optimized'][0]} API calls; the gateway counts {f['optimized'][3]})",
    )
    row(
        "the same, generic followers",
        lambda f: f"{f['generic'][1]:.0f} ms ({f['generic'][0]} API calls; the gateway counts {f['generic'][3]})",
    )
    row("ratio generic / optimized (time)", lambda f: f"**{f['generic'][1] / f['optimized'][1]:.1f}x**")


if __name__ == "__main__":
    main()
