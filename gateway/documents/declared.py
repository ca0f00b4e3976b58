"""The catalogue in use and the declarations behind it: the `--links` files (fixed at startup, each
good) and the documents applied at run time (the ConfigMap source's), each left out alone when bad.

Applying documents builds a new catalogue and has the one in use adopt it in one step; then every
part that derived something from the old entries is told (`on_change`: the store's indexes, the
follow trees and batch handlers, remembered answers and pieces). No Flask, no I/O.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping, Sequence

from gateway.catalog import (
    CATALOG,
    Catalog,
    DeclarationError,
    Declarations,
    SourceStatus,
    build_tolerant,
    parse_link_catalog,
)

log = logging.getLogger(__name__)


class DeclaredLinks:
    def __init__(self, catalog: Catalog, files: Sequence[Declarations] = ()) -> None:
        self.catalog = catalog
        self._files = tuple(files)
        self._statuses = [SourceStatus(d.source) for d in files]
        self._documents: dict[str, str] = {}
        self._hooks: list[Callable[[], None]] = []
        self._lock = threading.Lock()

    def on_change(self, hook: Callable[[], None]) -> None:
        """Call `hook` after each change of the catalogue's entries (at startup, before serving)."""
        self._hooks.append(hook)

    def statuses(self) -> list[SourceStatus]:
        """Each source of declarations, files first, with its error if it was left out."""
        return list(self._statuses)

    def apply(self, documents: Mapping[str, str]) -> list[SourceStatus]:
        """Make the declarations in use the `--links` files and these documents (source name -> YAML text:
        the whole current set, not a change to it). A document that does not parse or fit is left out,
        with its error; the others apply. Safe to call from any thread."""
        if self.catalog is CATALOG:
            raise RuntimeError("declarations applied at run time need a catalogue of the app's own")
        with self._lock:
            parsed: list[Declarations | DeclarationError] = []
            for source in sorted(documents):
                try:
                    parsed.append(parse_link_catalog(documents[source], source))
                except DeclarationError as e:
                    parsed.append(e)
            built, self._statuses = build_tolerant(self._files, parsed)
            if dict(documents) != self._documents:
                self._documents = dict(documents)
                self.catalog.adopt(built)
                for hook in self._hooks:
                    hook()
                log.info("declared links applied: %d sources", len(self._statuses))
            return list(self._statuses)
