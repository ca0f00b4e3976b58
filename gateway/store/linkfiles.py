"""`--links PATH`: LinkCatalog documents from files, or directories of `*.yaml`/`*.yml` (searched
recursively, as `--manifests` searches). Read once at startup: a bad file stops the gateway."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path

from gateway.catalog import DeclarationError, Declarations, parse_link_catalog
from gateway.store.manifests import files_in

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
    return files_in(paths, SUFFIXES, lambda path, why: DeclarationError(str(path), None, "", why))
