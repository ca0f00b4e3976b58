"""JSONPath in kubectl's dialect, without braces: `.a.b`, `['a.b/c']`, `[*]`, `[N]`, filters
`[?(@.type=='multus')]`, and kubectl's `\\.` inside a key (`.metadata.labels.kubernetes\\.io/os`).

Shared by the catalogue's declared links (paths as CRD printer columns write them) and the CLI's
`-o jsonpath`; evaluated by jsonpath-ng's extended parser, never parsed by hand. Pure: no I/O.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from jsonpath_ng import JSONPath, jsonpath
from jsonpath_ng.exceptions import JsonPathLexerError, JsonPathParserError
from jsonpath_ng.ext.parser import parse
from jsonpath_ng.ext.string import DefintionInvalid


class JsonPathError(ValueError):
    """The text is not a JSONPath kubectl would take."""


@dataclass(frozen=True, slots=True)
class Path:
    """A compiled path. `single`: it can find at most one value (no `[*]`, filter, slice or `..`)."""

    text: str
    single: bool
    _expression: JSONPath | None
    _keys: tuple[str | int | _Every, ...] | None
    """For a chain of keys, indexes and `[*]`: those, walked directly (the catalogue reads such paths
    for every object it indexes, a Pod's `.spec.volumes[*]...` among them; jsonpath-ng's `find` costs
    several times more for the same answer)."""

    def find(self, document: Any) -> list[Any]:
        """Every value the path finds in `document`, in document order; none is no error, a filter that
        cannot evaluate (a `=~` whose pattern does not compile) is a `JsonPathError`."""
        if self._keys is not None:
            return _walk(document, self._keys)
        if self._expression is None:
            return [document]
        try:
            return [match.value for match in self._expression.find(document)]
        except (ValueError, TypeError, AttributeError, KeyError, re.error) as e:  # `=~` compiles its pattern here
            raise JsonPathError(f"{self.text}: {e}") from None


_PARSE_ERRORS = (JsonPathLexerError, JsonPathParserError, ValueError, TypeError, AttributeError,
                 DefintionInvalid, re.error)  # fmt: skip
"""What jsonpath-ng raises on a path it cannot read, a malformed `split(...)` or `sub(...)` among them."""


def compile_path(text: str) -> Path:
    """`text` (with or without its leading `.` or `$`) as a `Path`; `JsonPathError` if it does not parse."""
    path = text.strip()
    if path.startswith("$"):
        path = path[1:]
    if path.startswith(".") and not path.startswith(".."):
        path = path[1:]
    if path in ("", "@"):
        return Path(text, True, None, ())
    if path.startswith(".."):
        path = "$" + path  # kubectl's `{..name}`: jsonpath-ng's descent needs a left side
    try:
        expression = parse(quote_escaped_keys(path))
    except _PARSE_ERRORS as e:
        raise JsonPathError(str(e).strip() or f"cannot parse {text!r}") from None
    keys = _plain_keys(expression)
    return Path(text, keys is not None and EVERY not in keys, expression, keys)


def quote_escaped_keys(path: str) -> str:
    """kubectl's `labels.kubernetes\\.io/os` as jsonpath-ng's `labels."kubernetes\\.io/os"` (key `kubernetes.io/os`)."""
    if "\\." not in path:
        return path
    parts = re.split(r"(?<!\\)\.", path)
    return ".".join(f'"{p}"' if "\\." in p else p for p in parts)


class _Every:
    """`[*]` in a walked path: every item of a list, every value of a map (as jsonpath-ng's `Wildcard`)."""


EVERY = _Every()


def _plain_keys(expression: JSONPath) -> tuple[str | int | _Every, ...] | None:
    """The steps of a path that is one field, index or `[*]` after another, else None."""
    if isinstance(expression, jsonpath.Wildcard):
        return (EVERY,)
    if isinstance(expression, jsonpath.Child):
        left, right = _plain_keys(expression.left), _plain_keys(expression.right)
        return None if left is None or right is None else left + right
    if isinstance(expression, jsonpath.Fields) and len(expression.fields) == 1 and expression.fields[0] != "*":
        return (expression.fields[0],)
    if isinstance(expression, jsonpath.Index) and len(expression.indices) == 1:
        return (expression.indices[0],)
    if isinstance(expression, jsonpath.Root | jsonpath.This):
        return ()
    return None


def _walk(document: Any, keys: tuple[str | int | _Every, ...]) -> list[Any]:
    for at, key in enumerate(keys):
        if key is EVERY:
            items = (
                document
                if isinstance(document, list)
                else list(document.values())
                if isinstance(document, dict)
                else []
            )
            rest = keys[at + 1 :]
            return [found for item in items for found in _walk(item, rest)]
        found = isinstance(document, dict) and key in document
        indexed = isinstance(key, int) and isinstance(document, list) and -len(document) <= key < len(document)
        if not (found or indexed):
            return []
        document = document[key]
    return [document]
