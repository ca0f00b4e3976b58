"""The gateway as an aggregated API server (DESIGN section 13), behind the suite's real kube-apiserver with
the aggregation layer configured as kubeadm configures it (a front-proxy CA, the proxy client certificate):
deploy/overlays/aggregated applied, the gateway serving HTTPS as its own ServiceAccount, and the APIService
routed to it on this machine by an ExternalName Service (the aggregator resolves one to its host name).
Users reach it with `kubectl get --raw` and their own tokens; forged X-Remote-* headers and certificates
the front-proxy CA did not sign, or signed for a name it does not allow, name no one."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests
import trustme

from gateway.catalog import CATALOG
from tests.support.aggregated import available as available_now
from tests.support.aggregated import routed, serving_certificate, tls_gateway
from tests.support.apiserver import FRONT_PROXY_NAME, KubeApiServer
from tests.support.pod import deploy_objects
from tests.support.processes import ROOT
from tests.support.waiting import eventually, free_port

PREFIX = "/apis/kubevirt-gateway.io/v1alpha1"
FEDORA = "/namespaces/demo/vms/fedora"
RBAC = "rbac.authorization.k8s.io/v1"


@dataclass
class Aggregated:
    apiserver: KubeApiServer
    url: str
    """The gateway itself (HTTPS on loopback)."""
    ca_file: str
    """The CA of the gateway's serving certificate."""
    kubeconfigs: dict[str, str]
    tokens: dict[str, str]
    front_proxy_ca: trustme.CA
    tls_flags: list[str]
    """--tls-cert-file F --tls-private-key-file K: the gateway's serving certificate."""

    def kubectl(self, user: str, *args: str) -> subprocess.CompletedProcess[str]:
        command = [str(self.apiserver.bin / "kubectl"), "--kubeconfig", self.kubeconfigs[user], *args]
        return subprocess.run(command, capture_output=True, text=True, timeout=60)

    def direct(self, path: str, token: str | None = None, headers: dict[str, str] | None = None,
               cert: tuple[str, str] | None = None) -> requests.Response:  # fmt: skip
        sent = dict(headers or {})
        if token:
            sent["Authorization"] = f"Bearer {token}"
        return requests.get(self.url + path, headers=sent, verify=self.ca_file, cert=cert, timeout=30)


def _binding(kind: str, name: str, namespace: str | None, role: tuple[str, str], subject: str, ns: str) -> Any:
    meta = {"name": name, **({"namespace": namespace} if namespace else {})}
    return {"apiVersion": RBAC, "kind": kind, "metadata": meta,
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": role[0], "name": role[1]},
            "subjects": [{"kind": "ServiceAccount", "name": subject, "namespace": ns}]}  # fmt: skip


@pytest.fixture(scope="module")
def aggregated(apiserver: KubeApiServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Aggregated]:
    api, tmp = apiserver.api, tmp_path_factory.mktemp("aggregated")
    objects = deploy_objects(ROOT / "deploy/overlays/aggregated")
    for obj in objects:
        if obj["kind"] not in ("APIService", "Service"):
            api.apply(obj)  # the RBAC as shipped: the gateway reads the front-proxy settings with it
    service = next(o for o in objects if o["kind"] == "Service")
    certificate = serving_certificate(tmp, service)
    own = apiserver.kubeconfig(tmp / "gateway", api.token(service["metadata"]["namespace"], "kubevirt-gateway"))
    ns = api.namespace("aggregated")
    names = {"reader": "reader", "stranger": "stranger", "nobody": "nobody"}
    for sa in names.values():
        api.create({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": sa, "namespace": ns}})
    gateway_reader = next(o for o in objects if o["kind"] == "ClusterRole" and "aggregate-to-view" in
                          str(o["metadata"].get("labels")))["metadata"]["name"]  # fmt: skip
    read = ["get", "list", "watch"]
    rules = [{"apiGroups": ["kubevirt.io"], "resources": ["virtualmachines", "virtualmachineinstances"], "verbs": read},
             {"apiGroups": [""], "resources": ["pods"], "verbs": read}]  # fmt: skip
    demo_reader = {"apiVersion": RBAC, "kind": "Role", "metadata": {"name": f"{ns}-reader", "namespace": "demo"},
                   "rules": rules}  # fmt: skip
    # reader: may use the gateway's group and read the VM, its VMI and pod in demo; stranger: the group only;
    # nobody: neither (the API server itself refuses)
    bindings = [
        demo_reader,
        _binding("RoleBinding", f"{ns}-reader-group", "demo", ("ClusterRole", gateway_reader), "reader", ns),
        _binding("RoleBinding", f"{ns}-reader-demo", "demo", ("Role", f"{ns}-reader"), "reader", ns),
        _binding("RoleBinding", f"{ns}-stranger-group", "demo", ("ClusterRole", gateway_reader), "stranger", ns),
    ]
    for obj in bindings:
        api.apply(obj)
    tokens = {user: api.token(ns, sa) for user, sa in names.items()}
    kubeconfigs = {user: apiserver.kubeconfig(tmp / user, token) for user, token in tokens.items()}
    try:
        with tls_gateway(own, certificate) as url, routed(api, objects, url, certificate):
            yield Aggregated(apiserver, url, certificate.ca_file, kubeconfigs, tokens, apiserver.front_proxy_ca,
                             certificate.flags)  # fmt: skip
    finally:
        for obj in bindings:
            api.delete(obj)


@pytest.fixture(scope="module")
def available(aggregated: Aggregated) -> Aggregated:
    assert eventually(lambda: available_now(aggregated.apiserver.api), timeout=60, interval=0.2)
    return aggregated


def _unprefixed(document: Any) -> Any:
    return json.loads(json.dumps(document).replace(f'"{PREFIX}/', '"/'))


def test_the_apiservice_becomes_available_once_the_gateway_answers_discovery(aggregated: Aggregated) -> None:
    assert eventually(lambda: available_now(aggregated.apiserver.api), timeout=60, interval=0.2)


def test_a_user_gets_a_vm_with_what_it_depends_on_through_the_api_server(available: Aggregated) -> None:
    done = available.kubectl("reader", "get", "--raw", f"{PREFIX}{FEDORA}?follow=vmi.pod")
    assert done.returncode == 0, done.stderr
    got = json.loads(done.stdout)
    assert got["metadata"]["name"] == "fedora"
    assert got["vmi"]["pod"]["kind"] == "Pod"
    # hrefs keep the prefix the request came in on, and lead back through the API server
    assert got["href"] == f"{PREFIX}{FEDORA}"
    assert got["vmi"]["href"].startswith(f"{PREFIX}/namespaces/demo/vmis/")
    followed = available.kubectl("reader", "get", "--raw", got["links"]["vmi"]["href"])
    assert followed.returncode == 0, followed.stderr
    assert json.loads(followed.stdout)["metadata"]["name"] == got["vmi"]["metadata"]["name"]
    # the same answer as the gateway gives the same user's token directly, without the prefix
    direct = available.direct(f"{FEDORA}?follow=vmi.pod", available.tokens["reader"])
    assert direct.status_code == 200
    assert _unprefixed(got) == direct.json()


def test_the_gateway_authorizes_the_user_the_api_server_names(available: Aggregated) -> None:
    """stranger may use the group (the API server lets the request through) but not read the VM: the gateway's
    own answer for stranger's token, as without the API server; nobody may not even use the group."""
    done = available.kubectl("stranger", "get", "--raw", f"{PREFIX}{FEDORA}")
    direct = available.direct(FEDORA, available.tokens["stranger"])
    assert direct.status_code in (403, 404)
    assert done.returncode != 0
    assert direct.json()["message"] in done.stderr
    refused = available.kubectl("nobody", "get", "--raw", f"{PREFIX}{FEDORA}")
    assert refused.returncode != 0
    assert "forbidden" in refused.stderr.lower() and "kubevirt-gateway.io" in refused.stderr


def test_discovery_lists_the_collections_as_resources(available: Aggregated) -> None:
    done = available.kubectl("reader", "api-resources", "--api-group=kubevirt-gateway.io", "-o", "name")
    assert done.returncode == 0, done.stderr
    names = set(done.stdout.split())
    assert {f"{k.plural}.kubevirt-gateway.io" for k in CATALOG.kinds() if not k.part} == names
    # a resource as discovery names it is the collection under the prefix
    by_name = available.kubectl("reader", "get", "--raw", f"{PREFIX}/namespaces/demo/virtualmachines/fedora")
    assert by_name.returncode == 0, by_name.stderr
    assert json.loads(by_name.stdout)["href"] == f"{PREFIX}{FEDORA}"


def test_kubectls_own_names_still_mean_kubevirt_while_the_group_is_served(available: Aggregated) -> None:
    """`kubectl get vms` takes an exact resource name before a short name: a resource named `vms` in this
    group would have taken KubeVirt's place. Names equal in both groups go to the CRDs' (higher priority)."""
    for name in ("vms", "vm", "virtualmachines", "virtualmachine", "vmis"):
        done = available.kubectl("reader", "get", name, "-n", "demo", "-o", "name")
        assert done.returncode == 0, (name, done.stderr)
        assert done.stdout.split()[0].split("/")[0].endswith(".kubevirt.io"), (name, done.stdout)
        assert "kubevirt-gateway.io" not in done.stderr, (name, done.stderr)


def test_a_live_stream_passes_through_the_api_server(available: Aggregated) -> None:
    server = available.apiserver
    url = f"{server.url}{PREFIX}{FEDORA}?watch=true&follow=vmi"
    headers = {"Authorization": f"Bearer {available.tokens['reader']}"}
    with requests.get(url, headers=headers, verify=server.ca_file, stream=True, timeout=30) as response:
        assert response.status_code == 200, response.text
        assert response.headers["Content-Type"].startswith("text/event-stream")
        lines = response.iter_lines(decode_unicode=True)
        assert next(lines) == "event: document"
        document = json.loads(next(lines).removeprefix("data: "))
    assert document["href"] == f"{PREFIX}{FEDORA}"
    assert document["vmi"]["metadata"]["name"] == "fedora"


def test_forged_user_headers_without_a_client_certificate_name_no_one(available: Aggregated) -> None:
    forged = {"X-Remote-User": "system:admin", "X-Remote-Group": "system:masters"}
    alone = available.direct(FEDORA, headers=forged)
    assert alone.status_code == 401
    as_stranger = available.direct(FEDORA, available.tokens["stranger"], headers=forged)
    assert as_stranger.status_code == available.direct(FEDORA, available.tokens["stranger"]).status_code != 200


def test_a_client_certificate_from_another_ca_is_refused(available: Aggregated, tmp_path: Path) -> None:
    other = trustme.CA().issue_cert(common_name=FRONT_PROXY_NAME)
    cert, key = tmp_path / "other.crt", tmp_path / "other.key"
    other.cert_chain_pems[0].write_to_path(str(cert))
    other.private_key_pem.write_to_path(str(key))
    with pytest.raises((requests.exceptions.SSLError, requests.exceptions.ConnectionError)):
        available.direct(FEDORA, headers={"X-Remote-User": "system:admin"}, cert=(str(cert), str(key)))


def test_the_front_proxy_ca_speaks_only_through_an_allowed_name(available: Aggregated, tmp_path: Path) -> None:
    """Signed by the front-proxy CA, for a name the cluster does not allow: the headers are ignored. The
    allowed name (the API server's own proxy certificate) is the user it names."""
    cert, key = tmp_path / "c.crt", tmp_path / "c.key"
    intruder = available.front_proxy_ca.issue_cert(common_name="intruder")
    intruder.cert_chain_pems[0].write_to_path(str(cert))
    intruder.private_key_pem.write_to_path(str(key))
    admin = {"X-Remote-User": "system:admin", "X-Remote-Group": "system:masters"}
    assert available.direct(FEDORA, headers=admin, cert=(str(cert), str(key))).status_code == 401
    proxy = (str(available.apiserver.workdir / "front-proxy-client.crt"),
             str(available.apiserver.workdir / "front-proxy-client.key"))  # fmt: skip
    assert available.direct(FEDORA, headers=admin, cert=proxy).status_code == 200
    # groups sent as separate headers, as the aggregator sends them, all count
    stranger = {"X-Remote-User": "system:serviceaccount:x:stranger", "X-Remote-Group": "system:authenticated"}
    assert available.direct(FEDORA, headers=stranger, cert=proxy).status_code in (403, 404)
    # a client's own header the API server passes on because it is not spelled as X-Remote-Group (an
    # underscore) must not become one: WSGI would map both to HTTP_X_REMOTE_GROUP; gunicorn drops it
    smuggled = {**stranger, "X-Remote_Group": "system:masters"}
    assert available.direct(FEDORA, headers=smuggled, cert=proxy).status_code in (403, 404)


def test_a_tls_handshake_left_unfinished_holds_up_no_one(available: Aggregated) -> None:
    """Handshakes run in the connection's greenlet (the worker's context is gevent's): a client that connects
    and never says hello does not stop others being answered."""
    host, port = available.url.removeprefix("https://").split(":")
    with socket.create_connection((host, int(port)), timeout=10):
        assert available.direct("/healthz").status_code == 200
        assert available.direct(FEDORA, available.tokens["reader"]).status_code == 200


def test_the_overlays_apiservice_and_service_as_shipped_are_accepted(aggregated: Aggregated) -> None:
    """The fixture routes the APIService to this machine; the objects as deploy/ ships them are valid too
    (the rest of the overlay the fixture applied as it is). Dry runs: nothing changes."""
    api = aggregated.apiserver.api
    for obj in deploy_objects(ROOT / "deploy/overlays/aggregated"):
        meta = obj["metadata"]
        if obj["kind"] == "Service":  # the fixture's stand-in has the name: the shipped one under another
            renamed = {**obj, "metadata": {**meta, "name": f"{meta['name']}-shipped"}}
            path = api.path(obj["apiVersion"], obj["kind"], meta.get("namespace"))
            assert api.request("POST", path + "?dryRun=All", renamed)["spec"]["type"] == "ClusterIP"
        if obj["kind"] == "APIService":  # its name is its group and version: replaced, as the shipped one
            current = api.get(obj["apiVersion"], obj["kind"], None, meta["name"])
            replaced = {**obj, "metadata": {**meta, "resourceVersion": current["metadata"]["resourceVersion"]}}
            assert (
                api.request("PUT", api.of(obj) + "?dryRun=All", replaced)["spec"]["service"] == obj["spec"]["service"]
            )


def test_the_kubectl_plugin_in_aggregated_mode_goes_through_the_api_server(
    available: Aggregated, tmp_path: Path
) -> None:
    """`kubectl gateway --aggregated`: the kubeconfig's server and credentials, no gateway URL; each user
    sees what the cluster shows them."""
    plugin = Path(sys.executable).parent / "kubectl-gateway"
    path = os.pathsep.join([str(plugin.parent), str(available.apiserver.bin), os.environ.get("PATH", "")])
    # no gateway URL anywhere: the default one would answer nothing here
    base = {k: v for k, v in os.environ.items() if k != "KUBEVIRT_GATEWAY_URL"}
    base |= {"PATH": path, "XDG_CACHE_HOME": str(tmp_path / "cache"), "HOME": str(tmp_path)}

    def plugin_as(user: str, *args: str) -> subprocess.CompletedProcess[str]:
        env = {**base, "KUBECONFIG": available.kubeconfigs[user]}
        command = ["kubectl", "gateway", "get", "vm", "fedora", "-n", "demo", "--aggregated", *args]
        return subprocess.run(command, capture_output=True, text=True, env=env, timeout=60)

    shown = plugin_as("reader", "-f", "vmi.pod", "-o", "json")
    assert shown.returncode == 0, shown.stderr
    document = json.loads(shown.stdout)
    assert document["vmi"]["pod"]["kind"] == "Pod"
    assert document["href"] == f"{PREFIX}{FEDORA}"
    refused = plugin_as("stranger")
    assert refused.returncode == 1
    assert refused.stderr.startswith("kubevirt-gateway: error: 40")
    both = plugin_as("reader", "--gateway", available.url)
    assert (both.returncode, both.stderr.count("\n")) == (2, 1), both.stderr


def test_serve_refuses_what_cannot_work_in_one_line(aggregated: Aggregated, tmp_path: Path) -> None:
    """Exit 2 and one line: header flags without TLS, a missing certificate, and a gateway identity that may
    not read kube-system/extension-apiserver-authentication (the overlay's binding names the fix)."""
    tls = aggregated.tls_flags
    serve = [sys.executable, "-m", "gateway", "serve", "--port", str(free_port())]
    cases = {
        "needs TLS": [*serve, "--requestheader-allowed-names", "front-proxy-client"],
        "no such file": [*serve, "--tls-cert-file", str(tmp_path / "missing.crt"), "--tls-private-key-file", tls[3]],
        "extension-apiserver-authentication-reader": [
            *serve, "--kube", "--kubeconfig", aggregated.kubeconfigs["nobody"], *tls,
        ],
    }  # fmt: skip
    for said, command in cases.items():
        done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=60)
        assert done.returncode == 2, (said, done.stderr)
        assert done.stderr.count("\n") == 1 and said in done.stderr, done.stderr
