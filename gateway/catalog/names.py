"""Kubernetes object-name rules: a name or namespace is checked before anything is read.

The API server validates names per kind (apimachinery's `ValidateObjectMeta`): most kinds
take a DNS-1123 subdomain, namespaces a DNS-1123 label, Services a DNS-1035 label. A name
that passes contains only `[a-z0-9.-]`, so it can never become a query (`?`), another path
(`/`, `..`) or a fragment (`#`) when pasted into an API path. The API server checks no name in a
reference (a volume's `claimName`), so such a name may hold any character: `visible` writes the
ones a terminal, a drawing or an event stream would act on as escapes. Pure.
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


UNPRINTABLE = re.compile(r"[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
"""What must not reach a terminal or a drawing raw: C0 and C1 controls and DEL (escape sequences, a
carriage return that rewrites a line), the line and paragraph separators, and the bidirectional
marks, embeddings, overrides and isolates that reorder what is shown."""
_SHORT = {"\t": r"\t", "\n": r"\n", "\r": r"\r"}


def visible(text: str) -> str:
    r"""`text` with each UNPRINTABLE character written as a repr writes it: `\r`, `\x1b`, `\u202e`."""
    return UNPRINTABLE.sub(_escape, text)


def _escape(found: re.Match[str]) -> str:
    code = ord(found[0])
    return _SHORT.get(found[0]) or (f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}")
