"""Helpers to read embedded entities out of a response document."""

from __future__ import annotations

from typing import Any


def embedded(doc: Any, path: str) -> list[dict[str, Any]]:
    """Everything a dotted follow path embedded under `doc`, lists flattened."""
    level = [doc]
    for rel in path.split("."):
        nxt: list[Any] = []
        for item in level:
            value = item.get(rel) if isinstance(item, dict) else None
            if isinstance(value, list):
                nxt.extend(value)
            elif value is not None:
                nxt.append(value)
        level = nxt
    return level


def kinds_and_names(entities: list[dict[str, Any]]) -> set[tuple[str, str]]:
    """(kind, name) of entities, missing markers, sub-entities, and object graphs (their root)."""
    pairs = set()
    for e in entities:
        ref = e.get("objectReference")
        if ref is not None:
            pairs.add((ref["kind"], ref["name"]))
        else:
            pairs.add((e["kind"], e.get("name") or e.get("metadata", {}).get("name")))
    return pairs
