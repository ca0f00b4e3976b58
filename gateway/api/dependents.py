"""What each remembered answer read, indexed the other way round: which answers a watch event concerns.

An answer depends on the objects it read by name, on the objects its searches returned, and on
its searches themselves: a selector or join (`Query`), or a reverse link (the objects of a kind
that refer to a target). A change concerns it if the object changed (or was deleted) is one it
read or found, or if the new object starts to match one of its searches. Anything else, say a
status change of another VM's VMI or pod, leaves it as it is.
"""

from __future__ import annotations

import threading
from collections import Counter, defaultdict
from collections.abc import Callable, Hashable
from typing import Any, Generic, TypeVar

from gateway.catalog import Catalog, Object, ObjectRef
from gateway.store.counting import CountingStore, ref_of

K = TypeVar("K", bound=Hashable)
Matcher = Callable[[Object], bool]


class Dependents(Generic[K]):
    def __init__(self, catalog: Catalog) -> None:
        self._catalog = catalog
        self._lock = threading.Lock()
        self._by_object: dict[ObjectRef, set[K]] = defaultdict(set)
        self._by_scope: dict[tuple[str, str | None], dict[K, list[Matcher]]] = defaultdict(dict)
        self._by_referred: dict[tuple[str, ObjectRef], set[K]] = defaultdict(set)
        self._referred_kinds: Counter[str] = Counter()
        """(kind, target) of reverse-link searches: an object of that kind that comes to refer to the target."""
        self._held: dict[K, tuple[set[ObjectRef], set[tuple[str, str | None]], set[tuple[str, ObjectRef]]]] = {}

    def __len__(self) -> int:
        return len(self._held)

    def depend(self, holder: K, reads: CountingStore) -> None:
        """`holder` (a remembered answer's key) depends on what `reads` read; replaces what it depended on."""
        searches: dict[tuple[str, str | None], list[Matcher]] = defaultdict(list)
        for query in reads.queries:
            for narrow in query.members or (query,):  # a batch read depends on what each parent asked
                searches[(narrow.kind, narrow.namespace)].append(narrow.matches)
        referred = {(kind, target) for target, kind in reads.referrer_queries}
        objects = reads.objects | reads.found
        with self._lock:
            self._forget(holder)
            self._held[holder] = (objects, set(searches), referred)
            for ref in objects:
                self._by_object[ref].add(holder)
            for scope, matchers in searches.items():
                self._by_scope[scope][holder] = matchers
            for pair in referred:
                if not self._by_referred[pair]:
                    self._referred_kinds[pair[0]] += 1
                self._by_referred[pair].add(holder)

    def forget(self, holder: K) -> None:
        with self._lock:
            self._forget(holder)

    def _forget(self, holder: K) -> None:
        objects, scopes, referred = self._held.pop(holder, (set(), set(), set()))
        for pair in referred:
            if _drop(self._by_referred, pair, holder):
                self._referred_kinds[pair[0]] -= 1
        for ref in objects:
            _drop(self._by_object, ref, holder)
        for scope in scopes:
            _drop(self._by_scope, scope, holder)

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
                    for holder, matchers in list(self._by_scope.get(scope, {}).items()):
                        if holder not in found and any(_safely(match, new) for match in matchers):
                            found.add(holder)
                if self._referred_kinds[kind] > 0:
                    for target in self._references(kind, new):  # computed once per event, not per holder
                        found |= self._by_referred.get((kind, target), set())
            return found

    def _references(self, kind: str, obj: Object) -> set[ObjectRef]:
        try:
            return set(self._catalog.references(self._catalog.kind(kind), obj))
        except Exception:  # a malformed object: its references are unknown, and so is who it concerns
            return {target for k, target in self._by_referred if k == kind}


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
