"""Whole answers, remembered while nothing they read changed and the caller's access still holds.

An answer is kept under its request's path, query and caller, with the caller's access decisions
it was built on, in a `Remembered` memory fed by the store's changes. It is recalled only once each
decision still holds for that caller now (reviews at most `--auth-cache-seconds` old); otherwise
it is built again, as the caller may see it now. HTTP (ETags, 304s, which requests may be
remembered) is `gateway.api.caching`'s.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass

from gateway.access.policy import CallerPolicy
from gateway.access.reviews import Check
from gateway.catalog import Catalog
from gateway.changes.dependents import Dependents
from gateway.changes.memory import Remembered
from gateway.changes.reads import ReadRecorder
from gateway.store.feed import ChangeFeed

ANSWER_OVERHEAD_BYTES = 200
"""What an answer costs besides its body (its key, ETag, decisions): a rough figure."""


@dataclass(frozen=True, slots=True)
class Answer:
    etag: str
    body: bytes
    mimetype: str
    kinds: tuple[str, ...]
    """The kinds it read (an answer from a kind whose watch fails carries a Warning)."""
    decisions: tuple[tuple[Check, bool], ...] = ()
    """The caller's access decisions it was built on: all must still hold to serve it again."""


class Answers:
    def __init__(self, max_bytes: int, catalog: Catalog, feed: ChangeFeed) -> None:
        self.max_bytes = max_bytes
        self._memory: Remembered[Hashable, Answer] = Remembered(
            max_bytes, lambda a: len(a.body) + ANSWER_OVERHEAD_BYTES, catalog, feed
        )

    def __len__(self) -> int:
        return len(self._memory)

    @property
    def dependents(self) -> Dependents[Hashable]:
        return self._memory.dependents

    @property
    def used(self) -> int:
        return self._memory.used

    def forget_all(self) -> None:
        """Declarations were applied: every answer was built from other links."""
        self._memory.forget_all()

    def recall(self, key: Hashable, policy: CallerPolicy | None) -> Answer | None:
        """The answer remembered under `key`, if the caller's access it was built on still holds."""
        answer = self._memory.get(key)
        if answer is None or (policy is not None and not policy.confirms(answer.decisions)):
            return None
        return answer

    def keep(self, key: Hashable, answer: Answer, reads: ReadRecorder) -> None:
        """Remember an answer built from `reads` (bodies over a sixteenth of the memory are not)."""
        if 0 < len(answer.body) <= self.max_bytes // 16:
            self._memory.keep(key, answer, reads)
