"""Object graphs drawn one node a line, `Kind namespace/name dependency-type [optional] [missing]`,
children indented: what the graph tests compare."""

from __future__ import annotations

from typing import Any


def lines(node: dict[str, Any], depth: int = 0) -> list[str]:
    ref, labels = node["objectReference"], node["labels"]
    flags = (" optional" if node.get("optional") else "") + (
        " missing" if labels.get("kubevirt-gateway.io/missing") == "true" else ""
    )
    own = f"{'  ' * depth}{ref['kind']} {ref['namespace']}/{ref['name']} {labels['kubevirt.io/dependency-type']}{flags}"
    return [own] + [line for child in node.get("children", []) for line in lines(child, depth + 1)]


def below(root: dict[str, Any]) -> list[str]:
    """The root's descendants, its children at the left margin."""
    return [line for child in root.get("children", []) for line in lines(child)]
