"""Bytes on the wire of what a UI asks for: plain, compressed (gzip, brotli, zstd), and with the
sparse fields a page needs. Bytes, not time: the same on every machine.

Over real HTTP, one in-process gateway each: the demo cluster (the VM page) and a snapshot of a
synthetic 1,000-VM namespace (the application graph and the VM list).

    .venv/bin/python bench/answer_bytes.py [--vms 1000]   (in `make bench`)
"""

from __future__ import annotations

import argparse
import logging

import requests
from common import serving

from gateway.app import create_app
from gateway.catalog import CATALOG
from gateway.config import Config
from gateway.store.snapshot import SnapshotStore
from tests.support.synthetic import synthetic_cluster

VM_PAGE = ("/namespaces/demo/vms/fedora", {"follow": "volumes.pvc,instancetype.revision,vmi.pod"})
LIST_FIELDS = "metadata.creationTimestamp,status.printableStatus,status.ready,spec.runStrategy"
"""What a VM list view shows: name and namespace (always kept), age, status, readiness, run strategy."""
ENCODINGS = ("identity", "gzip", "br", "zstd")


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--vms", type=int, default=1000)
    args = parser.parse_args()
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    table = ["| answer | plain | gzip | br | zstd |", "|---|---:|---:|---:|---:|"]
    with serving(create_app(Config(demo=True))) as demo:
        path, params = VM_PAGE
        page_fields = {"fields": "status.printableStatus,spec.runStrategy", "fields[pvcs]": "spec.resources"}
        table += rows(demo.url, f"demo VM page ({params['follow']})", path, params, page_fields)
    store = SnapshotStore.from_objects(CATALOG, synthetic_cluster(args.vms), "bench")
    with serving(create_app(Config(), store=store)) as big:
        table += rows(big.url, f"application graph, {args.vms:,} VMs", "/namespaces/bench/graph", {}, None)
        table += rows(
            big.url,
            f"{args.vms:,} VMs (follow=vmi)",
            "/namespaces/bench/vms",
            {"follow": "vmi"},
            {"fields": LIST_FIELDS},
        )
    print("\n".join(table))


if __name__ == "__main__":
    main()
