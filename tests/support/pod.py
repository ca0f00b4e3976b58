"""deploy/ as kustomize renders it, and its Deployment's container run as the kubelet would run it.

No container runtime is needed: bubblewrap (Debian's `bubblewrap`, which `make test` installs) binds the
machine's root read-only, mounts a writable tmpfs only where the pod mounts an emptyDir, binds the
service-account token and CA where the kubelet projects them, and `setpriv` drops to the pod's uid
with no capabilities and no new privileges. The repository and its .venv stand in for the image's /app
and site-packages: the Dockerfile copies gunicorn.conf.py and wsgi.py, and installs the same package.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

from tests.support.apiserver import kube_bin
from tests.support.processes import ROOT

BWRAP = shutil.which("bwrap")
SERVICE_ACCOUNT = "/var/run/secrets/kubernetes.io/serviceaccount"  # where the kubelet projects the token


def deploy_objects(directory: Path = ROOT / "deploy") -> list[dict[str, Any]]:
    """What `kubectl apply -k deploy/` sends: the kustomization rendered by the suite's kubectl."""
    done = subprocess.run([str(kube_bin() / "kubectl"), "kustomize", str(directory)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return [d for d in yaml.safe_load_all(done.stdout) if d]


def dockerfile() -> dict[str, list[str]]:
    """The Dockerfile's instructions: name -> the argument of each occurrence."""
    instructions: dict[str, list[str]] = {}
    lines = [line for line in (ROOT / "Dockerfile").read_text().splitlines() if not line.lstrip().startswith("#")]
    for line in "\n".join(lines).replace("\\\n", " ").splitlines():  # a trailing backslash continues a line
        if line.strip():
            name, _, argument = line.strip().partition(" ")
            instructions.setdefault(name.upper(), []).append(argument.strip())
    return instructions


def image_env() -> dict[str, str]:
    """The image's environment: python:3.11-slim's PATH (the .venv's bin first) and the Dockerfile's ENV."""
    env = {"PATH": f"{Path(sys.executable).parent}:/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8"}
    for argument in dockerfile().get("ENV", []):
        name, _, value = argument.partition("=")
        env[name] = value
    return env


def _reach(path: Path, ops: list[str], masked: set[Path]) -> None:
    """Make `path` readable for any uid in the sandbox. A directory above it that others may not enter
    (pyenv's Python under /root) is covered by a read-only tmpfs holding only `path`, bound back in: the
    image installs Python where everyone can read it."""
    path = path.resolve()
    closed = next((p for p in reversed(path.parents) if p != Path("/") and not os.stat(p).st_mode & 0o001), None)
    if closed is None:
        return
    if closed not in masked:
        masked.add(closed)
        ops += ["--perms", "0755", "--tmpfs", str(closed)]
    _bind_back(path, closed, ops)


def _bind_back(path: Path, over: Path, ops: list[str], source: Path | None = None) -> None:
    """Bind `source` (`path` itself by default) read-only at `path`, under a mount at `over`, the directories
    in between open to all."""
    for parent in reversed(path.relative_to(over).parents):
        if parent != Path("."):
            ops += ["--perms", "0755", "--dir", str(over / parent)]
    ops += ["--ro-bind", str(source or path), str(path)]


def _projected(source: Path, target: str, ops: list[str]) -> None:
    """Bind `source` at `target` read-only, as the kubelet mounts a projected volume; the mount point is made
    on a read-only tmpfs over the deepest directory that exists (a runtime makes it in the image's root)."""
    resolved = Path(os.path.realpath(target))
    anchor = next(p for p in resolved.parents if p.exists())
    ops += ["--perms", "0755", "--tmpfs", str(anchor)]
    _bind_back(resolved, anchor, ops, source)
    ops += ["--remount-ro", str(anchor)]


def sandbox(pod: dict[str, Any], container: dict[str, Any], service_account: Path) -> list[str]:
    """The bwrap and setpriv argv that runs `container` of `pod` (a pod template's spec) as the kubelet would."""
    assert BWRAP, "bubblewrap runs the pod's container here: `make test` installs it (Debian's bubblewrap)"
    security = {**pod.get("securityContext", {}), **container.get("securityContext", {})}
    ops = [BWRAP, "--die-with-parent", "--unshare-pid", "--unshare-ipc", "--unshare-uts"]
    ops += ["--ro-bind" if security.get("readOnlyRootFilesystem") else "--bind", "/", "/"]
    ops += ["--dev", "/dev", "--proc", "/proc"]
    masked: set[Path] = set()
    needed = [Path(p).resolve() for p in (sys.base_prefix, sys.prefix, ROOT)]  # Python, the .venv, /app
    for path in needed:
        _reach(path, ops, masked)
    for closed in masked:
        ops += ["--remount-ro", str(closed)]
    volumes = {v["name"]: v for v in pod.get("volumes", [])}
    for mount in container.get("volumeMounts", []):
        assert "emptyDir" in volumes[mount["name"]], f"only emptyDir volumes are run here: {mount}"
        ops += ["--perms", "0777", "--tmpfs", mount["mountPath"]]  # the kubelet makes an emptyDir 0777
        # a checkout under /tmp: the image's files are not in its volumes, so they are bound back, read-only
        for path in (p for p in needed if p.is_relative_to(mount["mountPath"])):
            _bind_back(path, Path(mount["mountPath"]), ops)
    _projected(service_account, SERVICE_ACCOUNT, ops)
    ops += ["--chdir", str(ROOT), "--"]
    uid, gid = security["runAsUser"], security.get("runAsGroup", security["runAsUser"])
    assert uid != 0 or not security.get("runAsNonRoot"), "runAsNonRoot with uid 0"
    setpriv = ["setpriv", f"--reuid={uid}", f"--regid={gid}", "--clear-groups", "--inh-caps=-all"]
    if "ALL" in security.get("capabilities", {}).get("drop", []):
        setpriv.append("--bounding-set=-all")
    if security.get("allowPrivilegeEscalation") is False:
        setpriv.append("--no-new-privs")
    return ops + setpriv + ["--"]


def service_account_volume(directory: Path, token: str, ca_file: str, namespace: str) -> Path:
    """The files the kubelet projects for a pod's ServiceAccount, readable by the pod's uid (mode 0644)."""
    directory.mkdir(mode=0o755)
    for name, text in (("token", token), ("ca.crt", Path(ca_file).read_text()), ("namespace", namespace)):
        (directory / name).write_text(text)
        (directory / name).chmod(0o644)
    return directory
