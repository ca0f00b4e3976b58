"""A real kube-apiserver and etcd for the tests, built by `make apiserver` (tools/kube/).

One `KubeApiServer` runs etcd (data on tmpfs, no fsync) and kube-apiserver on
free loopback ports, with RBAC, a service-account issuer and keys, static
tokens for the test users, the CRDs of crds.yaml, and the aggregation layer as
kubeadm configures it (a front-proxy CA and the proxy client certificate it signs). `Kube` is a small REST
client over requests for arranging test data: it is the test's hands, never
the gateway's (the gateway reads through its own adapter).
"""

from __future__ import annotations

import copy
import itertools
import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import requests
import trustme
import yaml

from gateway.catalog import CATALOG
from tests.support.kubeconfig import write_kubeconfig
from tests.support.waiting import free_port

ROOT = Path(__file__).resolve().parents[2]
CRDS = Path(__file__).with_name("crds.yaml")
START_SECONDS = 60.0

ADMIN_TOKEN = "admin-token"
FRONT_PROXY_NAME = "front-proxy-client"
"""The common name of the API server's proxy client certificate, its one allowed request-header name."""
# static-token users: token -> (name, groups); RBAC bindings decide what each may do
USERS: dict[str, tuple[str, tuple[str, ...]]] = {
    ADMIN_TOKEN: ("admin", ("system:masters",)),
    "alice-token": ("alice", ("developers",)),
    "bob-token": ("bob", ()),
    "carol-token": ("carol", ()),
    "dave-token": ("dave", ()),
    "erin-token": ("erin", ()),
    "frank-token": ("frank", ()),
    "grace-token": ("grace", ()),
}

# kinds the tests create that the catalogue does not read: (apiVersion, kind) -> (plural, namespaced)
EXTRA_RESOURCES = {
    ("rbac.authorization.k8s.io/v1", "Role"): ("roles", True),
    ("rbac.authorization.k8s.io/v1", "RoleBinding"): ("rolebindings", True),
    ("rbac.authorization.k8s.io/v1", "ClusterRole"): ("clusterroles", False),
    ("rbac.authorization.k8s.io/v1", "ClusterRoleBinding"): ("clusterrolebindings", False),
    ("apiextensions.k8s.io/v1", "CustomResourceDefinition"): ("customresourcedefinitions", False),
    ("apps/v1", "Deployment"): ("deployments", True),
    ("policy/v1", "PodDisruptionBudget"): ("poddisruptionbudgets", True),
    ("apiregistration.k8s.io/v1", "APIService"): ("apiservices", False),
}
RESOURCES = {(k.api_version, k.name): (k.plural, k.namespaced) for k in CATALOG.kinds() if not k.part} | EXTRA_RESOURCES
# set by the API server; a test object carrying them could not be created
SERVER_FIELDS = ("uid", "resourceVersion", "creationTimestamp", "generation", "managedFields", "ownerReferences")


def kube_bin() -> Path:
    """The bin directory `make apiserver` built (building it when it is not there yet)."""
    done = subprocess.run([str(ROOT / "tools/kube/build.sh")], capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"make apiserver failed:\n{done.stderr[-4000:]}")
    return Path(done.stdout.strip().splitlines()[-1])


def crd(entry: dict[str, Any]) -> dict[str, Any]:
    """One CustomResourceDefinition from a row of crds.yaml."""
    kind, plural, group = entry["kind"], entry["plural"], entry["group"]
    names = {"kind": kind, "listKind": f"{kind}List", "plural": plural, "singular": kind.lower()}
    if entry.get("shortNames"):
        names["shortNames"] = entry["shortNames"]
    schema = {"openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": True}}
    version = {"name": entry["version"], "served": True, "storage": True, "schema": schema,
               "subresources": {"status": {}}}  # fmt: skip
    metadata: dict[str, Any] = {"name": f"{plural}.{group}"}
    if entry.get("approved"):
        metadata["annotations"] = {"api-approved.kubernetes.io": entry["approved"]}
    return {
        "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition", "metadata": metadata,
        "spec": {"group": group, "names": names, "scope": entry.get("scope", "Namespaced"), "versions": [version]},
    }  # fmt: skip


def crd_table() -> list[dict[str, Any]]:
    return list(yaml.safe_load(CRDS.read_text()))


# the kinds examples/links/ declares (crds.yaml's `declared:` rows), for the tests' hands to create
RESOURCES |= {(f"{row['group']}/{row['version']}", row["kind"]): (row["plural"], row.get("scope") != "Cluster")
              for row in crd_table() if row.get("declared")}  # fmt: skip


class KubeError(Exception):
    def __init__(self, response: requests.Response) -> None:
        self.status = response.status_code
        super().__init__(f"{response.request.method} {response.url}: {response.status_code} {response.text[:2000]}")


class Kube:
    """The API server's REST API, for arranging and changing test data."""

    def __init__(self, url: str, token: str, ca_file: str) -> None:
        self.url = url
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Bearer {token}"
        self.ca_file = ca_file  # given on each request: REQUESTS_CA_BUNDLE would win over a session's verify

    def path(self, api_version: str, kind: str, namespace: str | None = None, name: str | None = None) -> str:
        plural, namespaced = RESOURCES[(api_version, kind)]
        prefix = f"/api/{api_version}" if "/" not in api_version else f"/apis/{api_version}"
        scope = f"/namespaces/{namespace}" if namespaced and namespace else ""
        return f"{prefix}{scope}/{plural}" + (f"/{name}" if name else "")

    def of(self, obj: dict[str, Any], sub: str = "") -> str:
        meta = obj["metadata"]
        return self.path(obj["apiVersion"], obj["kind"], meta.get("namespace"), meta["name"]) + sub

    def request(self, method: str, path: str, body: Any = None, content_type: str = "application/json") -> Any:
        response = self.session.request(
            method, self.url + path, json=body, headers={"Content-Type": content_type}, verify=self.ca_file, timeout=30
        )
        if response.status_code >= 400:
            raise KubeError(response)
        return response.json() if response.content else None

    def get(self, api_version: str, kind: str, namespace: str | None, name: str) -> dict[str, Any]:
        obj: dict[str, Any] = self.request("GET", self.path(api_version, kind, namespace, name))
        return obj

    def list(self, api_version: str, kind: str, namespace: str | None = None) -> list[dict[str, Any]]:
        items = self.request("GET", self.path(api_version, kind, namespace))["items"] or []
        return [{"apiVersion": api_version, "kind": kind, **item} for item in items]

    def create(self, obj: dict[str, Any]) -> dict[str, Any]:
        meta = obj["metadata"]
        created: dict[str, Any] = self.request(
            "POST", self.path(obj["apiVersion"], obj["kind"], meta.get("namespace")), obj
        )
        return created

    def patch(self, obj: dict[str, Any], patch: dict[str, Any], sub: str = "") -> dict[str, Any]:
        patched: dict[str, Any] = self.request("PATCH", self.of(obj, sub), patch, "application/merge-patch+json")
        return patched

    def delete(self, obj: dict[str, Any]) -> None:
        self.request("DELETE", self.of(obj))

    def apply(self, obj: dict[str, Any]) -> dict[str, Any]:
        """Create the object, or replace its spec and labels when it exists; its status too, when given."""
        body = {k: v for k, v in obj.items() if k != "status"}
        body["metadata"] = {k: v for k, v in obj["metadata"].items() if k not in SERVER_FIELDS}
        try:
            result = self.create(body)
        except KubeError as error:
            if error.status != 409:
                raise
            result = self.patch(obj, {k: v for k, v in body.items() if k not in ("apiVersion", "kind")})
        if obj.get("status"):
            result = self.patch(obj, {"status": obj["status"]}, "/status")
        return result

    def load(self, objects: Iterable[dict[str, Any]]) -> None:
        """Create objects as a cluster holds them: owners first, and every uid the objects name (owner
        references, virt-controller's `kubevirt.io/created-by` label) the server's own; some kinds,
        ControllerRevision among them, cannot be changed after. Then each status, through its subresource."""
        pending = sorted((copy.deepcopy(o) for o in objects), key=lambda o: o["kind"] != "Namespace")
        keys = {_key(o) for o in pending}
        created: dict[tuple[str, str | None, str], dict[str, Any]] = {}
        uids: dict[str, str] = {}  # the file's uid -> the server's
        while pending:
            ready = [o for o in pending if all(k in created or k not in keys for k in _owner_keys(o))]
            if not ready:
                raise ValueError(f"owner references in a cycle: {sorted(map(_key, pending))}")
            for obj in ready:
                meta = obj["metadata"]
                body = {k: v for k, v in obj.items() if k != "status" or obj["kind"] == "Namespace"}
                body["metadata"] = {k: v for k, v in meta.items() if k not in SERVER_FIELDS}
                if meta.get("ownerReferences"):
                    body["metadata"]["ownerReferences"] = [{**ref, "uid": uids.get(ref["uid"], ref["uid"])}
                                                           for ref in meta["ownerReferences"]]  # fmt: skip
                if meta.get("labels"):
                    body["metadata"]["labels"] = {k: uids.get(v, v) for k, v in meta["labels"].items()}
                made = self.create(body)
                if meta.get("uid"):
                    uids[meta["uid"]] = made["metadata"]["uid"]
                created[_key(obj)] = obj
            pending = [o for o in pending if _key(o) not in created]
        for obj in created.values():
            if obj.get("status") and obj["kind"] != "Namespace":
                self.patch(obj, {"status": obj["status"]}, "/status")

    def dump(self) -> list[dict[str, Any]]:
        """Every object of every catalogue kind the server serves, as a snapshot store loads them."""
        objects: list[dict[str, Any]] = []
        for kind in CATALOG.kinds():
            if not kind.part:
                objects += self.list(kind.api_version, kind.name)
        return objects

    def namespace(self, prefix: str = "t") -> str:
        """A new namespace: tests that change things isolate by namespace."""
        name = f"{prefix}-{next(_NAMESPACES)}-{os.getpid()}"
        self.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})
        return name

    def token(self, namespace: str, service_account: str, seconds: int = 3600) -> str:
        """A ServiceAccount token from the TokenRequest API, as `kubectl create token` makes it."""
        path = f"/api/v1/namespaces/{namespace}/serviceaccounts/{service_account}/token"
        request = {"apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest",
                   "spec": {"expirationSeconds": seconds}}  # fmt: skip
        return str(self.request("POST", path, request)["status"]["token"])


_NAMESPACES = itertools.count(1)


def _key(obj: dict[str, Any]) -> tuple[str, str | None, str]:
    return obj["kind"], obj["metadata"].get("namespace"), obj["metadata"]["name"]


def _owner_keys(obj: dict[str, Any]) -> list[tuple[str, str | None, str]]:
    """Owners live in their dependent's namespace (or are cluster-scoped; the demo has no such owner)."""
    meta = obj["metadata"]
    return [(ref["kind"], meta.get("namespace"), ref["name"]) for ref in meta.get("ownerReferences") or []]


class Process:
    """A child process with its output in a log file, whose tail a failure shows."""

    def __init__(self, name: str, argv: list[str], log: Path) -> None:
        self.name, self.argv, self.log = name, argv, log
        self.popen: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self.log.open("ab") as out:
            self.popen = subprocess.Popen(self.argv, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)

    def stop(self) -> None:
        if self.popen is None:
            return
        if self.popen.poll() is None:
            self.popen.send_signal(signal.SIGTERM)
            try:
                self.popen.wait(timeout=5)  # a test server need not drain: etcd has every write already
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait()
        self.popen = None

    def running(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def tail(self, lines: int = 30) -> str:
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        return f"--- last lines of {self.name}'s log ({self.log}):\n" + "\n".join(text.splitlines()[-lines:])


class KubeApiServer:
    """etcd and kube-apiserver on loopback, stopped and started again at will (for outages)."""

    def __init__(self, *, watch_cache: bool = True, bin_dir: Path | None = None) -> None:
        self.bin = bin_dir or kube_bin()
        tmpfs = "/dev/shm" if Path("/dev/shm").is_dir() else None
        self.workdir = Path(tempfile.mkdtemp(prefix="kvgw-apiserver-", dir=tmpfs))
        self.etcd_port, self.peer_port, self.port = free_port(), free_port(), free_port()
        self.etcd_url = f"http://127.0.0.1:{self.etcd_port}"
        self.url = f"https://127.0.0.1:{self.port}"
        self.ca_file = str(self.workdir / "certs/apiserver.crt")
        self._write_credentials()
        # the aggregation layer as kubeadm configures it: a front-proxy CA of its own, which signs the certificate
        # the API server presents to aggregated API servers; it publishes the CA and names in
        # kube-system/extension-apiserver-authentication. Elliptic-curve keys: made in milliseconds
        self.front_proxy_ca = trustme.CA()
        self.front_proxy_ca.cert_pem.write_to_path(str(self.workdir / "front-proxy-ca.crt"))
        proxy_client = self.front_proxy_ca.issue_cert(common_name=FRONT_PROXY_NAME)
        proxy_client.cert_chain_pems[0].write_to_path(str(self.workdir / "front-proxy-client.crt"))
        proxy_client.private_key_pem.write_to_path(str(self.workdir / "front-proxy-client.key"))
        peer = f"http://127.0.0.1:{self.peer_port}"
        self.etcd = Process("etcd", [
            str(self.bin / "etcd"), "--name", "test", "--data-dir", str(self.workdir / "etcd"),
            "--listen-client-urls", self.etcd_url, "--advertise-client-urls", self.etcd_url,
            "--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer, "--initial-cluster", f"test={peer}",
            "--unsafe-no-fsync", "--log-level", "warn",
            # progress notifications every second (etcd's default: 10 min), so that the API server's watch cache
            # learns of newer revisions without an event of each kind, and its bookmarks come in seconds
            "--watch-progress-notify-interval", "1s",
        ], self.workdir / "etcd.log")  # fmt: skip
        self.apiserver = Process("kube-apiserver", [
            str(self.bin / "kube-apiserver"), f"--etcd-servers={self.etcd_url}",
            f"--secure-port={self.port}", "--bind-address=127.0.0.1", "--advertise-address=127.0.0.1",
            f"--cert-dir={self.workdir / 'certs'}",
            "--service-cluster-ip-range=10.96.0.0/12",  # kubeadm's, which the demo's Services use
            "--authorization-mode=RBAC", f"--token-auth-file={self.workdir / 'tokens.csv'}",
            "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
            f"--service-account-key-file={self.workdir / 'sa.pub'}",
            f"--service-account-signing-key-file={self.workdir / 'sa.key'}",
            # no controller-manager runs: pods get no default ServiceAccount, so that admission is off
            "--disable-admission-plugins=ServiceAccount", "--enable-priority-and-fairness=false",
            # a loopback address cannot be the kubernetes Service's endpoint; nothing here needs one
            "--endpoint-reconciler-type=none",
            f"--watch-cache={'true' if watch_cache else 'false'}", "--profiling=false",
            f"--requestheader-client-ca-file={self.workdir / 'front-proxy-ca.crt'}",
            f"--requestheader-allowed-names={FRONT_PROXY_NAME}", "--requestheader-username-headers=X-Remote-User",
            "--requestheader-group-headers=X-Remote-Group", "--requestheader-extra-headers-prefix=X-Remote-Extra-",
            f"--proxy-client-cert-file={self.workdir / 'front-proxy-client.crt'}",
            f"--proxy-client-key-file={self.workdir / 'front-proxy-client.key'}",
        ], self.workdir / "kube-apiserver.log")  # fmt: skip
        self.api = Kube(self.url, ADMIN_TOKEN, self.ca_file)

    def _write_credentials(self) -> None:
        lines = [f'{token},{name},{name}-uid,"{",".join(groups)}"' for token, (name, groups) in USERS.items()]
        (self.workdir / "tokens.csv").write_text("\n".join(lines) + "\n")
        key, public = self.workdir / "sa.key", self.workdir / "sa.pub"
        subprocess.run(["openssl", "genrsa", "-out", str(key), "2048"], check=True, capture_output=True)
        subprocess.run(["openssl", "rsa", "-in", str(key), "-pubout", "-out", str(public)], check=True,
                       capture_output=True)  # fmt: skip

    # --- lifecycle -------------------------------------------------------------------------------------------------

    def start(self) -> KubeApiServer:
        self.start_etcd()
        self.start_apiserver()
        self.install_crds(crd(entry) for entry in crd_table())
        return self

    def start_etcd(self) -> None:
        self.etcd.start()
        self._wait(self.etcd, lambda: requests.get(f"{self.etcd_url}/health", timeout=2).json()["health"] == "true")

    def start_apiserver(self) -> None:
        self.apiserver.start()
        self._wait(self.apiserver, self.ready)

    def ready(self) -> bool:
        # a request of its own each time: a pooled connection keeps the TLS context of a CA file not yet written
        headers = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
        try:
            return requests.get(f"{self.url}/readyz", headers=headers, verify=self.ca_file, timeout=2).ok
        except requests.RequestException:
            return False

    def stop_apiserver(self) -> None:
        self.apiserver.stop()

    def stop_etcd(self) -> None:
        self.etcd.stop()

    def close(self) -> None:
        self.apiserver.stop()
        self.etcd.stop()
        shutil.rmtree(self.workdir, ignore_errors=True)

    def __enter__(self) -> KubeApiServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _wait(self, process: Process, check: Any) -> None:
        """Until `check` holds; after START_SECONDS, or if the process exits, fail with the logs' tails."""
        deadline = time.monotonic() + START_SECONDS
        while time.monotonic() < deadline:
            if not process.running():
                break
            try:
                if check():
                    return
            except (requests.RequestException, OSError, ValueError, KeyError):
                pass
            time.sleep(0.1)
        why = "exited" if not process.running() else f"was not up within {START_SECONDS:.0f} s"
        raise RuntimeError(f"{process.name} {why}\n{self.etcd.tail()}\n{self.apiserver.tail()}")

    # --- what tests use ---------------------------------------------------------------------------------------------

    def install_crds(self, crds: Iterable[dict[str, Any]]) -> None:
        """Create CRDs and wait until each is Established (served)."""
        crds = list(crds)
        names = [self.api.apply(definition)["metadata"]["name"] for definition in crds]
        for name in names:
            self._wait(self.apiserver, lambda name=name: _established(self.api.get(
                "apiextensions.k8s.io/v1", "CustomResourceDefinition", None, name)))  # fmt: skip
        # Established is not yet listable: the watch cache answers 429 "storage is (re)initializing" a while
        for definition in crds:
            spec = definition["spec"]
            path = f"/apis/{spec['group']}/{spec['versions'][0]['name']}/{spec['names']['plural']}?limit=1"
            self._wait(self.apiserver, lambda path=path: self.api.request("GET", path) is not None)

    def kubeconfig(self, path: Any, token: str = ADMIN_TOKEN) -> str:
        return write_kubeconfig(path, self.url, token, self.ca_file)

    def client(self, token: str = ADMIN_TOKEN) -> Kube:
        return Kube(self.url, token, self.ca_file)

    def compact(self) -> int:
        """Compact etcd to its current revision, so that older resource versions are Gone; returns it."""
        revision = int(requests.post(f"{self.etcd_url}/v3/kv/range", json={"key": "AA=="}, timeout=5)
                       .json()["header"]["revision"])  # fmt: skip
        requests.post(f"{self.etcd_url}/v3/kv/compaction", json={"revision": revision, "physical": True}, timeout=30)
        return revision


def _established(definition: dict[str, Any]) -> bool:
    conditions = (definition.get("status") or {}).get("conditions") or []
    return any(c["type"] == "Established" and c["status"] == "True" for c in conditions)


def running_apiserver(**options: Any) -> Iterator[KubeApiServer]:
    """A started server, stopped afterwards (the body of a fixture)."""
    server = KubeApiServer(**options)
    try:
        server.start()
        yield server
    finally:
        server.close()
