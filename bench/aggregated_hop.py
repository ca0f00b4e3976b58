"""The API server's hop (issue 24, goal 5): the VM page from the gateway directly, against the same page
through the real kube-apiserver as an aggregated API server, and against the round trips a script makes
to that API server for the same objects. Side by side in one run, interleaved.

kube-apiserver and etcd from `make apiserver` (the suite's, with its front-proxy CA), `vms` synthetic
VMs in `bench`; the gateway serves HTTPS as `serve --kube` (watch cache, `--auth kubernetes`), reached by
the API server through an ExternalName Service (tests/support/aggregated.py). Every page is remembered
by the gateway (a watch cache, nothing changing), so what differs between the first two rows is the hop:
the API server's authentication, authorization and proxying, and a second TLS connection. One caller
(the static admin token) everywhere; a keep-alive session per row.

    .venv/bin/python bench/aggregated_hop.py [--vms 100] [--rounds 20] [--per-round 25]
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path
from typing import Any

import requests
from common import ROOT, UI_PAGE, milliseconds, summary
from kubernetes import client, config
from round_trips import page_by_hand

from tests.support.aggregated import available, routed, serving_certificate, tls_gateway
from tests.support.apiserver import ADMIN_TOKEN, KubeApiServer
from tests.support.pod import deploy_objects
from tests.support.synthetic import synthetic_cluster
from tests.support.waiting import eventually

PREFIX = "/apis/kubevirt-gateway.io/v1alpha1"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--vms", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--per-round", type=int, default=25)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp())
    with KubeApiServer() as server:
        server.start()
        api = server.api
        api.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "bench"}})
        api.load(synthetic_cluster(args.vms, "bench"))
        objects = deploy_objects(ROOT / "deploy/overlays/aggregated")
        api.apply(next(o for o in objects if o["kind"] == "Namespace"))
        certificate = serving_certificate(tmp, next(o for o in objects if o["kind"] == "Service"))
        kubeconfig = server.kubeconfig(tmp / "admin")
        with tls_gateway(kubeconfig, certificate) as url, routed(api, objects, url, certificate):
            eventually(lambda: available(api), timeout=60, interval=0.2)
            rows = measure(server, url, certificate.ca_file, kubeconfig, args.rounds, args.per_round)
    report(rows, args)


def measure(server: KubeApiServer, gateway: str, gateway_ca: str, kubeconfig: str, rounds: int,
            per_round: int) -> dict[str, Any]:  # fmt: skip
    path, params = "/namespaces/bench/vms/vm-00000", {"follow": UI_PAGE}
    headers = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    direct, hop, raw = requests.Session(), requests.Session(), requests.Session()
    for session in (direct, hop, raw):
        session.headers.update(headers)

    def get_direct() -> requests.Response:
        return direct.get(gateway + path, params=params, verify=gateway_ca, timeout=60)

    def get_hop() -> requests.Response:
        return hop.get(server.url + PREFIX + path, params=params, verify=server.ca_file, timeout=60)

    def get_vm() -> requests.Response:  # the API server answering one object itself: its own floor
        return raw.get(f"{server.url}/apis/kubevirt.io/v1/namespaces/bench/virtualmachines/vm-00000",
                       verify=server.ca_file, timeout=60)  # fmt: skip

    configuration = client.Configuration()
    config.load_kube_config(config_file=kubeconfig, client_configuration=configuration)
    official = client.ApiClient(configuration)
    first, through = get_direct(), get_hop()
    assert first.status_code == through.status_code == 200, (first.text[:300], through.text[:300])
    assert through.json()["href"] == PREFIX + path
    calls = page_by_hand(official, "bench", "vm-00000")
    times: dict[str, list[float]] = {"direct": [], "hop": [], "vm": [], "script": []}
    for _ in range(rounds):  # interleaved, so that the machine's load falls on every row alike
        times["direct"] += milliseconds(get_direct, per_round)
        times["hop"] += milliseconds(get_hop, per_round)
        times["vm"] += milliseconds(get_vm, per_round)
        times["script"] += milliseconds(lambda: page_by_hand(official, "bench", "vm-00000"), max(1, per_round // 5))
    remembered = get_hop().headers.get("X-Gateway-Cache") == "hit" or get_direct().headers.get("X-Gateway-Cache")
    return {"times": times, "calls": calls, "bytes": len(through.content), "remembered": bool(remembered)}


def report(rows: dict[str, Any], args: argparse.Namespace) -> None:
    times = rows["times"]
    p = {name: summary(values) for name, values in times.items()}
    direct, hop = p["direct"], p["hop"]
    count = len(times["direct"])
    print(f"VM page ({rows['bytes']:,} bytes, follow={UI_PAGE}), {args.vms} VMs, {count} requests per row in "
          f"{args.rounds} interleaved rounds; remembered by the gateway: {rows['remembered']}\n")  # fmt: skip
    print("| the VM page | p50 | p99 |")
    print("|---|---|---|")
    print(f"| from the gateway directly (HTTPS, bearer token) | {direct[0]:.2f} ms | {direct[1]:.2f} ms |")
    print(f"| through kube-apiserver (`/apis/kubevirt-gateway.io/v1alpha1/...`) | {hop[0]:.2f} ms | {hop[1]:.2f} ms |")
    print(f"| **added by the hop** | **{hop[0] - direct[0]:.2f} ms** | **{hop[1] - direct[1]:.2f} ms** |")
    print(f"| kube-apiserver answering one VM itself (its own floor) | {p['vm'][0]:.2f} ms | {p['vm'][1]:.2f} ms |")
    print(f"| a script's round trips to kube-apiserver for the same objects ({rows['calls']} calls) "
          f"| {p['script'][0]:.2f} ms | {p['script'][1]:.2f} ms |")  # fmt: skip
    print(f"\nthe page through kube-apiserver: {p['script'][0] / hop[0]:.1f}x faster than the {rows['calls']} round "
          f"trips it replaces (p50), {p['script'][1] / hop[1]:.1f}x at p99")  # fmt: skip


if __name__ == "__main__":
    main()
