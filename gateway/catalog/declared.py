"""Declared links: the LinkCatalog document of DESIGN section 12, parsed and turned into catalogue entries.

A document declares kinds (CRDs the gateway does not know) and links between kinds, each link with
one of four resolvers, every field path in kubectl's JSONPath dialect (`gateway.jsonpath`):

- `name` (and maybe `namespace`): names read at a path   -> a `Named` link (`across` with `namespace`)
- `ref`: `{name, namespace?, kind?, apiVersion?}` maps   -> a `Named` link, `across`
- `owner`: the source's ownerReferences of the target kind -> a `Named` link
- `selector`: a LabelSelector or a label map             -> a `Selected` link
and `inverse`, the reverse rel added to the target kind (`Referrers` of a named link; for a selector,
a `Selected` search of the sources whose selector matches the target).

The built-in data-shaped links (`builtin.yaml`) are loaded by this same code. Errors name the
document, the line and the field: `links.yaml:14: links[2].name: JSONPath does not parse: ...`.
Pure: the caller reads the files (`store/linkfiles.py`) or the ConfigMaps.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import yaml

from gateway.catalog import refs
from gateway.catalog.kinds import Kind, Object, ObjectRef, meta
from gateway.catalog.links import Catalog, Declared, Entity, Link, Named, Query, Referrers, Selected
from gateway.catalog.selectors import LabelSelector, SelectorError, selector_from_object
from gateway.jsonpath import JsonPathError, Path, compile_path

API_VERSION = "kubevirt-gateway.io/v1alpha1"
NAMESPACE = "Namespace"
DOCUMENT_KIND = "LinkCatalog"
RESOLVERS = ("name", "ref", "selector", "owner")
OWNER_MODES = ("controller", "any")
_REL = re.compile(r"[a-z][a-z0-9_]*\Z")
_KIND = re.compile(r"[A-Z][A-Za-z0-9]*\Z")
_RESOURCE = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?\Z")
_DOCUMENT_FIELDS = ("apiVersion", "kind", "metadata", "kinds", "links")
_KIND_FIELDS = ("kind", "apiVersion", "resource", "namespaced", "collection", "shortNames")
_LINK_FIELDS = ("from", "rel", "to", "inverse", *RESOLVERS, "namespace", "many", "description")
REFERENCE_FIELDS = ("name", "namespace", "kind", "apiVersion")
"""What a `ref` resolver reads in each reference it finds."""
OWNER_FIELDS = ("metadata", "ownerReferences", "kind", "name", "controller")
"""What an `owner` resolver reads."""
# paths the gateway serves beside the collections: a declared collection may not take them
RESERVED_COLLECTIONS = frozenset({"catalog", "healthz", "readyz", "metrics", "ui", "api", "apis", "openapi"})
# a rel is a top-level key of the entity it is on: never one of its fields. The all-lowercase
# top-level JSON names (k8s.io/api v0.37.2 types.go), since a rel is lowercase; every kind has these:
COMMON_FIELDS = frozenset({"kind", "metadata", "spec", "status", "href", "links", "missing", "reason", "name"})
KIND_FIELDS = {
    "Secret": frozenset({"data", "immutable", "type"}),
    "ConfigMap": frozenset({"data", "immutable"}),
    "ServiceAccount": frozenset({"secrets"}),
    "ControllerRevision": frozenset({"data", "revision"}),
    "StorageClass": frozenset({"provisioner", "parameters"}),
}


class DeclarationError(ValueError):
    """A declaration the gateway cannot take, and where: document, line (1-based) and field."""

    def __init__(self, source: str, line: int | None, field: str, message: str) -> None:
        self.source, self.line, self.field, self.message = source, line, field, message
        where = f"{source}:{line}" if line is not None else source
        super().__init__(f"{where}: {field}: {message}" if field else f"{where}: {message}")


@dataclass(frozen=True, slots=True)
class DeclaredKind:
    kind: Kind
    field: str
    """`kinds[0]`: where it is in its document."""
    lines: Mapping[str, int]
    """The line of the entry (key "") and of each of its fields."""


@dataclass(frozen=True, slots=True)
class DeclaredLink:
    source_kind: str
    rel: str
    targets: tuple[str, ...]
    resolver: str
    """name, ref, selector or owner."""
    path: Path | None
    """The JSONPath of `name`, `ref` or `selector`."""
    namespace: Path | None
    owner: str | None
    """controller or any."""
    inverse: str | None
    many: bool | None
    """None: as the resolver and its path say."""
    description: str | None
    field: str
    """`links[2]`: where it is in its document."""
    lines: Mapping[str, int]


@dataclass(frozen=True, slots=True)
class Declarations:
    """One source's documents: a file, or a ConfigMap's data key."""

    source: str
    kinds: tuple[DeclaredKind, ...] = ()
    links: tuple[DeclaredLink, ...] = ()

    def error(self, entry: DeclaredKind | DeclaredLink, key: str, message: str) -> DeclarationError:
        line = entry.lines.get(key, entry.lines.get(""))
        return DeclarationError(self.source, line, f"{entry.field}.{key}" if key else entry.field, message)


@dataclass(frozen=True, slots=True)
class SourceStatus:
    """What became of one source of declarations: applied, or left out with its error."""

    source: str
    error: str | None = None

    def document(self) -> dict[str, str]:
        return {"source": self.source, "status": "Error" if self.error else "Applied"} | (
            {"error": self.error} if self.error else {}
        )


# ---------------------------------------------------------------------------------------------- parsing


def parse_link_catalog(text: str, source: str) -> Declarations:
    """The LinkCatalog documents of one source (`---` may separate several), checked for shape and
    syntax; what needs the catalogue (kinds known, rels free) is checked when they are added."""
    try:
        nodes = list(yaml.compose_all(text, Loader=yaml.SafeLoader))
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        raise DeclarationError(source, mark.line + 1 if mark else None, "", f"invalid YAML: {e.problem}") from None
    except yaml.YAMLError as e:
        raise DeclarationError(source, None, "", f"invalid YAML: {e}") from None
    kinds: list[DeclaredKind] = []
    links: list[DeclaredLink] = []
    for node in nodes:
        if node is None:
            continue
        reader = _Reader(source)
        doc = reader.mapping(node, "", _DOCUMENT_FIELDS)
        reader.required(doc, node, "apiVersion", "")
        reader.required(doc, node, "kind", "")
        if reader.text(doc["apiVersion"], "apiVersion") != API_VERSION:
            raise reader.error(doc["apiVersion"], "apiVersion", f"must be {API_VERSION}")
        if reader.text(doc["kind"], "kind") != DOCUMENT_KIND:
            raise reader.error(doc["kind"], "kind", f"must be {DOCUMENT_KIND}")
        if "metadata" in doc:
            reader.mapping(doc["metadata"], "metadata", None)
        for i, item in enumerate(reader.sequence(doc.get("kinds"), "kinds")):
            kinds.append(reader.kind(item, f"kinds[{i}]"))
        for i, item in enumerate(reader.sequence(doc.get("links"), "links")):
            links.append(reader.link(item, f"links[{i}]"))
    return Declarations(source, tuple(kinds), tuple(links))


class _Reader:
    """Reads composed YAML nodes, so that every error can name its line."""

    def __init__(self, source: str) -> None:
        self.source = source

    def error(self, node: yaml.Node | None, where: str, message: str) -> DeclarationError:
        line = node.start_mark.line + 1 if node is not None else None
        return DeclarationError(self.source, line, where, message)

    def mapping(self, node: yaml.Node, where: str, allowed: Sequence[str] | None) -> dict[str, yaml.Node]:
        if not isinstance(node, yaml.MappingNode):
            raise self.error(node, where or "document", "must be a map")
        found: dict[str, yaml.Node] = {}
        for key, value in node.value:
            name = key.value if isinstance(key, yaml.ScalarNode) else None
            at = f"{where}.{name}" if where else str(name)
            if allowed is not None and name not in allowed:
                raise self.error(key, at, f"unknown field (known: {', '.join(allowed)})")
            if name in found:
                raise self.error(key, at, "given twice")
            found[str(name)] = value
        return found

    def required(self, entry: dict[str, yaml.Node], node: yaml.Node, key: str, where: str) -> None:
        if key not in entry:
            raise self.error(node, f"{where}.{key}" if where else key, "required")

    def sequence(self, node: yaml.Node | None, where: str) -> list[yaml.Node]:
        if node is None or (isinstance(node, yaml.ScalarNode) and node.tag == "tag:yaml.org,2002:null"):
            return []
        if not isinstance(node, yaml.SequenceNode):
            raise self.error(node, where, "must be a list")
        return list(node.value)

    def text(self, node: yaml.Node, where: str) -> str:
        if not isinstance(node, yaml.ScalarNode) or node.tag != "tag:yaml.org,2002:str" or not node.value:
            raise self.error(node, where, "must be a non-empty string")
        return str(node.value)

    def boolean(self, node: yaml.Node, where: str) -> bool:
        if not isinstance(node, yaml.ScalarNode) or node.tag != "tag:yaml.org,2002:bool":
            raise self.error(node, where, "must be true or false")
        return bool(yaml.constructor.SafeConstructor().construct_yaml_bool(node))

    def word(self, node: yaml.Node, where: str, pattern: re.Pattern[str], what: str) -> str:
        value = self.text(node, where)
        if not pattern.match(value):
            raise self.error(node, where, f"{value!r} is not {what}")
        return value

    def path(self, node: yaml.Node, where: str) -> Path:
        value = self.text(node, where)
        if value.lstrip().startswith("{"):
            raise self.error(node, where, f"JSONPath does not parse: write {value!r} without braces")
        try:
            return compile_path(value)
        except JsonPathError as e:
            raise self.error(node, where, f"JSONPath does not parse: {e}") from None

    def lines(self, node: yaml.Node, entry: dict[str, yaml.Node]) -> dict[str, int]:
        return {"": node.start_mark.line + 1} | {k: v.start_mark.line + 1 for k, v in entry.items()}

    def kind(self, node: yaml.Node, where: str) -> DeclaredKind:
        entry = self.mapping(node, where, _KIND_FIELDS)
        for key in ("kind", "apiVersion", "resource"):
            self.required(entry, node, key, where)
        name = self.word(entry["kind"], f"{where}.kind", _KIND, "a kind name (CamelCase, letters and digits)")
        api_version = self.text(entry["apiVersion"], f"{where}.apiVersion")
        group, _, version = api_version.rpartition("/")
        if not version or not group or "/" in group:
            raise self.error(entry["apiVersion"], f"{where}.apiVersion", f"{api_version!r} is not group/version")
        resource = self.word(entry["resource"], f"{where}.resource", _RESOURCE, "an API plural (lowercase)")
        collection = resource
        if "collection" in entry:
            collection = self.word(entry["collection"], f"{where}.collection", _RESOURCE, "a lowercase path segment")
        namespaced = self.boolean(entry["namespaced"], f"{where}.namespaced") if "namespaced" in entry else True
        short: list[str] = []
        for i, item in enumerate(self.sequence(entry.get("shortNames"), f"{where}.shortNames")):
            short.append(self.word(item, f"{where}.shortNames[{i}]", _RESOURCE, "a lowercase short name"))
        kind = Kind(name, group, version, resource, collection, namespaced, short_names=tuple(short))
        return DeclaredKind(kind, where, self.lines(node, entry))

    def link(self, node: yaml.Node, where: str) -> DeclaredLink:
        entry = self.mapping(node, where, _LINK_FIELDS)
        for key in ("from", "rel", "to"):
            self.required(entry, node, key, where)
        source_kind = self.word(entry["from"], f"{where}.from", _KIND, "a kind name")
        rel = self.word(entry["rel"], f"{where}.rel", _REL, "a rel ([a-z][a-z0-9_]*)")
        to = entry["to"]
        if isinstance(to, yaml.SequenceNode):
            targets = tuple(
                self.word(t, f"{where}.to[{i}]", _KIND, "a kind name") for i, t in enumerate(self.sequence(to, ""))
            )
            if not targets:
                raise self.error(to, f"{where}.to", "names no kind")
        else:
            targets = (self.word(to, f"{where}.to", _KIND, "a kind name"),)
        given = [r for r in RESOLVERS if r in entry]
        if len(given) != 1:
            found = f"two resolvers ({', '.join(given)})" if given else "no resolver"
            at = entry[given[1]] if len(given) > 1 else node
            raise self.error(at, f"{where}.{given[1]}" if len(given) > 1 else where,
                             f"{found}: give exactly one of {', '.join(RESOLVERS)}")  # fmt: skip
        resolver = given[0]
        if len(targets) > 1 and resolver != "ref":
            raise self.error(to, f"{where}.to", "several kinds need a `ref` resolver (its `kind` says which)")
        if "namespace" in entry and resolver not in ("name", "selector"):
            raise self.error(entry["namespace"], f"{where}.namespace", f"does not go with `{resolver}`")
        path = owner = None
        if resolver == "owner":
            owner = self.text(entry["owner"], f"{where}.owner")
            if owner not in OWNER_MODES:
                raise self.error(entry["owner"], f"{where}.owner", "must be controller or any")
        else:
            path = self.path(entry[resolver], f"{where}.{resolver}")
        namespace = self.path(entry["namespace"], f"{where}.namespace") if "namespace" in entry else None
        inverse = self.word(entry["inverse"], f"{where}.inverse", _REL, "a rel") if "inverse" in entry else None
        many = self.boolean(entry["many"], f"{where}.many") if "many" in entry else None
        description = self.text(entry["description"], f"{where}.description") if "description" in entry else None
        return DeclaredLink(
            source_kind, rel, targets, resolver, path, namespace, owner, inverse, many, description, where,
            self.lines(node, entry),
        )  # fmt: skip


# ---------------------------------------------------------------------------------------------- adding


def add_kinds(catalog: Catalog, declared: Declarations) -> None:
    """Add the kinds of one source, all or none (a `DeclarationError` names the first problem)."""
    taken = {word: k.name for k in catalog.collections() for word in (k.collection, *k.short_names)}
    names = {k.name for k in catalog.kinds()}
    for entry in declared.kinds:
        kind = entry.kind
        if kind.name in names:
            raise declared.error(entry, "kind", f"{kind.name} is already a kind")
        # the collection is a path, a short name a word the CLI looks up: the API's plural is neither
        for key, words in (("collection", (kind.collection,)), ("shortNames", kind.short_names)):
            for word in words:
                if word in RESERVED_COLLECTIONS or (word in taken and taken[word] != kind.name):
                    owner = taken.get(word, "the gateway")
                    raise declared.error(entry, key, f"{word!r} is already taken by {owner}")
        if kind.namespaced and kind.collection in catalog.all_links(NAMESPACE):
            raise declared.error(entry, "collection", f"{kind.collection!r} is a link of Namespace: its path "
                                                      f"/namespaces/NAME/{kind.collection} would be both")  # fmt: skip
        names.add(kind.name)
        for word in (kind.collection, *kind.short_names):
            taken[word] = kind.name
    for entry in declared.kinds:
        catalog.add_kind(entry.kind)


def add_links(catalog: Catalog, declared: Declarations, only: str | None = None, *, builtin: bool = False) -> None:
    """Add the links of one source (of kind `only`, if given), all or none; a user's are marked `Declared`."""
    entries = [e for e in declared.links if only is None or e.source_kind == only]
    made: list[tuple[str, Link]] = []
    pending: set[tuple[str, str]] = set()
    for entry in entries:
        for kind, link in _links_of(catalog, declared, entry):
            if not builtin:
                inverse = kind != entry.source_kind or link.rel != entry.rel
                link = dataclasses.replace(link, declared=Declared(declared.source, inverse))
            taken = (kind, link.rel) in pending or link.rel in catalog.all_links(kind)
            if taken or link.rel in COMMON_FIELDS | KIND_FIELDS.get(kind, frozenset()):
                key = "rel" if kind == entry.source_kind else "inverse"
                what = "a link" if taken else "a field"
                raise declared.error(entry, key, f"{kind} already has {what} named {link.rel!r}")
            if kind == NAMESPACE and (taken_by := _namespaced_collection(catalog, link.rel)) is not None:
                key = "rel" if kind == entry.source_kind else "inverse"
                raise declared.error(entry, key, f"{link.rel!r} would be at /namespaces/NAME/{link.rel}, the path of "
                                                 f"the {taken_by}s in that namespace: choose another rel")  # fmt: skip
            pending.add((kind, link.rel))
            made.append((kind, link))
    for kind, link in made:
        catalog.add_link(kind, link)


def _namespaced_collection(catalog: Catalog, word: str) -> str | None:
    """The namespaced kind whose collection `word` is: a Namespace's link may not be named so, since a
    namespace's links are at /namespaces/NAME/REL, where that kind's collection in the namespace is."""
    found = catalog.by_collection(word)
    return found.name if found is not None and found.namespaced else None


def _known(catalog: Catalog, declared: Declarations, entry: DeclaredLink, key: str, name: str) -> Kind:
    try:
        kind = catalog.kind(name)
    except KeyError:
        raise declared.error(entry, key, f"unknown kind {name} (declare it under kinds)") from None
    if kind.part:
        raise declared.error(entry, key, f"{name} is a part of another object, not an API kind")
    return kind


def _links_of(catalog: Catalog, declared: Declarations, entry: DeclaredLink) -> list[tuple[str, Link]]:
    """The link `entry` declares on its kind, and its inverse on each target kind."""
    source = _known(catalog, declared, entry, "from", entry.source_kind)
    targets = [_known(catalog, declared, entry, "to", t) for t in entry.targets]
    selector = entry.resolver == "selector"
    link = _selector_link(entry, source, targets[0]) if selector else _named_link(entry, targets)
    found = [(source.name, link)]
    if entry.inverse is not None:
        doc = f"{source.name}s whose {entry.rel} link names this (inverse of {source.name}.{entry.rel})"
        for target in targets:
            if selector:
                inverse = Link(entry.inverse, (source.name,), True, _selector_inverse(entry, source, target), doc)
            else:
                inverse = Link(entry.inverse, (source.name,), True, Referrers(source.name), doc)
            found.append((target.name, inverse))
    return found


def _many(entry: DeclaredLink) -> bool:
    if entry.many is not None:
        return entry.many
    if entry.resolver == "selector":
        return True
    if entry.resolver == "owner":
        return entry.owner == "any"
    return not (entry.path is not None and entry.path.single)


def _values(path: Path | None, obj: Object) -> list[Any]:
    if path is None:
        return []
    try:
        return path.find(obj)
    except JsonPathError:
        return []  # a filter that cannot compare what this object holds: it names nothing


def _named_link(entry: DeclaredLink, targets: list[Kind]) -> Link:
    many = _many(entry)
    find: Callable[[Entity], list[ObjectRef]]
    if entry.resolver == "name":
        find = _by_name(entry.path, entry.namespace, targets[0])
        doc = entry.path.text if entry.path else ""
        doc += f", in the namespace at {entry.namespace.text}" if entry.namespace else ""
    elif entry.resolver == "ref":
        find = _by_ref(entry.path, targets)
        doc = f"the reference at {entry.path.text if entry.path else ''}"
    else:
        find = _by_owner(targets[0].name, entry.owner == "controller")
        doc = f"the {'controller ' if entry.owner == 'controller' else ''}{targets[0].name} in metadata.ownerReferences"
    refs_of = find if many else (lambda e: find(e)[:1])
    across = entry.resolver == "ref" or entry.namespace is not None
    return Link(entry.rel, tuple(t.name for t in targets), many, Named(refs_of, None, across), entry.description or doc)


def _by_name(path: Path | None, namespace: Path | None, target: Kind) -> Callable[[Entity], list[ObjectRef]]:
    def find(e: Entity) -> list[ObjectRef]:
        names = [n for v in _values(path, e.obj) if (n := refs.text(v))]
        if not names:
            return []
        ns = None
        if target.namespaced:
            ns = next((t for v in _values(namespace, e.obj) if (t := refs.text(v))), None) or e.namespace
        return [ObjectRef(target.name, ns, n) for n in names]

    return find


def _by_ref(path: Path | None, targets: list[Kind]) -> Callable[[Entity], list[ObjectRef]]:
    by_name = {t.name: t for t in targets}

    def find(e: Entity) -> list[ObjectRef]:
        found = []
        for value in _values(path, e.obj):
            if not isinstance(value, dict) or not (name := refs.text(value.get("name"))):
                continue
            kind_name = value.get("kind")
            if kind_name is None and len(targets) == 1:
                kind_name = targets[0].name
            kind = by_name.get(kind_name) if isinstance(kind_name, str) else None
            if kind is None:
                continue  # a reference to another kind than this link's
            api_version = value.get("apiVersion")
            if isinstance(api_version, str) and api_version.rpartition("/")[0] != kind.group:
                continue  # the same kind name in another API group
            ns = (refs.text(value.get("namespace")) or e.namespace) if kind.namespaced else None
            found.append(ObjectRef(kind.name, ns, name))
        return found

    return find


def _by_owner(target: str, controller: bool) -> Callable[[Entity], list[ObjectRef]]:
    def find(e: Entity) -> list[ObjectRef]:
        owners = refs.maps(meta(e.obj).get("ownerReferences"))
        return [
            ObjectRef(target, e.namespace, name)
            for o in owners
            if o.get("kind") == target and (not controller or o.get("controller") is True)
            if (name := refs.text(o.get("name")))
        ]

    return find


def selector_at(path: Path | None, obj: Object) -> LabelSelector | None:
    """The selector at `path`: a metav1.LabelSelector or a plain label map. None for none, an empty
    one (selects nothing, as a Service's) or one the API server would have refused."""
    value = next(iter(_values(path, obj)), None)
    if not isinstance(value, dict) or not value:
        return None
    try:
        if "matchLabels" in value or "matchExpressions" in value:
            selector = selector_from_object(value)
        else:
            if not all(isinstance(v, str) for v in value.values()):
                return None
            selector = LabelSelector.from_labels({str(k): v for k, v in value.items()})
    except SelectorError:
        return None
    return selector or None


def _selector_link(entry: DeclaredLink, source: Kind, target: Kind) -> Link:
    path, namespace = entry.path, entry.namespace
    many = _many(entry)

    def query(e: Entity) -> Query | None:
        selector = selector_at(path, e.obj)
        if selector is None:
            return None
        ns = None
        if target.namespaced:
            ns = next((t for v in _values(namespace, e.obj) if (t := refs.text(v))), None) or e.namespace
        return Query(target.name, ns, selector)

    doc = entry.description or (
        f"{target.name}s the selector at {path.text if path else ''} matches"
        + (f", in the namespace at {namespace.text}" if namespace else "")
    )
    pick = None if many else (lambda e, found: found[:1])
    return Link(entry.rel, (target.name,), many, Selected(query, pick), doc)


def _selector_inverse(entry: DeclaredLink, source: Kind, target: Kind) -> Selected:
    """The sources whose selector matches this object: in its namespace, or in every one when the
    sources may search another namespace (`namespace:`) or are cluster-scoped."""
    path, across = entry.path, entry.namespace is not None or not source.namespaced

    def query(e: Entity) -> Query:
        labels = meta(e.obj).get("labels")
        labels = labels if isinstance(labels, dict) else {}
        where_ns = e.namespace

        def selects(src: Object) -> bool:
            selector = selector_at(path, src)
            if selector is None or not selector.matches(labels):
                return False
            if not target.namespaced:
                return True
            ns = next((t for v in _values(entry.namespace, src) if (t := refs.text(v))), None)
            return (ns or meta(src).get("namespace")) == where_ns

        return Query(source.name, None if across or not target.namespaced else e.namespace, where=selects)

    return Selected(query)


def add_declarations(catalog: Catalog, declared: Iterable[Declarations]) -> None:
    """Add every source's kinds, then every source's links (a link may name a kind another source
    declares). The first problem raises: for --links files, which stop the gateway."""
    sources = list(declared)
    for d in sources:
        add_kinds(catalog, d)
    for d in sources:
        add_links(catalog, d)
