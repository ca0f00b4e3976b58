"""Bytes on the wire of what a UI asks for: plain, compressed (gzip, brotli, zstd), and with the
sparse fields a page needs. Bytes, not time: the same on every machine.

Over real HTTP, one in-process gateway each: the demo cluster (the VM page) and a snapshot of a
synthetic 1,000-VM namespace (the application graph and the VM list). Then the same VM page against
what a console fetches from the Kubernetes API to draw it today (`console_fetches`).

    .venv/bin/python bench/answer_bytes.py [--vms 1000]   (in `make bench`)
"""

from __future__ import annotations

import argparse
import gzip
import json
import logging
import time
from typing import Any

import requests
from common import serving

from gateway.app import create_app
from gateway.catalog import CATALOG
from gateway.config import Config
from gateway.store.snapshot import SnapshotStore, demo_objects
from tests.support.synthetic import synthetic_cluster

VM_PAGE = ("/namespaces/demo/vms/fedora", {"follow": "volumes.pvc,instancetype.revision,vmi.pod"})
LIST_FIELDS = "metadata.creationTimestamp,status.printableStatus,status.ready,spec.runStrategy"
"""What a VM list view shows: name and namespace (always kept), age, status, readiness, run strategy."""
ENCODINGS = ("identity", "gzip", "br", "zstd")
PAGE_FIELDS = {"fields": "status.printableStatus,spec.runStrategy", "fields[pvcs]": "spec.resources"}
"""What the VM page shows of the VM and of its disks' claims."""
APISERVER_GZIP_LEVEL = 1
APISERVER_GZIP_THRESHOLD = 128 * 1024
"""kube-apiserver gzips at level 1, and only answers over 128 KiB (responsewriters/writers.go:
defaultGzipContentEncodingLevel, defaultGzipThresholdBytes)."""
NAMESPACE_LISTS = (
    "Pod",
    "Service",
    "VirtualMachineInstanceMigration",
    "VirtualMachineSnapshot",
    "VirtualMachineRestore",
)
"""Kinds KubeVirt's console plugin lists (and watches) whole in the VM's namespace for its page."""


def wire_bytes(url: str, params: dict[str, str], encoding: str) -> int:
    response = requests.get(url, params=params, headers={"Accept-Encoding": encoding}, stream=True, timeout=600)
    assert response.status_code == 200, response.status_code
    response.raw.decode_content = False
    return len(response.raw.read())


def rows(base: str, what: str, path: str, params: dict[str, str], fields: dict[str, str] | None) -> list[str]:
    sizes = [wire_bytes(base + path, params, e) for e in ENCODINGS]
    lines = [f"| {what} | {' | '.join(f'{s:,}' for s in sizes)} |"]
    if fields is not None:
        trimmed = [wire_bytes(base + path, {**params, **fields}, e) for e in ENCODINGS]
        shown = ", ".join(f"{k}={v}" for k, v in fields.items())
        lines.append(f"| {what}, `{shown}` | {' | '.join(f'{s:,}' for s in trimmed)} |")
    return lines


def _api_json(obj: dict[str, Any]) -> bytes:
    """As the API server writes JSON: compact, one line (Go's json.Encoder ends it with a newline)."""
    return (json.dumps(obj, separators=(",", ":"), ensure_ascii=False) + "\n").encode()


def console_fetches(cluster: list[dict[str, Any]], namespace: str, name: str) -> list[tuple[str, bytes]]:
    """What KubeVirt's console plugin reads to draw one VM's page, as the API server sends it: the
    namespace's Pods, Services, migrations, snapshots and restores (lists), the VM, its VMI, and each
    DataVolume and PVC its volumes name. From the objects as the gateway loads them (managedFields kept)."""
    objects = [obj for obj in cluster if obj["metadata"].get("namespace") == namespace]

    def named(kind: str, wanted: str) -> dict[str, Any] | None:
        return next((o for o in objects if o["kind"] == kind and o["metadata"]["name"] == wanted), None)

    answers = []
    for kind in NAMESPACE_LISTS:
        api_version = CATALOG.kind(kind).api_version
        # built-in kinds' list items carry no apiVersion and kind (kubernetes#63676); custom resources' do
        strip = ("apiVersion", "kind") if "/" not in api_version else ()
        items = [{k: v for k, v in o.items() if k not in strip} for o in objects if o["kind"] == kind]
        wrapped = {"apiVersion": api_version, "kind": f"{kind}List", "metadata": {}, "items": items}
        answers.append((f"{kind}List", _api_json(wrapped)))
    vm = named("VirtualMachine", name)
    assert vm is not None, name
    volumes = vm["spec"]["template"]["spec"].get("volumes", [])
    data_volumes = [v["dataVolume"]["name"] for v in volumes if "dataVolume" in v]
    # CDI names a DataVolume's claim after it
    claims = data_volumes + [v["persistentVolumeClaim"]["claimName"] for v in volumes if "persistentVolumeClaim" in v]
    wanted = [("VirtualMachine", name), ("VirtualMachineInstance", name)]
    wanted += [("DataVolume", dv) for dv in data_volumes] + [("PersistentVolumeClaim", c) for c in claims]
    for kind, object_name in wanted:
        found = named(kind, object_name)
        if found is not None:  # a stopped VM has no VMI: the console's GET is a small 404
            answers.append((f"{kind} {object_name}", _api_json(found)))
    return answers


def apiserver_gzip(body: bytes, threshold: int = APISERVER_GZIP_THRESHOLD) -> int:
    if len(body) <= threshold:
        return len(body)
    return len(gzip.compress(body, compresslevel=APISERVER_GZIP_LEVEL, mtime=0))


def console_rows(base: str, cluster: list[dict[str, Any]], path: str, what: str) -> list[str]:
    params = VM_PAGE[1]
    _, namespace, _, name = path.strip("/").split("/")
    answers = console_fetches(cluster, namespace, name)
    bodies = [body for _, body in answers]
    plain = sum(len(b) for b in bodies)
    sent = sum(apiserver_gzip(b) for b in bodies)
    every = sum(apiserver_gzip(b, threshold=0) for b in bodies)
    one = [wire_bytes(base + path, params, e) for e in ("identity", "gzip")]
    trimmed = [wire_bytes(base + path, {**params, **PAGE_FIELDS}, e) for e in ("identity", "gzip")]
    shown = ", ".join(f"{k}={v}" for k, v in PAGE_FIELDS.items())
    return [
        f"| {what}: console today, as kube-apiserver sends it | {len(bodies)} | {plain:,} | {sent:,} |",
        f"| {what}: console today, every answer gzipped (level {APISERVER_GZIP_LEVEL}) | {len(bodies)} | {plain:,} "
        f"| {every:,} |",
        f"| {what}: gateway, `follow={params['follow']}` | 1 | {one[0]:,} | {one[1]:,} |",
        f"| {what}: gateway, the same with `{shown}` | 1 | {trimmed[0]:,} | {trimmed[1]:,} |",
    ]


def rates(app: Any, path: str, params: dict[str, str], seconds: float, rounds: int = 3) -> list[str]:
    """Requests per second of one remembered page, in-process, as each encoding asks: the rounds
    interleave the encodings, so a busy moment of the machine falls on all of them alike."""
    client = app.test_client()
    encodings = ("identity", "gzip", "br", "zstd")
    done = dict.fromkeys(encodings, 0)
    spent = dict.fromkeys(encodings, 0.0)
    for _ in range(rounds):
        for encoding in encodings:
            started = time.perf_counter()
            while time.perf_counter() - started < seconds / rounds:
                client.get(path, query_string=params, headers={"Accept-Encoding": encoding})
                done[encoding] += 1
            spent[encoding] += time.perf_counter() - started
    rate = {encoding: done[encoding] / spent[encoding] for encoding in encodings}
    return [f"| {e} | {rate[e]:,.0f} req/s | **{rate[e] / rate['identity']:.0%}** of uncompressed |" for e in encodings]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--vms", type=int, default=1000)
    parser.add_argument("--seconds", type=float, default=6.0, help="per encoding, for the requests per second")
    args = parser.parse_args()
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    table = ["| answer | plain | gzip | br | zstd |", "|---|---:|---:|---:|---:|"]
    console = ["| a VM page | requests | plain | gzip |", "|---|---:|---:|---:|"]
    speed = [
        "| the demo VM page, remembered, in-process | requests per second | against uncompressed |",
        "|---|---:|---:|",
    ]
    with serving(create_app(Config(demo=True))) as demo:
        path, params = VM_PAGE
        table += rows(demo.url, f"demo VM page ({params['follow']})", path, params, PAGE_FIELDS)
        demo_cluster = [obj for _, obj in demo_objects(CATALOG)]
        console += console_rows(demo.url, demo_cluster, path, "demo VM page")
        speed += rates(demo.app, path, params, args.seconds)
    synthetic = synthetic_cluster(args.vms)
    store = SnapshotStore.from_objects(CATALOG, synthetic, "bench")
    with serving(create_app(Config(), store=store)) as big:
        page = f"a VM page among {args.vms:,} VMs"
        console += console_rows(big.url, synthetic, "/namespaces/bench/vms/vm-00000", page)
        table += rows(big.url, f"application graph, {args.vms:,} VMs", "/namespaces/bench/graph", {}, None)
        table += rows(
            big.url,
            f"{args.vms:,} VMs (follow=vmi)",
            "/namespaces/bench/vms",
            {"follow": "vmi"},
            {"fields": LIST_FIELDS},
        )
    lists = ", ".join(f"{kind}List" for kind in NAMESPACE_LISTS)
    console.append(f"\nThe console's requests: the namespace's {lists}; the VM, its VMI, its DataVolumes and PVCs.")
    print("\n".join([*table, "", *console, "", *speed]))


if __name__ == "__main__":
    main()
