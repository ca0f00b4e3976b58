"""Kubernetes object-name rules: a name or namespace is checked before anything is read.

The API server validates names per kind (apimachinery's `ValidateObjectMeta`): most kinds
take a DNS-1123 subdomain, namespaces a DNS-1123 label, Services a DNS-1035 label. A name
that passes contains only `[a-z0-9.-]`, so it can never become a query (`?`), another path
(`/`, `..`) or a fragment (`#`) when pasted into an API path. Pure.
"""

from __future__ import annotations

import re
from typing import Literal

NameRule = Literal["subdomain", "label", "dns1035"]

_LABEL = r"[a-z0-9]([-a-z0-9]*[a-z0-9])?"
_PATTERNS: dict[NameRule, tuple[re.Pattern[str], int, str]] = {
    "subdomain": (
        re.compile(rf"{_LABEL}(\.{_LABEL})*"),
        253,
        "lowercase letters, digits, '-' and '.', starting and ending with a letter or digit",
    ),
    "label": (re.compile(_LABEL), 63, "lowercase letters, digits and '-', starting and ending with a letter or digit"),
    "dns1035": (
        re.compile(r"[a-z]([-a-z0-9]*[a-z0-9])?"),
        63,
        "lowercase letters, digits and '-', starting with a letter and ending with a letter or digit",
    ),
}


def name_problem(value: str, rule: NameRule) -> str | None:
    """Why `value` is not a valid name under `rule`, or None when it is."""
    pattern, longest, allowed = _PATTERNS[rule]
    if not value:
        return "must not be empty"
    if len(value) > longest:
        return f"must be at most {longest} characters, not {len(value)}"
    if pattern.fullmatch(value) is None:
        return f"must consist of {allowed}"
    return None
