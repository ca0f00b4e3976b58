"""The gateway as an aggregated API server on this machine, behind the suite's real kube-apiserver: its serving
certificate, the gateway serving HTTPS, and the APIService routed to it through an ExternalName Service
(the aggregator resolves one to `externalName:port`, k8s.io/apiserver's ResolveCluster). Shared by
tests/kube/test_aggregated.py and bench/aggregated_hop.py."""

from __future__ import annotations

import base64
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests
import trustme

from tests.support.apiserver import Kube, KubeError
from tests.support.processes import ROOT
from tests.support.waiting import eventually, free_port

APISERVICE = "v1alpha1.kubevirt-gateway.io"


@dataclass(frozen=True)
class ServingCertificate:
    cert: str
    key: str
    ca_file: str
    ca_pem: bytes

    @property
    def flags(self) -> list[str]:
        return ["--tls-cert-file", self.cert, "--tls-private-key-file", self.key]


def serving_certificate(directory: Path, service: dict[str, Any]) -> ServingCertificate:
    """A CA of its own and a certificate for the name the aggregator checks (<service>.<namespace>.svc),
    and 127.0.0.1 for direct calls."""
    ca = trustme.CA()
    meta = service["metadata"]
    leaf = ca.issue_cert(f"{meta['name']}.{meta['namespace']}.svc", "127.0.0.1")
    cert, key, ca_file = directory / "tls.crt", directory / "tls.key", directory / "ca.crt"
    leaf.cert_chain_pems[0].write_to_path(str(cert))
    leaf.private_key_pem.write_to_path(str(key))
    ca.cert_pem.write_to_path(str(ca_file))
    return ServingCertificate(str(cert), str(key), str(ca_file), ca.cert_pem.bytes())


@contextmanager
def tls_gateway(kubeconfig: str, certificate: ServingCertificate, *flags: str) -> Iterator[str]:
    """`serve --kube` over HTTPS on a free port, once ready; its URL. Its output goes to a file (a pipe no
    one reads would fill with the access log, and the gateway would block writing it)."""
    port = free_port()
    command = [sys.executable, "-m", "gateway", "serve", "--kube", "--kubeconfig", kubeconfig,
               "--port", str(port), *certificate.flags, *flags]  # fmt: skip
    with tempfile.TemporaryFile("w+") as log, subprocess.Popen(command, cwd=ROOT, stdout=log, stderr=log) as process:
        url = f"https://127.0.0.1:{port}"

        def ready() -> bool:
            if process.poll() is not None:
                log.seek(0)
                pytest.fail(f"the gateway exited: {log.read()[-4000:]}")
            try:
                return requests.get(url + "/readyz", verify=certificate.ca_file, timeout=2).status_code == 200
            except requests.ConnectionError:
                return False

        try:
            eventually(ready, timeout=60, interval=0.1)
            yield url
        finally:
            process.terminate()
            process.wait(timeout=15)


@contextmanager
def routed(api: Kube, objects: list[dict[str, Any]], url: str, certificate: ServingCertificate) -> Iterator[None]:
    """The overlay's APIService and Service, routed to the gateway at `url` on this machine; deleted after:
    an APIService left behind unavailable would make discovery partial for whatever runs next."""
    apiservice = next(o for o in objects if o["kind"] == "APIService")
    service = next(o for o in objects if o["kind"] == "Service")
    port = int(url.rsplit(":", 1)[1])
    api.apply({**service, "spec": {"type": "ExternalName", "externalName": "127.0.0.1",
                                   "ports": [{"name": "https", "port": port}]}})  # fmt: skip
    spec = {**apiservice["spec"], "caBundle": base64.b64encode(certificate.ca_pem).decode()}
    spec["service"] = {**spec["service"], "port": port}
    api.apply({**apiservice, "spec": spec})
    try:
        yield
    finally:
        for obj in (apiservice, service):
            try:
                api.delete(obj)
            except KubeError as error:
                if error.status != 404:
                    raise


def available(api: Kube) -> bool:
    found = api.get("apiregistration.k8s.io/v1", "APIService", None, APISERVICE)
    conditions = (found.get("status") or {}).get("conditions") or []
    return any(c["type"] == "Available" and c["status"] == "True" for c in conditions)
