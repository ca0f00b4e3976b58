"""Sparse fieldsets (`fields=` and `fields[<collection>]=`, JSON:API-style): which parts of each
entity an answer keeps.

Pure: parses the parameters against the catalogue's collections and trims rendered entities.
A trimmed entity always keeps what says what it is and where (`href`, `kind`, `metadata.name`,
`metadata.namespace`; a sub-entity, which has neither kind nor metadata, its `name`). The rels it
was followed by are added after trimming, so they always stay, their entities trimmed alike.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from gateway.catalog import Catalog
from gateway.errors import BadRequest

Path = tuple[str, ...]
Tree = dict[str, Any]
"""Dotted paths merged: {"status": {"printableStatus": {}}}; an empty dict keeps the whole value."""

ALWAYS: tuple[Path, ...] = (("href",), ("kind",), ("metadata", "name"), ("metadata", "namespace"))
PART_ALWAYS: tuple[Path, ...] = (("href",), ("name",))

MAX_PATHS = 256
"""Most dotted paths one request may name, over all its fields parameters."""


def merged(paths: tuple[Path, ...]) -> Tree:
    root: Tree = {}
    for path in paths:
        node = root
        for i, key in enumerate(path):
            last = i == len(path) - 1
            child = node.get(key)
            if child is not None and not child:
                break  # a shorter path keeps this whole value already
            if last:
                node[key] = {}
                break
            node = node.setdefault(key, {})
    return root


def trimmed(tree: Tree, value: Any) -> Any:
    """The parts of `value` the tree names; into a list, each element is trimmed alike."""
    if not tree:
        return value
    if isinstance(value, list):
        return [trimmed(tree, v) for v in value]
    if not isinstance(value, dict):
        return value  # a path deeper than the value: the value is all there is
    # a new dict in the object's own order: the object (and its shared `links` map) is never changed
    return {key: trimmed(tree[key], v) for key, v in value.items() if key in tree}


@dataclass(frozen=True)
class Fields:
    """One request's fieldsets: `fields` for every entity, `fields[<collection>]` (which wins) for one kind's."""

    every: tuple[Path, ...] | None = None
    by_collection: dict[str, tuple[Path, ...]] = field(default_factory=dict)
    _trees: dict[tuple[str, bool], Tree | None] = field(default_factory=dict, compare=False, repr=False)

    def __bool__(self) -> bool:
        return self.every is not None or bool(self.by_collection)

    def trim(self, doc: dict[str, Any], collection: str, part: bool = False) -> dict[str, Any]:
        """`doc`, an entity before its followed rels are added, with only the named paths and what always stays."""
        key = (collection, part)
        if key not in self._trees:
            paths = self.by_collection.get(collection, self.every)
            self._trees[key] = None if paths is None else merged((*paths, *(PART_ALWAYS if part else ALWAYS)))
        tree = self._trees[key]
        return doc if tree is None else dict(trimmed(tree, doc))


NO_FIELDS = Fields()


def collections_with_fields(catalog: Catalog) -> list[str]:
    """What `fields[...]` may name: every collection, and the sub-entities (volumes, networks)."""
    parts = [k.collection for k in catalog.kinds() if k.part and k.collection != "objectgraph"]
    return sorted({k.collection for k in catalog.collections()} | set(parts))


def parse_fields(every: str | None, by_collection: dict[str, str], catalog: Catalog) -> Fields:
    """`fields=` and each `fields[<collection>]=` (comma-separated dotted paths); a malformed value,
    or a collection the catalogue does not know, is a 400 naming the parameter."""
    if every is None and not by_collection:
        return NO_FIELDS
    known = collections_with_fields(catalog)
    parsed: dict[str, tuple[Path, ...]] = {}
    count = 0
    for collection, text in sorted(by_collection.items()):
        parameter = f"fields[{collection}]"
        if collection not in known:
            raise BadRequest(
                f"{parameter}: unknown collection {collection!r}; collections: {', '.join(known)}", field=parameter
            )
        parsed[collection] = _paths(text, parameter)
        count += len(parsed[collection])
    paths = _paths(every, "fields") if every is not None else None
    count += len(paths or ())
    if count > MAX_PATHS:
        raise BadRequest(f"fields: {count} paths, more than {MAX_PATHS}", field="fields")
    return Fields(paths, parsed)


def _paths(text: str, parameter: str) -> tuple[Path, ...]:
    paths: list[Path] = []
    for raw in text.split(","):
        item = raw.strip()
        if not item:
            raise BadRequest(
                f"{parameter}: an empty path in {text!r}; give comma-separated dotted paths, "
                "e.g. metadata.labels,status.printableStatus",
                field=parameter,
            )
        path = tuple(item.split("."))
        if not all(path):
            raise BadRequest(f"{parameter}: {item!r} has an empty key; keys are separated by one dot", field=parameter)
        paths.append(path)
    return tuple(paths)
