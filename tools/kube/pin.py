"""Write tools/kube's go.mod files for one Kubernetes release.

k8s.io/kubernetes is built as a dependency, and its go.mod points every
staging module (k8s.io/api, k8s.io/client-go, ...) at ./staging, which a
dependency cannot use. So each staging module gets a replace with its
published version (Kubernetes v1.X.Y publishes them as v0.X.Y). The list of
staging modules is read from that release's own go.mod in the module cache,
never typed by hand, so a new release cannot leave one out.

    python3 tools/kube/pin.py v1.37.2 v3.7.3
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
STAGING = re.compile(r"^\s*(k8s\.io/[\w.-]+)\s*=>\s*\./staging/src/\1\s*$", re.M)


def go(*args: str, cwd: Path = HERE) -> str:
    # this project's machines keep Go in /usr/local/go, which a fresh shell may not have on PATH
    command = shutil.which("go") or "/usr/local/go/bin/go"
    return subprocess.run([command, *args], cwd=cwd, check=True, capture_output=True, text=True).stdout


def pinned() -> tuple[str, dict[str, str]]:
    """The Kubernetes version go.mod requires, and its replaces: module -> version."""
    text = (HERE / "go.mod").read_text()
    version = re.search(r"^\tk8s\.io/kubernetes (v\S+)$", text, re.M)
    if version is None:
        raise ValueError("tools/kube/go.mod requires no k8s.io/kubernetes")
    replaces = dict(re.findall(r"^(?:replace )?\t?(k8s\.io/\S+) => \1 (v\S+)$", text, re.M))
    return version.group(1), replaces


def staging_modules(kubernetes: str) -> list[str]:
    """The staging modules k8s.io/kubernetes@version replaces with ./staging."""
    info = json.loads(go("mod", "download", "-json", f"k8s.io/kubernetes@{kubernetes}"))
    return sorted(STAGING.findall(Path(info["GoMod"]).read_text()))


def staging_version(kubernetes: str) -> str:
    _, minor, patch = kubernetes.removeprefix("v").split(".")
    return f"v0.{minor}.{patch}"


def pin_kube(kubernetes: str) -> None:
    module = HERE / "go.mod"
    module.write_text(f"module kubevirt-gateway/tools/kube\n\ngo 1.26\n\nrequire k8s.io/kubernetes {kubernetes}\n")
    staged = staging_version(kubernetes)
    replaces = [f"-replace={name}={name}@{staged}" for name in staging_modules(kubernetes)]
    go("mod", "edit", *replaces)
    go("mod", "tidy")


def pin_etcd(etcd: str) -> None:
    folder = HERE / "etcd"
    (folder / "go.mod").write_text(
        f"module kubevirt-gateway/tools/kube/etcd\n\ngo 1.26\n\nrequire go.etcd.io/etcd/server/v3 {etcd}\n"
    )
    go("mod", "tidy", cwd=folder)


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit("usage: pin.py KUBERNETES_VERSION ETCD_VERSION   (for example v1.37.2 v3.7.3)")
    pin_kube(sys.argv[1])
    pin_etcd(sys.argv[2])
