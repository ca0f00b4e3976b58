"""Live streams' subscriptions: how many there are, whose they are, and which a change concerns.

Each stream's latest build is filed in a dependents index, as remembered answers are, so a change
on the store's feed wakes only the streams whose documents it can change, whatever made it: a
watch event, a re-list after 410 Gone, a watch stopped. A stream is a use of the kinds it reads:
they are pinned in a store that stops idle watches, so its changes keep coming however long no
request reads them. The framing and the loop that writes events are HTTP's (`gateway.api.live`).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from gateway.catalog import Catalog
from gateway.changes.dependents import Dependents
from gateway.changes.reads import ReadRecorder
from gateway.errors import GatewayError
from gateway.store import Pinnable
from gateway.store.feed import Change, ChangeFeed


class TooManySubscribers(GatewayError):
    code, reason = 429, "TooManyRequests"


@dataclass(eq=False)
class Subscription:
    caller: str = ""
    changed: threading.Event = field(default_factory=threading.Event)
    pinned: frozenset[str] = frozenset()
    """The kinds its latest build read, pinned for it."""


class Subscriptions:
    def __init__(
        self, limit: int, per_caller: int, catalog: Catalog, feed: ChangeFeed | None, pins: Pinnable | None
    ) -> None:
        self.limit, self.per_caller = limit, per_caller
        self._lock = threading.Lock()
        self._all: set[Subscription] = set()
        self._per_caller: dict[str, int] = {}
        self._dependents: Dependents[Subscription] = Dependents(catalog)
        self._pins = pins
        if feed is not None:
            feed.subscribe(self._notify)

    def __len__(self) -> int:
        return len(self._all)

    def open(self, caller: str) -> Subscription:
        with self._lock:
            if len(self._all) >= self.limit:
                raise TooManySubscribers(
                    f"{self.limit} live streams are open, the most this gateway serves (--max-subscribers)"
                )
            if self._per_caller.get(caller, 0) >= self.per_caller:
                raise TooManySubscribers(
                    f"you have {self.per_caller} live streams open, the most one caller may hold "
                    "(--max-subscribers-per-caller)"
                )
            subscription = Subscription(caller)
            self._all.add(subscription)
            self._per_caller[caller] = self._per_caller.get(caller, 0) + 1
            return subscription

    def depend(self, subscription: Subscription, reads: ReadRecorder) -> None:
        """The stream's document was built from `reads`: a change to any of that wakes it."""
        self._dependents.depend(subscription, reads)
        kinds = frozenset(reads.counts)
        if self._pins is not None and kinds != subscription.pinned:
            self._pins.pin(kinds)  # pinned before the old ones are let go: never unwatched between
            self._pins.unpin(subscription.pinned)
        subscription.pinned = kinds

    def close(self, subscription: Subscription) -> None:
        self._dependents.forget(subscription)
        with self._lock:
            if subscription not in self._all:
                return
            self._all.discard(subscription)
            self._per_caller[subscription.caller] -= 1
            if not self._per_caller[subscription.caller]:
                del self._per_caller[subscription.caller]
        if self._pins is not None:
            self._pins.unpin(subscription.pinned)

    def wake_all(self) -> None:
        """Declarations were applied: every stream builds its document again, from the new links."""
        with self._lock:
            subscriptions = list(self._all)
        for subscription in subscriptions:
            subscription.changed.set()

    def _notify(self, change: Change) -> None:
        for subscription in self._dependents.affected(change):
            subscription.changed.set()
