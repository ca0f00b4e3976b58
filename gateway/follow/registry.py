"""Optimized handlers, keyed by (kind, rel), with the generic follower as fallback.

A handler resolves one link for all parents of a level at once. Registration
happens at startup; the registry refuses changes once frozen (when the app is
built), so what serves requests is what was tested.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeAlias

from gateway.catalog import Catalog, Entity, Link
from gateway.follow.followers import Target
from gateway.store import Store

BatchHandler: TypeAlias = Callable[[Store, Catalog, Link, list[Entity]], list[list[Target]]]


class HandlerRegistry:
    def __init__(self) -> None:
        self._handlers: dict[tuple[str, str], BatchHandler] = {}
        self._frozen = False

    def register(self, kind: str, rel: str, handler: BatchHandler) -> None:
        if self._frozen:
            raise RuntimeError(f"cannot register {kind}.{rel}: handlers are frozen once the app is built")
        self._handlers[(kind, rel)] = handler

    def freeze(self) -> None:
        self._frozen = True

    def get(self, kind: str, rel: str) -> BatchHandler | None:
        return self._handlers.get((kind, rel))

    def registered(self) -> list[tuple[str, str]]:
        return sorted(self._handlers)
