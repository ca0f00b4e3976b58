"""`-o jsonpath=TEMPLATE` in kubectl's dialect (k8s.io/client-go/util/jsonpath): text with
`{expression}` parts, `{range EXPR}...{end}` loops and `{"\\n"}` literals; several results of one
expression are joined by a space; strings print as themselves, anything else as JSON.

The expressions themselves are `gateway.jsonpath`'s, shared with the catalogue's declared links
(jsonpath-ng's extended parser: filters such as `[?(@.type=="Ready")]`, kubectl's `\\.` inside a key).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from gateway.jsonpath import JsonPathError, compile_path


class TemplateError(Exception):
    """The template is not kubectl's JSONPath."""


@dataclass
class _Node:
    text: str | None = None  # a literal
    expression: str | None = None  # `{...}`
    loop: bool = False  # `{range ...}` ... `{end}`
    body: list[_Node] = field(default_factory=list)


def render_template(template: str, document: Any, escape: Callable[[str], str] = str) -> str:
    """What the template makes of `document`; each value found goes through `escape` (literals do not:
    `{"\\t"}` is the tab the user asked for)."""
    root: list[_Node] = []
    stack = [root]
    for literal, expression in _pieces(template):
        if literal:
            stack[-1].append(_Node(text=literal))
        if expression is None:
            continue
        if expression.startswith("range "):
            node = _Node(expression=expression[len("range ") :].strip(), loop=True)
            stack[-1].append(node)
            stack.append(node.body)
        elif expression == "end":
            if len(stack) == 1:
                raise TemplateError("{end} without a {range}")
            stack.pop()
        else:
            stack[-1].append(_Node(expression=expression))
    if len(stack) > 1:
        raise TemplateError("{range} without an {end}")
    return _run(root, document, document, escape)


def _pieces(template: str) -> list[tuple[str, str | None]]:
    """(literal text, expression or None) pairs; quoted strings inside braces may hold braces."""
    found, position = [], 0
    for match in re.finditer(r"\{((?:\"(?:[^\"\\]|\\.)*\"|'[^']*'|[^{}\"'])*)\}", template):
        found.append((template[position : match.start()], match[1].strip()))
        position = match.end()
    rest = template[position:]
    if "{" in rest or "}" in rest:
        raise TemplateError(f"unclosed brace in {template!r}")
    found.append((rest, None))
    return found


def _run(nodes: list[_Node], document: Any, root: Any, escape: Callable[[str], str]) -> str:
    out = []
    for node in nodes:
        if node.text is not None:
            out.append(node.text)
        elif node.loop:
            for item in _find(node.expression or "", document, root):
                out.append(_run(node.body, item, root, escape))
        elif _is_literal(node.expression or ""):
            try:
                out.append(json.loads(node.expression or "", strict=False))  # `{"\n"}`, with JSON's escapes
            except ValueError as e:
                raise TemplateError(f"{node.expression}: {e}") from None
        else:
            out.append(" ".join(escape(_show(value)) for value in _find(node.expression or "", document, root)))
    return "".join(out)


def _find(expression: str, document: Any, root: Any) -> list[Any]:
    if expression in ("", "@", "."):
        return [document]
    start, path = (root, expression[1:]) if expression.startswith("$") else (document, expression)
    try:
        return compile_path(path).find(start)
    except JsonPathError as e:
        raise TemplateError(f"{expression!r}: {e}") from None


def _is_literal(expression: str) -> bool:
    return len(expression) >= 2 and expression[0] == expression[-1] == '"'


def _show(value: Any) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value, separators=(",", ":"))
