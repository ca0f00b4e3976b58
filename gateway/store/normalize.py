"""What every store does to an object before keeping it: strip and redact.

Secret contents are removed here, at ingestion, so no later code path (a response, a
log line, an error message) can ever carry them: the gateway never holds them.
"""

from __future__ import annotations

from typing import Any

from gateway.catalog import Object

LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"


def problems(obj: Object) -> list[str]:
    """What is wrongly typed in an object's metadata: such fields are dropped, and counted."""
    metadata = obj.get("metadata")
    if not isinstance(metadata, dict):
        return ["metadata is not a map"]
    found = [
        f"metadata.{f} is not a map" for f in ("labels", "annotations") if not isinstance(metadata.get(f, {}), dict)
    ]
    if not isinstance(metadata.get("ownerReferences", []), list):
        found.append("metadata.ownerReferences is not a list")
    if not isinstance(metadata.get("name"), str) or not metadata.get("name"):
        found.append("metadata.name is missing")
    return found


def normalize(obj: Object) -> Object:
    """The object as served: no managedFields, no wrongly typed metadata maps; a Secret with
    `dataKeys` instead of data."""
    metadata = obj.get("metadata")
    if isinstance(metadata, dict):
        dropped = {"managedFields"} | {
            f for f, kind in (("labels", dict), ("annotations", dict), ("ownerReferences", list))
            if f in metadata and not isinstance(metadata[f], kind)
        }  # fmt: skip
        if dropped & metadata.keys():
            obj = {**obj, "metadata": {k: v for k, v in metadata.items() if k not in dropped}}
    if obj.get("kind") == "Secret":
        obj = redact_secret(obj)
    return obj


def redact_answer(doc: Object, *, secrets: bool = False) -> Object:
    """Any API answer with its Secrets redacted: a Secret, a list of them (whose items carry no
    kind), or a mixed `List`. `secrets`: the answer came from a Secrets path, whatever it says it is."""
    kind = doc.get("kind")
    items = doc.get("items")
    if isinstance(items, list):
        all_secrets = secrets or kind == "SecretList"
        redacted = [
            redact_secret(i) if isinstance(i, dict) and (all_secrets or i.get("kind") == "Secret") else i for i in items
        ]
        return {**doc, "items": redacted}
    if secrets or kind == "Secret":
        return redact_secret(doc)
    return doc


def redact_secret(secret: Object) -> Object:
    # idempotent: the adapter redacts every answer, and every store normalizes what it keeps
    previous = secret.get("dataKeys")
    keys: set[str] = {str(k) for k in previous} if isinstance(previous, list) else set()
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
