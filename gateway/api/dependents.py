"""What each remembered answer read, indexed the other way round: which answers a watch event concerns.

An answer depends on the objects it read by name, on the objects its searches returned, and on
its searches themselves: a selector or join (`Query`), or a reverse link (the objects of a kind
that refer to a target). A change concerns it if the object changed (or was deleted) is one it
read or found, or if the new object starts to match one of its searches. Anything else, say a
status change of another VM's VMI or pod, leaves it as it is.

A search with join keys (a launcher pod's owner uid, a Service's selector labels) is filed under
each key, so a new object is matched only against the searches that share one of its keys: with
ten thousand remembered pieces, a pod's status change runs a handful of matchers, not all of them.
"""

from __future__ import annotations

import threading
from collections import Counter, defaultdict
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from cachetools import LRUCache

from gateway.catalog import Catalog, Join, Object, ObjectRef
from gateway.store import Observable
from gateway.store.counting import CountingStore, ref_of

K = TypeVar("K", bound=Hashable)
Matcher = Callable[[Object], bool]
Scope = tuple[str, str | None]
KeyedScope = tuple[str, str | None, Join, Hashable]
"""(kind, namespace, join, key): the searches a new object with that join key may match."""


class Dependents(Generic[K]):
    def __init__(self, catalog: Catalog) -> None:
        self._catalog = catalog
        self._lock = threading.Lock()
        self._by_object: dict[ObjectRef, set[K]] = defaultdict(set)
        self._by_scope: dict[Scope, dict[K, list[Matcher]]] = defaultdict(dict)
        self._by_key: dict[KeyedScope, dict[K, list[Matcher]]] = defaultdict(dict)
        self._joins: dict[str, Counter[Join]] = defaultdict(Counter)
        """Per kind, the joins some search is filed under (and how many keys of each)."""
        self._by_referred: dict[tuple[str, ObjectRef], set[K]] = defaultdict(set)
        self._referred_kinds: Counter[str] = Counter()
        """(kind, target) of reverse-link searches: an object of that kind that comes to refer to the target."""
        self._held: dict[K, _Held] = {}

    def __len__(self) -> int:
        return len(self._held)

    def depend(self, holder: K, reads: CountingStore) -> None:
        """`holder` (a remembered answer's key) depends on what `reads` read; replaces what it depended on."""
        searches: dict[Scope, list[Matcher]] = defaultdict(list)
        keyed: dict[KeyedScope, list[Matcher]] = defaultdict(list)
        for query in reads.queries:
            for narrow in query.members or (query,):  # a batch read depends on what each parent asked
                if narrow.joined is None:
                    searches[(narrow.kind, narrow.namespace)].append(narrow.matches)
                    continue
                join, keys = narrow.joined  # no key: it can match nothing, now or later
                for key in keys:
                    keyed[(narrow.kind, narrow.namespace, join, key)].append(narrow.matches)
        referred = {(kind, target) for target, kind in reads.referrer_queries}
        objects = reads.objects | reads.found
        with self._lock:
            self._forget(holder)
            self._held[holder] = _Held(objects, set(searches), set(keyed), referred)
            for ref in objects:
                self._by_object[ref].add(holder)
            for scope, matchers in searches.items():
                self._by_scope[scope][holder] = matchers
            for keyed_scope, matchers in keyed.items():
                if not self._by_key[keyed_scope]:
                    self._joins[keyed_scope[0]][keyed_scope[2]] += 1
                self._by_key[keyed_scope][holder] = matchers
            for pair in referred:
                if not self._by_referred[pair]:
                    self._referred_kinds[pair[0]] += 1
                self._by_referred[pair].add(holder)

    def forget(self, holder: K) -> None:
        with self._lock:
            self._forget(holder)

    def _forget(self, holder: K) -> None:
        held = self._held.pop(holder, None)
        if held is None:
            return
        for pair in held.referred:
            if _drop(self._by_referred, pair, holder):
                self._referred_kinds[pair[0]] -= 1
        for ref in held.objects:
            _drop(self._by_object, ref, holder)
        for scope in held.scopes:
            _drop(self._by_scope, scope, holder)
        for keyed_scope in held.keyed:
            if _drop(self._by_key, keyed_scope, holder):
                joins = self._joins[keyed_scope[0]]
                joins[keyed_scope[2]] -= 1
                if joins[keyed_scope[2]] <= 0:
                    del joins[keyed_scope[2]]

    def affected(self, kind: str, old: Object | None, new: Object | None) -> set[K]:
        """The holders a change of one object concerns (old or new None: it appeared, or was deleted)."""
        with self._lock:
            found: set[K] = set()
            for obj in (old, new):
                if obj is not None:
                    found |= self._by_object.get(ref_of(kind, obj), set())
            if new is not None:
                namespace = ref_of(kind, new).namespace
                for scope in {(kind, namespace), (kind, None)}:
                    self._matching(self._by_scope.get(scope, {}), new, found)
                for join in list(self._joins.get(kind, ())):
                    for keyed_scope in self._keyed_scopes(kind, namespace, join, new):
                        self._matching(self._by_key.get(keyed_scope, {}), new, found)
                if self._referred_kinds[kind] > 0:
                    for target in self._references(kind, new):  # computed once per event, not per holder
                        found |= self._by_referred.get((kind, target), set())
            return found

    @staticmethod
    def _matching(searches: dict[K, list[Matcher]], new: Object, found: set[K]) -> None:
        for holder, matchers in searches.items():
            if holder not in found and any(_safely(match, new) for match in matchers):
                found.add(holder)

    def _keyed_scopes(self, kind: str, namespace: str | None, join: Join, new: Object) -> list[KeyedScope]:
        """Where searches that `new` may match are filed: under its join keys, here and cluster-wide."""
        try:
            keys = set(join.candidate(new))
        except Exception:  # a malformed object: its keys are unknown, so every search of the join is asked
            return [s for s in self._by_key if s[0] == kind and s[2] is join]
        return [(kind, where, join, key) for key in keys for where in {namespace, None}]

    def _references(self, kind: str, obj: Object) -> set[ObjectRef]:
        try:
            return set(self._catalog.references(self._catalog.kind(kind), obj))
        except Exception:  # a malformed object: its references are unknown, and so is who it concerns
            return {target for k, target in self._by_referred if k == kind}


@dataclass(frozen=True, slots=True)
class _Held:
    """What one holder is filed under, to take it out again."""

    objects: set[ObjectRef]
    scopes: set[Scope]
    keyed: set[KeyedScope]
    referred: set[tuple[str, ObjectRef]]


def _drop(index: Any, key: Any, holder: Any) -> bool:
    """Take `holder` out of `index[key]` (a set or a dict), and the key once nothing is left: True then."""
    held = index.get(key)
    if held is None:
        return False
    if isinstance(held, dict):
        held.pop(holder, None)
    else:
        held.discard(holder)
    if held:
        return False
    del index[key]
    return True


def _safely(match: Matcher, obj: Object) -> Any:
    # a matcher is the catalogue's code run on an object from the cluster: a malformed one must not
    # break the watch that delivers it; when in doubt, the answer is dropped
    try:
        return match(obj)
    except Exception:
        return True


V = TypeVar("V")


class Remembered(Generic[K, V]):
    """Values kept in memory, bounded by bytes (least recently used go first), each filed in a
    dependents index with what it was built from: a change to any of that drops it, and so does
    eviction. Without `changes` (a store that cannot say what changed) and the catalogue, nothing
    is filed: the caller checks kinds' generations instead."""

    def __init__(
        self, max_bytes: int, size: Callable[[V], int], catalog: Catalog | None, changes: Observable | None
    ) -> None:
        self.dependents: Dependents[K] | None = None
        if catalog is not None and changes is not None:
            self.dependents = Dependents(catalog)
            changes.on_change(self._invalidate)
        self._values: _Evicting[K, V] = _Evicting(max(max_bytes, 1), size, self.dependents)
        self._lock = threading.Lock()

    def __len__(self) -> int:
        with self._lock:
            return len(self._values)

    def get(self, key: K) -> V | None:
        with self._lock:
            return self._values.get(key)

    def keep(self, key: K, value: V, reads: CountingStore, unchanged: Callable[[], bool]) -> None:
        """Keep `value`, built from `reads`, if `unchanged()` still says nothing it read has changed:
        a change while it was built may have come before it is filed here, so nothing would drop it."""
        with self._lock:
            if not unchanged():
                return
            try:
                self._values[key] = value
            except ValueError:  # larger than the whole bound: not kept
                return
            if self.dependents is not None:
                self.dependents.depend(key, reads)

    def _invalidate(self, kind: str, old: Object | None, new: Object | None) -> None:
        assert self.dependents is not None
        with self._lock:
            for key in self.dependents.affected(kind, old, new):
                self._values.pop(key, None)
                self.dependents.forget(key)


class _Evicting(LRUCache[K, V]):
    """The LRU of `Remembered`, which takes an evicted value out of the dependents index too."""

    def __init__(self, max_bytes: int, size: Callable[[V], int], dependents: Dependents[K] | None) -> None:
        super().__init__(maxsize=max_bytes, getsizeof=size)
        self.dependents = dependents

    def popitem(self) -> tuple[K, V]:
        key, value = super().popitem()
        if self.dependents is not None:
            self.dependents.forget(key)
        return key, value
