"""Kubernetes label selectors: the `kubectl -l` syntax and `matchLabels`/`matchExpressions`.

Pure: no I/O. Used by collections (`?labelSelector=`), by catalogue links that find
objects by label, and by the stores' label index.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


class SelectorError(ValueError):
    """A label selector that does not parse."""


# Label keys and values as Kubernetes validates them, loosely enough to accept what a
# real API server accepts (prefix/name keys, empty values).
_KEY = r"(?:[A-Za-z0-9][-A-Za-z0-9_.]*/)?[A-Za-z0-9](?:[-A-Za-z0-9_.]*[A-Za-z0-9])?"
_VALUE = r"(?:[A-Za-z0-9](?:[-A-Za-z0-9_.]*[A-Za-z0-9])?)?"
_TOKEN = re.compile(rf"\s*(?:(?P<op>==|!=|=|\bnotin\b|\bin\b|!|\(|\)|,)|(?P<word>{_KEY}))\s*")


@dataclass(frozen=True, slots=True)
class Requirement:
    key: str
    operator: str  # =, !=, in, notin, exists, or ! (does not exist)
    values: frozenset[str] = frozenset()

    def matches(self, labels: Mapping[str, str]) -> bool:
        present = self.key in labels
        if self.operator == "exists":
            return present
        if self.operator == "!":
            return not present
        if self.operator in ("=", "in"):
            return present and labels[self.key] in self.values
        # "!=" and "notin" match objects without the key, as Kubernetes does
        return not present or labels[self.key] not in self.values


@dataclass(frozen=True, slots=True)
class LabelSelector:
    requirements: tuple[Requirement, ...] = ()

    def matches(self, labels: Mapping[str, str] | None) -> bool:
        labels = labels if isinstance(labels, Mapping) else {}
        return all(r.matches(labels) for r in self.requirements)

    def equalities(self) -> dict[str, str]:
        """The `key=value` requirements: what a label index can answer directly."""
        return {
            r.key: next(iter(r.values)) for r in self.requirements if r.operator in ("=", "in") and len(r.values) == 1
        }

    def __bool__(self) -> bool:
        return bool(self.requirements)

    def __str__(self) -> str:
        return ",".join(_render(r) for r in self.requirements)

    @classmethod
    def from_labels(cls, labels: Mapping[str, str]) -> LabelSelector:
        return cls(tuple(Requirement(k, "=", frozenset([v])) for k, v in sorted(labels.items())))


def _render(r: Requirement) -> str:
    if r.operator == "exists":
        return r.key
    if r.operator == "!":
        return f"!{r.key}"
    if r.operator in ("=", "!="):
        return f"{r.key}{r.operator}{next(iter(r.values))}"
    return f"{r.key} {r.operator} ({','.join(sorted(r.values))})"


def parse_selector(text: str) -> LabelSelector:
    """Parse `kubectl -l` syntax: `a=b,c!=d,e in (f,g),h notin (i),j,!k`."""
    tokens = _tokenize(text)
    requirements: list[Requirement] = []
    pos = 0

    def take() -> str:
        nonlocal pos
        if pos >= len(tokens):
            raise SelectorError(f"invalid label selector {text!r}: unexpected end")
        pos += 1
        return tokens[pos - 1]

    while pos < len(tokens):
        token = take()
        if token == "!":
            requirements.append(Requirement(_key(take(), text), "!"))
        else:
            key = _key(token, text)
            op = tokens[pos] if pos < len(tokens) else ","
            if op == ",":
                requirements.append(Requirement(key, "exists"))
            elif op in ("=", "==", "!="):
                pos += 1
                value = tokens[pos] if pos < len(tokens) and tokens[pos] != "," else ""
                if value:
                    pos += 1
                _value(value, text)
                requirements.append(Requirement(key, "!=" if op == "!=" else "=", frozenset([value])))
            elif op in ("in", "notin"):
                pos += 1
                if take() != "(":
                    raise SelectorError(f"invalid label selector {text!r}: expected '(' after {op}")
                values: set[str] = set()
                while True:
                    item = take()
                    if item == ")":
                        break
                    if item == ",":
                        continue
                    values.add(_value(item, text))
                if not values:
                    raise SelectorError(f"invalid label selector {text!r}: empty value set")
                requirements.append(Requirement(key, op, frozenset(values)))
            else:
                raise SelectorError(f"invalid label selector {text!r}: unexpected {op!r}")
        if pos < len(tokens):
            if tokens[pos] != ",":
                raise SelectorError(f"invalid label selector {text!r}: expected ','")
            pos += 1
            if pos == len(tokens):
                raise SelectorError(f"invalid label selector {text!r}: trailing ','")
    return LabelSelector(tuple(requirements))


def selector_from_object(spec: Any) -> LabelSelector:
    """A metav1.LabelSelector (`matchLabels`, `matchExpressions`) as a LabelSelector."""
    if spec is None:
        return LabelSelector()
    if not isinstance(spec, Mapping):
        raise SelectorError("labelSelector must be an object")
    requirements: list[Requirement] = []
    match_labels = spec.get("matchLabels") or {}
    if not isinstance(match_labels, Mapping):
        raise SelectorError("matchLabels must be a map of strings")
    for key, value in sorted(match_labels.items()):
        requirements.append(Requirement(_key(str(key), key), "=", frozenset([_value(str(value), key)])))
    ops = {"In": "in", "NotIn": "notin", "Exists": "exists", "DoesNotExist": "!"}
    for expr in spec.get("matchExpressions") or []:
        if not isinstance(expr, Mapping) or expr.get("operator") not in ops:
            raise SelectorError(f"invalid matchExpression {expr!r}")
        op = ops[expr["operator"]]
        values = frozenset(str(v) for v in expr.get("values") or [])
        if (op in ("in", "notin")) != bool(values):
            raise SelectorError(f"matchExpression {expr!r}: values do not fit operator")
        requirements.append(Requirement(_key(str(expr.get("key", "")), expr), op, values))
    return LabelSelector(tuple(requirements))


def _tokenize(text: str) -> list[str]:
    tokens: list[str] = []
    pos = 0
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m or m.end() == pos:
            raise SelectorError(f"invalid label selector {text!r} at position {pos}")
        tokens.append(m.group("op") or m.group("word"))
        pos = m.end()
    return tokens


def _key(token: str, context: object) -> str:
    if not re.fullmatch(_KEY, token) or token in ("in", "notin"):
        raise SelectorError(f"invalid label key {token!r} in selector {context!r}")
    return token


def _value(token: str, context: object) -> str:
    if not re.fullmatch(_VALUE, token) or len(token) > 63:
        raise SelectorError(f"invalid label value {token!r} in selector {context!r}")
    return token
