"""Kubeconfig files, as kubectl and the official client read them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def write_kubeconfig(path: Any, server: str, token: str, ca_file: str | None = None) -> str:
    cluster: dict[str, Any] = {"server": server}
    if ca_file:
        cluster["certificate-authority"] = ca_file
    config = {
        "apiVersion": "v1", "kind": "Config", "current-context": "test",
        "clusters": [{"name": "test", "cluster": cluster}],
        "users": [{"name": "tester", "user": {"token": token}}],
        "contexts": [{"name": "test", "context": {"cluster": "test", "user": "tester"}}],
    }  # fmt: skip
    Path(path).write_text(json.dumps(config))
    return str(path)
