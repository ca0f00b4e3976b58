"""The emulator's own label-selector parser: written apart from the gateway's on purpose, so a bug
in one is not copied into the test oracle. apimachinery's syntax: `a=b`, `a==b`, `a!=b`,
`a in (x,y)`, `a notin (x)`, `a`, `!a`, joined by commas."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping

Matcher = Callable[[Mapping[str, str]], bool]
_TERM = re.compile(
    r"^\s*(?:(?P<not>!)\s*(?P<absent>[\w./-]+)"
    r"|(?P<key>[\w./-]+)\s*(?:(?P<op>==|!=|=)\s*(?P<value>[\w.-]*)"
    r"|\s+(?P<set>in|notin)\s*\((?P<values>[^)]*)\))?)\s*$"
)


class SelectorError(ValueError):
    pass


def split_terms(text: str) -> list[str]:
    """Commas separate terms, except inside a set's parentheses."""
    terms, depth, current = [], 0, ""
    for char in text:
        depth += {"(": 1, ")": -1}.get(char, 0)
        if char == "," and depth == 0:
            terms.append(current)
            current = ""
        else:
            current += char
    return [*terms, current] if text.strip() else []


def parse_selector(text: str) -> Matcher:
    checks: list[Matcher] = []
    for term in split_terms(text):
        found = _TERM.match(term)
        if found is None:
            raise SelectorError(f"unable to parse requirement: {term.strip()!r}")
        if found["absent"]:
            checks.append(lambda labels, k=found["absent"]: k not in labels)
        elif found["op"]:
            key, value, negated = found["key"], found["value"], found["op"] == "!="
            checks.append(lambda labels, k=key, v=value, n=negated: (labels.get(k) == v) != n)
        elif found["set"]:
            key, values = found["key"], {v.strip() for v in found["values"].split(",") if v.strip()}
            inside = found["set"] == "in"
            checks.append(
                lambda labels, k=key, vs=values, i=inside: (labels.get(k) in vs) if i else labels.get(k) not in vs
            )
        else:
            checks.append(lambda labels, k=found["key"]: k in labels)
    return lambda labels: all(check(labels) for check in checks)
