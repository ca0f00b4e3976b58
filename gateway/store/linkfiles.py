"""`--links PATH`: LinkCatalog documents from files, or directories of `*.yaml`/`*.yml` (searched
recursively, as `--manifests` searches). Read once at startup: a bad file stops the gateway."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path

from gateway.catalog import DeclarationError, Declarations, parse_link_catalog

SUFFIXES = (".yaml", ".yml")


def read_link_files(paths: Sequence[str | Path]) -> list[Declarations]:
    """Every document of every file, in the order given (a directory's files by name)."""
    found = []
    for path in _files(paths):
        try:
            text = path.read_text(encoding="utf-8-sig")
        except (OSError, UnicodeError) as e:
            raise DeclarationError(str(path), None, "", f"cannot read: {getattr(e, 'strerror', None) or e}") from e
        found.append(parse_link_catalog(text, str(path)))
    return found


def _files(paths: Sequence[str | Path]) -> Iterator[Path]:
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found = sorted(p for p in path.rglob("*") if p.suffix in SUFFIXES and p.is_file())
            if not found:
                raise DeclarationError(str(path), None, "", "no *.yaml or *.yml files here")
            yield from found
        elif path.is_file():
            yield path
        else:
            raise DeclarationError(str(path), None, "", "no such file or directory")
