"""What each holder read, indexed the other way round: which holders a change concerns.

A holder is a remembered answer, a kept piece of one, or a live stream. It depends on the objects
it read by name, and on its searches: a selector or join (`Query`), or a reverse link (the
objects of a kind that refer to a target). A change concerns it if the object changed (or
deleted) is one it read by name, or if the object, before or after the change, matches one of
its searches. Anything else, say a status change of another VM's VMI or pod, leaves it as it is.

A search is filed once, not under each object it returned, so what a holder costs here does not
grow with the namespace it searched (`filed` counts it, and the memory charges it). Where the
search says which objects it can match, it is filed under that key, so a change runs the
matchers of the searches that share a key with its object, not all of them: a join key (a
launcher pod's owner uid, a Service's selector labels) or a label its selector requires
(`app=shop`). Searches without either are filed under their kind and namespace.
"""

from __future__ import annotations

import threading
from collections import Counter, defaultdict
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from gateway.catalog import Catalog, Join, Object, ObjectRef, Query
from gateway.catalog.kinds import labels_of
from gateway.changes.cooperation import give_way
from gateway.changes.reads import ReadRecorder, ref_of
from gateway.store.feed import Change

K = TypeVar("K", bound=Hashable)
Matcher = Callable[[Object], bool]
Scope = tuple[str, str | None]
KeyedScope = tuple[str, str | None, Join, Hashable]
"""(kind, namespace, join, key): the searches an object with that join key may match."""
LabelScope = tuple[str, str | None, str, str]
"""(kind, namespace, label, value): the searches whose selector requires that label."""

INDEX_BYTES = 256
"""A rough cost, in bytes, of each entry a holder is filed under: what the memory charges for it."""
MATCHERS_BEFORE_GIVING_WAY = 512


class Dependents(Generic[K]):
    def __init__(self, catalog: Catalog, pause: Callable[[], None] = give_way) -> None:
        self._catalog = catalog
        self._pause = pause
        """Called every `MATCHERS_BEFORE_GIVING_WAY` matcher runs of one change (gevent: a switch)."""
        self._lock = threading.Lock()
        self._by_object: dict[ObjectRef, set[K]] = defaultdict(set)
        self._by_scope: dict[Scope, dict[K, list[Matcher]]] = defaultdict(dict)
        self._by_key: dict[KeyedScope, dict[K, list[Matcher]]] = defaultdict(dict)
        self._by_label: dict[LabelScope, dict[K, list[Matcher]]] = defaultdict(dict)
        self._joins: dict[str, Counter[Join]] = defaultdict(Counter)
        """Per kind, the joins some search is filed under (and how many keys of each)."""
        self._by_referred: dict[tuple[str, ObjectRef], set[K]] = defaultdict(set)
        self._referred_kinds: Counter[str] = Counter()
        """(kind, target) of reverse-link searches: an object of that kind that refers to the target."""
        self._held: dict[K, _Filed] = {}

    def __len__(self) -> int:
        return len(self._held)

    def entries(self) -> int:
        """How many entries the holders are filed under, in all."""
        with self._lock:
            return sum(f.size for f in self._held.values())

    def leftovers(self) -> int:
        """What the index's maps and counts hold, in all: 0 once every holder is forgotten, so that
        what it keeps never outlives what it was kept for."""
        with self._lock:
            maps = (self._by_object, self._by_scope, self._by_key, self._by_label, self._by_referred, self._held)
            counts = sum(abs(n) for joins in self._joins.values() for n in joins.values())
            return sum(len(m) for m in maps) + counts + sum(abs(n) for n in self._referred_kinds.values())

    def depend(self, holder: K, reads: ReadRecorder) -> int:
        """`holder` depends on what `reads` read; replaces what it depended on. Returns how many
        entries it is filed under (what it costs here)."""
        filed = _Filed.of(reads)
        with self._lock:
            self._forget(holder)
            self._held[holder] = filed
            for ref in filed.objects:
                self._by_object[ref].add(holder)
            for scope, matchers in filed.scopes.items():
                self._by_scope[scope][holder] = matchers
            for label_scope, matchers in filed.labels.items():
                self._by_label[label_scope][holder] = matchers
            for keyed_scope, matchers in filed.keyed.items():
                if not self._by_key[keyed_scope]:
                    self._joins[keyed_scope[0]][keyed_scope[2]] += 1
                self._by_key[keyed_scope][holder] = matchers
            for pair in filed.referred:
                if not self._by_referred[pair]:
                    self._referred_kinds[pair[0]] += 1
                self._by_referred[pair].add(holder)
        return filed.size

    def forget(self, holder: K) -> None:
        with self._lock:
            self._forget(holder)

    def _forget(self, holder: K) -> None:
        filed = self._held.pop(holder, None)
        if filed is None:
            return
        for pair in filed.referred:
            if _drop(self._by_referred, pair, holder):
                self._referred_kinds[pair[0]] -= 1
        for ref in filed.objects:
            _drop(self._by_object, ref, holder)
        for scope in filed.scopes:
            _drop(self._by_scope, scope, holder)
        for label_scope in filed.labels:
            _drop(self._by_label, label_scope, holder)
        for keyed_scope in filed.keyed:
            if _drop(self._by_key, keyed_scope, holder):
                joins = self._joins[keyed_scope[0]]
                joins[keyed_scope[2]] -= 1
                if joins[keyed_scope[2]] <= 0:
                    del joins[keyed_scope[2]]

    def affected(self, change: Change) -> set[K]:
        """The holders a change concerns. The index is read under its lock; the searches' matchers
        (the catalogue's code, as many as the holders that share a key) run outside it, giving way
        now and then, so a change that concerns thousands of holders blocks no request meanwhile."""
        if not self._held:  # nothing filed: a first list's thousands of changes cost a look each
            return set()
        objects = [obj for obj in (change.old, change.new) if obj is not None]
        found: set[K] = set()
        candidates: dict[K, list[Matcher]] = {}
        asked: set[int] = set()  # old and new in the same scope: its searches are asked once
        with self._lock:
            for obj in objects:
                found |= self._by_object.get(ref_of(change.kind, obj), set())
                for searches in self._searches_of(change.kind, obj):
                    if id(searches) not in asked:
                        asked.add(id(searches))
                        for holder, matchers in searches.items():
                            candidates.setdefault(holder, []).extend(matchers)
            if self._referred_kinds[change.kind] > 0:
                for target in self._references(change.kind, objects):  # once per change, not per holder
                    found |= self._by_referred.get((change.kind, target), set())
        calls = 0
        for holder, matchers in candidates.items():
            if holder in found:
                continue
            for match in matchers:
                calls += len(objects)
                if any(_safely(match, obj) for obj in objects):
                    found.add(holder)
                    break
            if calls >= MATCHERS_BEFORE_GIVING_WAY:
                calls = 0
                self._pause()
        return found

    def _searches_of(self, kind: str, obj: Object) -> list[dict[K, list[Matcher]]]:
        """The filed searches `obj` may match: in its scope, under its join keys and its labels."""
        namespace = ref_of(kind, obj).namespace
        wheres = {namespace, None}
        found = [self._by_scope[scope] for where in wheres if (scope := (kind, where)) in self._by_scope]
        for join in list(self._joins.get(kind, ())):
            for keyed_scope in self._keyed_scopes(kind, wheres, join, obj):
                if keyed_scope in self._by_key:
                    found.append(self._by_key[keyed_scope])
        if self._by_label:
            for label, value in labels_of(obj).items():
                for where in wheres:
                    label_scope = (kind, where, str(label), str(value))
                    if label_scope in self._by_label:
                        found.append(self._by_label[label_scope])
        return found

    def _keyed_scopes(self, kind: str, wheres: set[str | None], join: Join, obj: Object) -> list[KeyedScope]:
        """Where searches that `obj` may match are filed: under its join keys, here and cluster-wide."""
        try:
            keys = set(join.candidate(obj))
        except Exception:  # a malformed object: its keys are unknown, so every search of the join is asked
            return [s for s in self._by_key if s[0] == kind and s[2] is join]
        return [(kind, where, join, key) for key in keys for where in wheres]

    def _references(self, kind: str, objects: Iterable[Object]) -> set[ObjectRef]:
        try:
            return {t for obj in objects for t in self._catalog.references(self._catalog.kind(kind), obj)}
        except Exception:  # a malformed object: its references are unknown, and so is who it concerns
            return {target for k, target in self._by_referred if k == kind}


@dataclass(frozen=True, slots=True)
class _Filed:
    """Where one holder is filed, to take it out again."""

    objects: set[ObjectRef]
    scopes: dict[Scope, list[Matcher]]
    labels: dict[LabelScope, list[Matcher]]
    keyed: dict[KeyedScope, list[Matcher]]
    referred: set[tuple[str, ObjectRef]]

    @property
    def size(self) -> int:
        return len(self.objects) + len(self.scopes) + len(self.labels) + len(self.keyed) + len(self.referred)

    @classmethod
    def of(cls, reads: ReadRecorder) -> _Filed:
        scopes: dict[Scope, list[Matcher]] = defaultdict(list)
        labels: dict[LabelScope, list[Matcher]] = defaultdict(list)
        keyed: dict[KeyedScope, list[Matcher]] = defaultdict(list)
        for query in reads.queries:
            for narrow in query.members or (query,):  # a batch read depends on what each parent asked
                if narrow.joined is not None:
                    join, keys = narrow.joined  # no key: it can match nothing, now or later
                    for key in keys:
                        keyed[(narrow.kind, narrow.namespace, join, key)].append(narrow.matches)
                    continue
                required = _required_label(narrow)
                if required is not None:
                    labels[(narrow.kind, narrow.namespace, *required)].append(narrow.matches)
                else:
                    scopes[(narrow.kind, narrow.namespace)].append(narrow.matches)
        referred = {(kind, target) for target, kind in reads.referrer_queries}
        return cls(set(reads.objects), dict(scopes), dict(labels), dict(keyed), referred)


def _required_label(query: Query) -> tuple[str, str] | None:
    """A label every object the query matches has (its selector's first `key=value`), if any."""
    equalities = query.selector.equalities()
    if not equalities:
        return None
    key = min(equalities)
    return key, equalities[key]


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
    # break the watch that delivers it; when in doubt, the holder is told
    try:
        return match(obj)
    except Exception:
        return True
