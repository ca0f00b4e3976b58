"""Tables as `kubectl get` prints them: upper-case headers, NAMESPACE first across namespaces,
`kind.group/name` names when several kinds share the output, and columns laid out as kubectl's
tabwriter lays them out (at least 6 wide, 3 spaces between).

Every cell is passed through `visible`: a name, a label or a status message comes from the
cluster, and may hold control characters that would rewrite the terminal.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from gateway.catalog import Kind
from gateway.catalog.names import visible
from gateway.cli.columns import cell, columns_of
from gateway.cli.targets import qualified

MIN_WIDTH, PADDING = 6, 3  # kubectl: tabwriter.NewWriter(out, 6, 4, 3, ' ', 0)


def table(
    kind: Kind,
    objects: Sequence[dict[str, Any]],
    now: datetime,
    *,
    wide: bool = False,
    namespaces: bool = False,
    qualify: bool = False,
    headers: bool = True,
) -> str:
    """The table of `objects`, all of `kind`; `qualify` names them `kind.group/name`."""
    columns = columns_of(kind.name, wide)
    header = [*(["NAMESPACE"] if namespaces else []), "NAME", *(c.header for c in columns)]
    rows = []
    for obj in objects:
        meta = obj.get("metadata") or {}
        name = str(meta.get("name", ""))
        row = [*([str(meta.get("namespace", ""))] if namespaces else [])]
        row.append(f"{qualified(kind)}/{name}" if qualify else name)
        row += [cell(c, obj, now) for c in columns]
        rows.append([visible(value) for value in row])
    return layout([header, *rows] if headers else rows, widths_of=[header, *rows])


def layout(rows: list[list[str]], widths_of: list[list[str]] | None = None) -> str:
    if not rows:
        return ""
    measured = widths_of or rows
    widths = [max(MIN_WIDTH, max(len(r[i]) for r in measured) + PADDING) for i in range(len(measured[0]))]
    lines = [
        "".join(value.ljust(width) for value, width in zip(row[:-1], widths, strict=False)) + row[-1] for row in rows
    ]
    return "\n".join(line.rstrip() for line in lines) + "\n"
