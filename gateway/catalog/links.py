"""Links: how one entity leads to others, declared as data the engine and the stores read.

A link names its targets and says *how* they are found, as one of four resolvers:

- `Named`: the entity names its targets (a volume's `claimName`); one get per name,
  or one list per namespace when a whole level is resolved at once.
- `Selected`: targets are found by a query in the entity's namespace (label
  selector, owner uid, a predicate on the candidate); one list per namespace.
- `Parts`: sub-entities carved out of the entity itself (a VM's volumes); no reads.
- `Referrers`: the reverse of every `Named` link of another kind ("which VMs use
  this PVC?"); answered by the stores' reverse index (read directly: one list per
  namespace for a whole level, `referrers_among`), never declared twice.
- `Computed`: a document a higher layer computes (KubeVirt's object graph), embedded as is.

Pure: no I/O, no Flask, no Kubernetes client.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Hashable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from gateway.catalog.kinds import Kind, Object, ObjectRef, href_for, meta
from gateway.catalog.selectors import LabelSelector


@dataclass(frozen=True, slots=True, eq=False)
class Entity:
    """An object (or sub-entity) in the context it was reached in."""

    kind: Kind
    obj: Object
    namespace: str | None
    """The object's namespace; for a sub-entity, its owner's."""
    href: str
    parent: Entity | None = None
    """The entity whose link reached this one: some links depend on the path."""
    rel: str | None = None
    missing: str | None = None
    """Why a named target is absent (NotFound, GarbageCollected, Forbidden): a stand-in entity that
    carries only its name, so that steps beyond it (a revision the VM pinned) can still be resolved."""
    _memo: EntityMemo | None = field(default=None, compare=False, repr=False)

    def memo(self) -> EntityMemo:
        """What links derive from this entity (names, parts, its links map), computed once.

        For an object a store holds (a `Held`), shared by every entity of it across requests: a
        store replaces an object when it changes, never changes it in place, so the memo goes
        with the old version.
        """
        if self._memo is None:
            memo = memo_of(self.owner().obj, self.href)
            object.__setattr__(self, "_memo", memo)
            return memo
        return self._memo

    def owner(self) -> Entity:
        """The object this entity is, or (for a sub-entity) is carved from."""
        return self.parent.owner() if self.kind.part and self.parent is not None else self

    @property
    def name(self) -> str:
        if self.kind.part:
            return str(self.obj.get("name", ""))
        return str(meta(self.obj).get("name", ""))

    @property
    def uid(self) -> str | None:
        uid = meta(self.obj).get("uid")
        return str(uid) if uid else None

    @property
    def via(self) -> tuple[str, str] | None:
        """(parent kind, rel) that reached this entity: what path-dependent links look at."""
        if self.parent is None or self.rel is None:
            return None
        return self.parent.kind.name, self.rel

    def ref(self) -> ObjectRef:
        return ObjectRef(self.kind.name, self.namespace if self.kind.namespaced else None, self.name)

    @classmethod
    def root(cls, kind: Kind, obj: Object) -> Entity:
        ns = meta(obj).get("namespace") if kind.namespaced else None
        name = str(meta(obj).get("name", ""))
        return cls(kind, obj, ns, href_for(kind, ns, name))


@dataclass(frozen=True, slots=True)
class Query:
    """Objects of one kind in one namespace (None: all) that match every condition."""

    kind: str
    namespace: str | None
    selector: LabelSelector = field(default_factory=LabelSelector)
    where: Callable[[Object], bool] | None = None
    joined: tuple[Join, frozenset[Hashable]] | None = None
    """A hint: only objects with one of these join keys can match (stores with a join index use it)."""
    members: tuple[Query, ...] = ()
    """For a batch read on behalf of narrower queries (one per parent): those. An answer built from
    it depends only on objects one of them matches, not on everything this wider query reads."""

    def matches(self, obj: Object) -> bool:
        m = meta(obj)
        if self.namespace is not None and m.get("namespace") != self.namespace:
            return False
        labels = m.get("labels")
        if self.selector and not self.selector.matches(labels if isinstance(labels, dict) else {}):
            return False
        return self.where is None or self.where(obj)


@dataclass(frozen=True, slots=True)
class MissingProbe:
    """How to tell why a named target is absent: if `probe` exists and `holds`, say `reason`."""

    probe: Callable[[ObjectRef], ObjectRef]
    holds: Callable[[Object], bool]
    reason: str


@dataclass(frozen=True, slots=True)
class Named:
    refs: Callable[[Entity], list[ObjectRef]]
    missing: MissingProbe | None = None
    across: bool = False
    """It may name an object in another namespace than the entity's (`ns/name`, `{name, namespace}`):
    its reverse is then searched in every namespace. A test reads every other link on objects whose
    every field names another namespace, to catch one that does so undeclared."""


@dataclass(frozen=True, slots=True)
class Selected:
    query: Callable[[Entity], Query | None]
    pick: Callable[[Entity, list[Object]], list[Object]] | None = None
    """For a to-one link: choose among several matches (a migrating VMI has two pods)."""
    present: Callable[[Entity], bool] | None = None
    """Whether the link shows in `links` at all, decided from the entity alone."""
    absent_ok: bool = False
    """A to-one link that may lead nowhere: no match embeds nothing, not a missing marker (to a caller
    who may not search there, the Forbidden marker a match they may not see gives: the engine's)."""
    join: Join | None = None
    """Keys that let a batch match many parents against one list by hash, not pairwise."""


@dataclass(frozen=True, slots=True)
class Join:
    """A parent and a candidate can match only if their key sets meet (`query` still decides)."""

    parent: Callable[[Entity], Iterable[Hashable]]
    candidate: Callable[[Object], Iterable[Hashable]]


@dataclass(frozen=True, slots=True)
class Parts:
    parts: Callable[[Entity], list[Object]]


@dataclass(frozen=True, slots=True)
class Referrers:
    source: str
    """The kind whose `Named` links point here."""


@dataclass(frozen=True, slots=True)
class Computed:
    """A document computed from the entity by a provider registered at startup (the object graph)."""

    provider: str


Resolver = Named | Selected | Parts | Referrers | Computed


def named_refs(entity: Entity, link: Link) -> list[ObjectRef]:
    """What `entity` names through `link`, computed once per stored object."""
    resolver = link.resolver
    assert isinstance(resolver, Named)
    return _derived(entity, link, resolver.refs)


def parts_of(entity: Entity, link: Link) -> list[Object]:
    """The parts `link` carves out of `entity`, carved once per stored object."""
    resolver = link.resolver
    assert isinstance(resolver, Parts)
    return _derived(entity, link, resolver.parts)


def _derived(entity: Entity, link: Link, compute: Callable[[Entity], list[Any]]) -> list[Any]:
    if link.via:  # a path-dependent link reads the parent too: not a property of this object alone
        return compute(entity)
    derived = entity.memo().derived
    found = derived.get(link.rel)
    if found is None:
        found = derived[link.rel] = compute(entity)
    return found


@dataclass(slots=True)
class EntityMemo:
    """What links derive from one entity, computed once per object version: each its own field, so
    no rel can collide with another layer's entry."""

    derived: dict[str, list[Any]] = field(default_factory=dict)
    """Per rel: the names a `Named` link read, or the parts a `Parts` link carved."""
    links: dict[tuple[str, str] | None, dict[str, dict[str, str]]] = field(default_factory=dict)
    """Per path that reached it (`via`): the entity's `links` map."""
    size: int | None = None
    """The object's encoded size in bytes."""


_EDITION = [0]
"""How many times a catalogue in use took other entries (`Catalog.adopt`): memos of an earlier
edition were derived from other links, and are derived again."""


def edition() -> int:
    """The catalogue's edition: a value derived under another one (a memo, a remembered answer) is stale."""
    return _EDITION[0]


class Held(dict[str, Any]):
    """An object as a store holds it: a dict (it serializes as one) with room for what links
    derive from it. A store replaces an object when it changes and never changes one in place, so
    the memo lives and dies with its object, and costs nothing until the object is served. A copy
    is a plain dict without the memo: whoever copies an object may change it."""

    __slots__ = ("derived", "edition")

    def __init__(self, obj: Object) -> None:
        super().__init__(obj)
        self.derived: dict[str, EntityMemo] | None = None
        self.edition = _EDITION[0]

    def __copy__(self) -> Object:
        return dict(self)

    def __deepcopy__(self, memo: dict[int, Any]) -> Object:
        return copy.deepcopy(dict(self), memo)

    def __reduce__(self) -> tuple[type, tuple[Object]]:
        return dict, (dict(self),)


def memo_of(obj: Object, href: str) -> EntityMemo:
    """The memo of the entity at `href` carved from (or being) `obj`: shared across requests for
    an object a store holds, a fresh one for any other (nothing of one request reaches another)."""
    if type(obj) is not Held:
        return EntityMemo()
    memos = obj.derived
    if memos is None or obj.edition != _EDITION[0]:
        obj.edition = _EDITION[0]
        memos = obj.derived = {}  # two threads at once: one memo is lost, both hold the same values
    # setdefault is atomic under the GIL: two threads asking at once get the same memo
    return memos.setdefault(href, EntityMemo())


@dataclass(frozen=True, slots=True)
class Declared:
    """A link a user declared: in which source, and whether it is an `inverse` (its targets name the
    entity, so in the application graph they connect to it, not it to them)."""

    source: str
    inverse: bool = False


@dataclass(frozen=True, slots=True)
class Link:
    rel: str
    targets: tuple[str, ...]
    many: bool
    resolver: Resolver
    doc: str
    """What it is resolved from, in a line: shown by GET /catalog."""
    via: frozenset[tuple[str, str]] = frozenset()
    """Only reachable through these (parent kind, rel) pairs; empty: always."""
    optional: bool = False
    """In KubeVirt's object graph, its targets are optional nodes (a backup may leave them out)."""
    declared: Declared | None = None
    """Where a user declared it (`--links`, a ConfigMap); None for a built-in link."""

    def applies(self, via: tuple[str, str] | None) -> bool:
        return not self.via or via in self.via


@dataclass(frozen=True, slots=True)
class GraphStep:
    """One kind of child in KubeVirt's object graph, reached by catalogue links from its parent node.

    `path` is one or more rels; nodes are made for the last one's targets (intermediate ones,
    such as an instancetype on the way to its pinned revision, are nodes of earlier steps).
    """

    path: tuple[str, ...]
    children: tuple[GraphStep, ...] = ()
    """Steps from each target, nested as that node's children (a DataVolume's PVC)."""
    each: tuple[GraphStep, ...] = ()
    """For a `Parts` link: steps from every part, in order, whose nodes are the parent's children."""
    types: frozenset[str] = frozenset()
    """Only from parts of these types (a volume's source type); empty: all."""
    instead_if_collected: GraphStep | None = None
    """A target CDI garbage-collected is not a node; this step's nodes stand in for it."""
    pick: Callable[[Entity, list[Object]], list[Object]] | None = None
    """KubeVirt's choice among a query's matches, where the graph must choose as KubeVirt does."""


class Catalog:
    """Kinds and their links. Read-only after `freeze()`; declarations applied at run time replace
    every entry at once (`adopt`)."""

    def __init__(self) -> None:
        self._kinds: dict[str, Kind] = {}
        self._by_collection: dict[str, Kind] = {}
        self._links: dict[str, dict[str, Link]] = {}
        self._graphs: dict[str, tuple[GraphStep, ...]] = {}
        self._by_via: dict[tuple[str, tuple[str, str] | None], dict[str, Link]] = {}
        self._path_dependent: dict[tuple[str, tuple[str, str] | None], bool] = {}
        self._named_across: dict[str, frozenset[str]] = {}
        self._frozen = False

    def add_kind(self, kind: Kind) -> Kind:
        self._check_open()
        if kind.name in self._kinds:
            raise ValueError(f"kind {kind.name} declared twice")
        self._kinds[kind.name] = kind
        if not kind.part:
            self._by_collection[kind.collection] = kind
        self._links[kind.name] = {}
        return kind

    def add_link(self, kind: str, link: Link) -> None:
        self._check_open()
        links = self._links[kind]
        if link.rel in links:
            raise ValueError(f"link {kind}.{link.rel} declared twice")
        unknown = [t for t in link.targets if t not in self._kinds]
        if unknown:
            raise ValueError(f"link {kind}.{link.rel} targets unknown kinds {unknown}")
        links[link.rel] = link

    def add_graph(self, kind: str, steps: tuple[GraphStep, ...]) -> None:
        """The object graph of `kind` (VM, VMI) as steps over its links."""
        self._check_open()
        self._graphs[kind] = steps

    def graph(self, kind: str) -> tuple[GraphStep, ...] | None:
        return self._graphs.get(kind)

    def joins(self, kind: str) -> list[Join]:
        """The joins of `Selected` links that search `kind`: what a store indexes it by."""
        return [
            link.resolver.join
            for links in self._links.values()
            for link in links.values()
            if isinstance(link.resolver, Selected) and link.resolver.join is not None and link.targets[0] == kind
        ]

    def freeze(self) -> None:
        self._frozen = True

    def adopt(self, other: Catalog) -> None:
        """Become `other`, a frozen catalogue (the built-in entries and other declarations), in one
        step: everything that holds this object reads the new entries from its next call on. What
        links derived from held objects (their memos) was derived from the old entries: forgotten."""
        if not other._frozen:
            raise RuntimeError("adopt a frozen catalogue")
        self.__dict__ = dict(other.__dict__)  # one assignment: no call sees half of each
        _EDITION[0] += 1

    def _check_open(self) -> None:
        if self._frozen:
            raise RuntimeError("the catalogue is frozen: declare kinds and links at import time")

    def kind(self, name: str) -> Kind:
        return self._kinds[name]

    def known(self, name: str) -> Kind | None:
        """The kind of that name, if the catalogue has it (declared kinds come and go)."""
        return self._kinds.get(name)

    def kinds(self) -> list[Kind]:
        return list(self._kinds.values())

    def by_collection(self, collection: str) -> Kind | None:
        return self._by_collection.get(collection)

    def lookup(self, word: str) -> Kind | None:
        """A kind by any name kubectl takes for it: short name, singular, plural, kind, or our collection."""
        wanted = word.lower()
        for kind in self._by_collection.values():
            if wanted in (kind.collection, kind.plural, kind.name.lower(), *kind.short_names):
                return kind
        return None

    def collections(self) -> list[Kind]:
        return sorted(self._by_collection.values(), key=lambda k: k.collection)

    def links(self, kind: str, via: tuple[str, str] | None = None) -> dict[str, Link]:
        """The links of `kind` as reached through `via` (parent kind, rel). Do not change the result.

        The engine asks this for every entity it embeds: once the catalogue is frozen the answer
        cannot change, so it is computed once per (kind, via).
        """
        key = (kind, via)
        found = self._by_via.get(key)
        if found is None:
            found = {r: link for r, link in self._links[kind].items() if link.applies(via)}
            if self._frozen:
                self._by_via[key] = found
        return found

    def path_dependent(self, kind: str, via: tuple[str, str] | None) -> bool:
        """Whether one of the links of `kind` reached through `via` reads the path (its parent too)."""
        key = (kind, via)
        found = self._path_dependent.get(key)
        if found is None:
            found = any(link.via for link in self.links(kind, via).values())
            if self._frozen:
                self._path_dependent[key] = found
        return found

    def link(self, kind: str, rel: str) -> Link:
        """One link of `kind`, whatever path reached it."""
        return self._links[kind][rel]

    def all_links(self, kind: str) -> Mapping[str, Link]:
        """Every link of `kind`, whatever the path: a read-only view, not a copy (the graphs ask often)."""
        return MappingProxyType(self._links[kind])

    def referrer_scope(self, source: str, target: ObjectRef) -> str | None:
        """Where objects of `source` that name `target` can be: the target's namespace, or None
        (every namespace) for a cluster-scoped target or source, or a target that a link of `source`
        may name from another namespace (a multus network's `ns/name`)."""
        if target.namespace is None or not self._kinds[source].namespaced or target.kind in self.named_across(source):
            return None
        return target.namespace

    def named_across(self, kind: str) -> frozenset[str]:
        """The kinds `kind` may name in another namespace, directly or through its parts, as
        `references()` reads them."""
        found = self._named_across.get(kind)
        if found is None:
            kinds: set[str] = set()
            for link in self._links[kind].values():
                if link.via:
                    continue
                if isinstance(link.resolver, Named) and link.resolver.across:
                    kinds.update(link.targets)
                elif isinstance(link.resolver, Parts):
                    kinds |= self.named_across(link.targets[0])
            found = frozenset(kinds)
            if self._frozen:
                self._named_across[kind] = found
        return found

    def referrers_among(
        self, kind: Kind, objects: Iterable[Object], targets: Iterable[ObjectRef]
    ) -> dict[ObjectRef, list[Object]]:
        """Which of `objects` (of `kind`) name each of `targets`, in the order given: a reverse link
        for many targets answered from one listing."""
        found: dict[ObjectRef, list[Object]] = {t: [] for t in targets}
        for obj in objects:
            for ref in found.keys() & set(self.references(kind, obj)):  # an object once per target it names
                found[ref].append(obj)
        return found

    def references(self, kind: Kind, obj: Object) -> Iterator[ObjectRef]:
        """Every object this one names, directly or through its parts.

        The stores index these to answer `Referrers` links, so declaring a `Named`
        link is enough to get its reverse.
        """
        entity = Entity.root(kind, obj)
        yield from self._references(entity)

    def _references(self, entity: Entity) -> Iterator[ObjectRef]:
        for link in self._links[entity.kind.name].values():
            if link.via:
                continue
            resolver = link.resolver
            if isinstance(resolver, Named):
                yield from resolver.refs(entity)
            elif isinstance(resolver, Parts):
                part_kind = self._kinds[link.targets[0]]
                for part in resolver.parts(entity):
                    yield from self._references(part_entity(entity, link.rel, part_kind, part))


def part_entity(owner: Entity, rel: str, kind: Kind, part: Object) -> Entity:
    """A sub-entity (a volume of a VM) with its href under its owner."""
    return Entity(kind, part, owner.namespace, f"{owner.href}/{rel}/{part.get('name', '')}", owner, rel)
