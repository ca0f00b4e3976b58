"""The change feed: every change a store makes to what it holds, whatever the cause.

A watch event, a re-list after 410 Gone (published as the precise difference it made), a watch
stopped or a kind that stopped being served (each object it held, deleted): each is one `Change`
per object, in the order the store made them. What depends on the store's contents (remembered
answers, pieces of answers, live streams) subscribes here, and only here; nothing guesses from
the side whether a kind was replaced.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass

from gateway.catalog import Object


@dataclass(frozen=True, slots=True)
class Change:
    """One object as it was (`old`) and as it is (`new`); None: absent (added, or deleted)."""

    kind: str
    old: Object | None
    new: Object | None


Subscriber = Callable[[Change], None]


class ChangeFeed:
    """Publishes changes to its subscribers, and counts them per kind.

    A count only grows: a reader that noted a kind's count before reading and finds it the same
    afterwards knows no change to that kind was published meanwhile. A store that never changes
    (a snapshot) has a feed that never publishes."""

    def __init__(self) -> None:
        self._counts: dict[str, int] = {}
        self._subscribers: list[Subscriber] = []
        self._lock = threading.Lock()

    def subscribe(self, subscriber: Subscriber) -> None:
        """`subscriber(change)` after every change, on the thread that made it."""
        self._subscribers.append(subscriber)

    def count(self, kind: str) -> int:
        """How many changes to `kind` were published so far."""
        return self._counts.get(kind, 0)

    def publish(self, change: Change) -> None:
        # counted before the subscribers hear of it: a reader that kept what it built only while
        # the count is unchanged never keeps an answer that this change, already past, should drop
        with self._lock:
            self._counts[change.kind] = self._counts.get(change.kind, 0) + 1
        for subscriber in self._subscribers:
            subscriber(change)
