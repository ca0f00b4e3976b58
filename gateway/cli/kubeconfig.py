"""The namespace kubectl would use when `-n` is not given: the current context's, from the kubeconfig
kubectl would read (`--kubeconfig`, else each file of `$KUBECONFIG`, else `~/.kube/config`).

Only `current-context` and the contexts' namespaces are read for that, with PyYAML: the Kubernetes
client would load credentials the command line does not use (and only `gateway.store.kube` may import
it). `--aggregated` reads the cluster and user as well (`api_server_access`): the gateway is then
reached through the API server, with the kubeconfig's credentials.
As client-go merges `$KUBECONFIG`'s files, the first file that sets a value wins.
"""

from __future__ import annotations

import atexit
import base64
import json
import os
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

DEFAULT_NAMESPACE = "default"


class KubeconfigError(Exception):
    """A kubeconfig named on the command line is missing or unreadable, or names no such context."""


def context_namespace(kubeconfig: str | None = None, context: str | None = None) -> str:
    """The namespace of `context` (default: the current context), or `default` where none is set."""
    if kubeconfig:
        documents = [_load(Path(kubeconfig), required=True)]
    else:
        paths = [p for p in os.environ.get("KUBECONFIG", "").split(os.pathsep) if p]
        candidates = [Path(p) for p in paths] or [Path.home() / ".kube" / "config"]
        documents = [_load(path, required=False) for path in candidates]
    wanted = context or next((d["current-context"] for d in documents if d.get("current-context")), None)
    if not wanted:
        return DEFAULT_NAMESPACE
    for document in documents:
        for entry in document.get("contexts") or []:
            if isinstance(entry, dict) and entry.get("name") == wanted:
                namespace = (entry.get("context") or {}).get("namespace")
                return str(namespace) if namespace else DEFAULT_NAMESPACE
    if context:  # kubectl: `error: context "x" does not exist`
        raise KubeconfigError(f'context "{context}" does not exist')
    return DEFAULT_NAMESPACE


def _load(path: Path, required: bool) -> dict[str, Any]:
    try:
        loaded = yaml.safe_load(path.read_text())
    except FileNotFoundError:
        if required:
            raise KubeconfigError(f"{path}: no such kubeconfig") from None
        return {}  # kubectl passes over a missing file in $KUBECONFIG, and a missing ~/.kube/config
    except (OSError, yaml.YAMLError) as e:
        raise KubeconfigError(f"{path}: cannot read the kubeconfig: {e.__class__.__name__}") from None
    return loaded if isinstance(loaded, dict) else {}


@dataclass(frozen=True)
class ApiServerAccess:
    """How kubectl would reach the API server: its URL, the CA to verify it with, and the user's credentials
    (a bearer token, or a client certificate). Files as the kubeconfig names them; inline data written to
    private files that are removed when the command exits."""

    server: str
    verify: str | bool = True
    token: str | None = None
    cert: tuple[str, str] | None = None


def api_server_access(kubeconfig: str | None = None, context: str | None = None) -> ApiServerAccess:
    """The current (or named) context's cluster and user, as client-go reads them: `certificate-authority`
    (-data), `insecure-skip-tls-verify`, `token`, `tokenFile`, `client-certificate`/`client-key` (-data), and
    an `exec` credential plugin's token or certificate."""
    documents = _documents(kubeconfig)
    wanted = context or next((d["current-context"] for d in documents if d.get("current-context")), None)
    if not wanted:
        raise KubeconfigError("no current context in the kubeconfig: give --context, or --gateway URL")
    entry = _named(documents, "contexts", wanted, "context")
    cluster = _named(documents, "clusters", str(entry.get("cluster", "")), "cluster")
    user = _named(documents, "users", str(entry.get("user", "")), "user") if entry.get("user") else {}
    server = str(cluster.get("server") or "").rstrip("/")
    if not server:
        raise KubeconfigError(f'cluster "{entry.get("cluster")}" has no server')
    verify: str | bool = not cluster.get("insecure-skip-tls-verify", False)
    if verify:
        verify = _file(cluster, "certificate-authority") or True
    token = user.get("token") or None
    if not token and user.get("tokenFile"):
        try:
            token = Path(str(user["tokenFile"])).read_text().strip()
        except OSError as e:
            raise KubeconfigError(f"the kubeconfig's tokenFile cannot be read: {e}") from None
    cert_file, key_file = _file(user, "client-certificate"), _file(user, "client-key")
    if user.get("exec"):
        token, exec_cert = _exec_credential(user["exec"])
        cert_file, key_file = exec_cert or (cert_file, key_file)
    if user.get("auth-provider"):
        name = (user["auth-provider"] or {}).get("name")
        raise KubeconfigError(f"the kubeconfig's auth-provider {name!r} is not supported: use a token or exec plugin")
    cert = (cert_file, key_file) if cert_file and key_file else None
    return ApiServerAccess(server, verify, str(token) if token else None, cert)


def _documents(kubeconfig: str | None) -> list[dict[str, Any]]:
    if kubeconfig:
        return [_load(Path(kubeconfig), required=True)]
    found = [Path(p) for p in os.environ.get("KUBECONFIG", "").split(os.pathsep) if p]
    return [_load(path, required=False) for path in found or [Path.home() / ".kube" / "config"]]


def _named(documents: list[dict[str, Any]], section: str, name: str, field: str) -> dict[str, Any]:
    for document in documents:
        for entry in document.get(section) or []:
            if isinstance(entry, dict) and entry.get("name") == name and isinstance(entry.get(field), dict):
                return dict(entry[field])
    raise KubeconfigError(f'{field} "{name}" does not exist in the kubeconfig')


def _file(section: dict[str, Any], key: str) -> str | None:
    """The file the kubeconfig names for `key`, or its `key-data` (base64) written to a private file."""
    if section.get(f"{key}-data"):
        return _private_file(base64.b64decode(str(section[f"{key}-data"])))
    return str(section[key]) if section.get(key) else None


def _private_file(data: bytes) -> str:
    descriptor, path = tempfile.mkstemp(prefix="kubevirt-gateway-", suffix=".pem")  # mode 0600
    with os.fdopen(descriptor, "wb") as f:
        f.write(data)
    atexit.register(lambda: Path(path).unlink(missing_ok=True))
    return path


def _exec_credential(spec: dict[str, Any]) -> tuple[str | None, tuple[str, str] | None]:
    """Run an exec credential plugin as client-go does, and take its token or client certificate."""
    api_version = str(spec.get("apiVersion") or "client.authentication.k8s.io/v1")
    info = {"apiVersion": api_version, "kind": "ExecCredential", "spec": {"interactive": False}}
    env = {**os.environ, "KUBERNETES_EXEC_INFO": json.dumps(info)}
    env.update({str(e["name"]): str(e["value"]) for e in spec.get("env") or [] if isinstance(e, dict)})
    command = [str(spec.get("command") or ""), *map(str, spec.get("args") or [])]
    try:
        done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60, check=False)
    except (OSError, subprocess.TimeoutExpired) as e:
        raise KubeconfigError(f"the kubeconfig's exec plugin {command[0]!r} did not run: {e}") from None
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or [""])[-1]
        raise KubeconfigError(f"the kubeconfig's exec plugin {command[0]!r} failed ({done.returncode}): {last}")
    try:
        status = json.loads(done.stdout).get("status") or {}
    except (ValueError, AttributeError):
        raise KubeconfigError(f"the kubeconfig's exec plugin {command[0]!r} printed no ExecCredential") from None
    if status.get("clientCertificateData") and status.get("clientKeyData"):
        cert = _private_file(str(status["clientCertificateData"]).encode())
        key = _private_file(str(status["clientKeyData"]).encode())
        return status.get("token"), (cert, key)
    return status.get("token"), None
