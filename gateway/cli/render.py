"""What `get` and `graph` print: JSON, YAML, and trees drawn as `kubectl tree` draws them
(the DOT writer is the object graph's own, `gateway.graph.objectgraph.to_dot`).

Whatever comes from the cluster reaches the terminal with its control characters escaped
(`visible`): an annotation or a reference name may hold an escape sequence that retitles the
window, clears the screen or rewrites a line. JSON is written ASCII-only.
"""

from __future__ import annotations

import json
from typing import Any

import yaml

from gateway.catalog.names import UNPRINTABLE, visible


def render(document: Any, output: str) -> str:
    if output == "json":
        return json.dumps(document, indent=2) + "\n"
    if output == "tree":
        return render_entity_tree(document)
    return str(yaml.dump(document, Dumper=_Dumper, sort_keys=False, allow_unicode=True))


class _Dumper(yaml.SafeDumper):
    """YAML with unicode written as itself, except UNPRINTABLE characters: PyYAML escapes C0 and C1
    controls but writes U+0085, U+2028, U+2029 and the bidirectional controls raw. A string holding
    one is written double-quoted, with everything outside ASCII escaped."""

    def analyze_scalar(self, scalar: str) -> Any:
        analysis = super().analyze_scalar(scalar)
        if UNPRINTABLE.search(scalar):
            analysis.allow_flow_plain = analysis.allow_block_plain = False
            analysis.allow_single_quoted = analysis.allow_block = False
        return analysis

    def write_double_quoted(self, text: str, split: bool = True) -> None:
        if not UNPRINTABLE.search(text):
            return super().write_double_quoted(text, split)
        unicode, self.allow_unicode = self.allow_unicode, False
        try:
            super().write_double_quoted(text, split)
        finally:
            self.allow_unicode = unicode


def render_tree(graph: dict[str, Any]) -> str:
    """An object graph as `kubectl tree` draws an ownership tree."""
    rows: list[tuple[str, str, str]] = []

    def walk(node: dict[str, Any], prefix: str, branch: str) -> None:
        ref, labels = node["objectReference"], node.get("labels", {})
        notes = [labels.get("kubevirt.io/dependency-type", "")]
        if node.get("optional"):
            notes.append("optional")
        if labels.get("kubevirt-gateway.io/missing") == "true":
            notes.append("MISSING")
        name = visible(f"{ref['kind']}/{ref['name']}")
        rows.append((visible(ref.get("namespace", "")), f"{prefix}{branch}{name}", visible(" ".join(notes))))
        children = node.get("children", [])
        for i, child in enumerate(children):
            last = i == len(children) - 1
            deeper = prefix + ("" if not branch else ("  " if branch == "└─" else "│ "))
            walk(child, deeper, "└─" if last else "├─")

    walk(graph, "", "")
    widths = [max(len(r[i]) for r in [("NAMESPACE", "NAME", "DEPENDENCY"), *rows]) for i in range(2)]
    lines = [f"{'NAMESPACE':<{widths[0]}}  {'NAME':<{widths[1]}}  DEPENDENCY"]
    lines += [f"{ns:<{widths[0]}}  {name:<{widths[1]}}  {note}" for ns, name, note in rows]
    return "\n".join(line.rstrip() for line in lines) + "\n"


def render_entity_tree(doc: dict[str, Any]) -> str:
    """An entity with what follow embedded, as a tree: `rel: Kind namespace/name`, missing ones marked."""
    lines: list[str] = []

    def title(entity: dict[str, Any]) -> str:
        if entity.get("missing"):
            href = str(entity.get("href", ""))  # a marker's namespace is in its href: /namespaces/NS/...
            parts = href.split("/")
            where = f"{parts[2]}/" if href.startswith("/namespaces/") and len(parts) > 2 else ""
            return visible(f"{entity.get('kind')} {where}{entity.get('name')} ({entity.get('reason')})")
        meta = entity.get("metadata") or {}
        name = meta.get("name") or entity.get("name", "")
        where = f"{meta['namespace']}/" if meta.get("namespace") else ""
        return visible(f"{entity.get('kind')} {where}{name}")

    def walk(entity: dict[str, Any], prefix: str) -> None:
        embedded = [(rel, entity[rel]) for rel in entity.get("links", {}) if rel in entity]
        items = [(rel, item) for rel, value in embedded for item in (value if isinstance(value, list) else [value])]
        for i, (rel, item) in enumerate(items):
            last = i == len(items) - 1
            if isinstance(item, dict) and "objectReference" in item:
                lines.append(
                    f"{prefix}{'└─' if last else '├─'}{rel}: (object graph, {len(item.get('children', []))} nodes)"
                )
                continue
            lines.append(f"{prefix}{'└─' if last else '├─'}{rel}: {title(item)}")
            walk(item, prefix + ("  " if last else "│ "))

    if doc.get("kind", "").endswith("List") and "items" in doc:
        for item in doc["items"]:
            lines.append(title(item))
            walk(item, "")
    else:
        lines.append(title(doc))
        walk(doc, "")
    return "\n".join(lines) + "\n"
