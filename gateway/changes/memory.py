"""Remembered: values kept in memory while nothing they were built from changed.

Bounded by bytes, least recently used first out. Each value is charged its own size and what
filing it in the dependents index costs (`INDEX_BYTES` an entry), so the bound holds for the
index too. A change on the store's feed drops exactly the values it concerns, and eviction takes
a value out of the index with it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager
from typing import Generic, NamedTuple, TypeVar

from cachetools import LRUCache

from gateway.catalog import Catalog, edition
from gateway.changes.dependents import INDEX_BYTES, Dependents
from gateway.changes.reads import ReadRecorder
from gateway.store.feed import Change, ChangeFeed

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class _Entry(NamedTuple, Generic[V]):
    value: V
    cost: int


class Remembered(Generic[K, V]):
    def __init__(self, max_bytes: int, size: Callable[[V], int], catalog: Catalog, feed: ChangeFeed) -> None:
        self.dependents: Dependents[K] = Dependents(catalog)
        self._size = size
        self._values: _Evicting[K, V] = _Evicting(max(max_bytes, 1), self.dependents)
        self._lock = threading.Lock()
        self._collectors: list[list[Change]] = []
        """Of the batches being built: the changes published meanwhile (`collecting`)."""
        feed.subscribe(self._invalidate)

    def __len__(self) -> int:
        with self._lock:
            return len(self._values)

    @property
    def used(self) -> int:
        """Bytes charged, in all: values and their index entries."""
        with self._lock:
            return int(self._values.currsize)

    def get(self, key: K) -> V | None:
        with self._lock:
            entry = self._values.get(key)
        return entry.value if entry is not None else None

    def keep(self, key: K, value: V, reads: ReadRecorder) -> None:
        """Keep `value`, built from `reads`, if nothing it read has changed since it read it: a
        change while it was built may have come before it is filed here, so nothing would drop it."""
        with self._lock:
            if reads.unchanged():
                self._file(key, value, reads)

    @contextmanager
    def collecting(self) -> Iterator[list[Change]]:
        """The changes published while the block runs (and a little after: see `keep_all`)."""
        changed: list[Change] = []
        with self._lock:
            self._collectors.append(changed)
        try:
            yield changed
        finally:
            with self._lock:
                self._collectors.remove(changed)

    def keep_all(self, values: list[tuple[K, V, ReadRecorder]], changed: list[Change]) -> None:
        """Keep values built together, each with its own reads, then drop those a change published
        while they were built concerns (`changed`, collected from before their first read): precise
        where `keep`'s change counts would drop them all for one change to a kind they share. A
        change collected after they were filed finds them in the index by itself; asked twice, it
        drops the same values twice."""
        now = edition()
        with self._lock:
            for key, value, reads in values:
                if reads.edition == now:  # else built under a catalogue that has since taken other entries
                    self._file(key, value, reads)
        for change in list(changed):
            self._drop(change)

    def _file(self, key: K, value: V, reads: ReadRecorder) -> None:
        """Under the lock: `value` kept, filed in the index under what it read, and charged for both."""
        filed = self.dependents.depend(key, reads)
        try:
            self._values[key] = _Entry(value, self._size(value) + INDEX_BYTES * filed)
        except ValueError:  # larger than the whole bound: not kept
            self.dependents.forget(key)

    def forget_all(self) -> None:
        """Declarations were applied: every value was built from other links."""
        with self._lock:
            for key in list(self._values):
                self._values.pop(key, None)
                self.dependents.forget(key)

    def _invalidate(self, change: Change) -> None:
        for changed in tuple(self._collectors):  # before the index is asked: see keep_all
            changed.append(change)
        self._drop(change)

    def _drop(self, change: Change) -> None:
        # which values it concerns is found without the memory's lock: requests recall meanwhile
        for key in self.dependents.affected(change):
            with self._lock:
                self._values.pop(key, None)
                self.dependents.forget(key)


class _Evicting(LRUCache[K, _Entry[V]]):
    """The LRU of `Remembered`, which takes an evicted value out of the dependents index too."""

    def __init__(self, max_bytes: int, dependents: Dependents[K]) -> None:
        super().__init__(maxsize=max_bytes, getsizeof=lambda entry: entry.cost)
        self.dependents = dependents

    def popitem(self) -> tuple[K, _Entry[V]]:
        key, entry = super().popitem()
        self.dependents.forget(key)
        return key, entry
