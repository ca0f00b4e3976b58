"""The namespace kubectl would use when `-n` is not given: the current context's, from the kubeconfig
kubectl would read (`--kubeconfig`, else each file of `$KUBECONFIG`, else `~/.kube/config`).

Only `current-context` and the contexts' namespaces are read, with PyYAML: the Kubernetes client
would load credentials the command line does not use for this (and only `gateway.store.kube` may
import it; `--aggregated`'s credentials are read there, by the client's own loader).
As client-go merges `$KUBECONFIG`'s files, the first file that sets a value wins.
"""

from __future__ import annotations

import os
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
