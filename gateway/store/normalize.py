"""What every store does to an object before keeping it: strip and redact.

Secret contents are removed here, at ingestion, so no later code path (a response, a
log line, an error message) can ever carry them: the gateway never holds them.
"""

from __future__ import annotations

from typing import Any

from gateway.catalog import Object

LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"


def normalize(obj: Object) -> Object:
    """The object as served: no managedFields; a Secret with `dataKeys` instead of data."""
    metadata = obj.get("metadata")
    if isinstance(metadata, dict) and "managedFields" in metadata:
        metadata = {k: v for k, v in metadata.items() if k != "managedFields"}
        obj = {**obj, "metadata": metadata}
    if obj.get("kind") == "Secret":
        obj = redact_secret(obj)
    return obj


def redact_secret(secret: Object) -> Object:
    keys: set[str] = set()
    for field in ("data", "stringData"):
        value = secret.get(field)
        if isinstance(value, dict):
            keys.update(str(k) for k in value)
    redacted: dict[str, Any] = {k: v for k, v in secret.items() if k not in ("data", "stringData")}
    metadata = redacted.get("metadata")
    if isinstance(metadata, dict):
        annotations = metadata.get("annotations")
        if isinstance(annotations, dict) and LAST_APPLIED in annotations:
            annotations = {k: v for k, v in annotations.items() if k != LAST_APPLIED}
            redacted["metadata"] = {**metadata, "annotations": annotations}
    redacted["dataKeys"] = sorted(keys)
    return redacted
