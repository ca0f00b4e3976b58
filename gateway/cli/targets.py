"""What `get`'s words ask for, read as kubectl reads them: `vm fedora`, `vm fedora rhel9`,
`vm,vmi fedora`, `vm/fedora dv/fedora-root`; and kinds by any name kubectl takes for them, with a
"did you mean" for a typo."""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from gateway.catalog import CATALOG, Catalog, Kind

# `ds` is kubectl's DaemonSet; the gateway serves none, and people type it for a DataSource (CDI's is `das`)
EXTRA_NAMES = {"ds": "datasources"}


class TargetError(Exception):
    """The words name no kind the gateway serves, or mix forms kubectl does not take together."""


@dataclass(frozen=True)
class Target:
    """One kind, and the names asked for (none: the whole collection)."""

    kind: Kind
    names: tuple[str, ...] = ()


def kind_of(word: str, catalog: Catalog = CATALOG) -> Kind:
    """The kind a word names: short name, singular, plural, kind, or the gateway's collection."""
    found = catalog.lookup(EXTRA_NAMES.get(word.lower(), word))
    if found is None or found.part:
        raise TargetError(
            f"unknown kind {word!r}{_did_you_mean(word, catalog)} (GET /catalog lists the kinds and their names)"
        )
    return found


def served_catalog(document: dict[str, Any]) -> Catalog:
    """The kinds a gateway's GET /catalog lists, declared ones too, as a catalogue to look words up in
    (the API's plural is not listed there: the collection stands in for it)."""
    catalog = Catalog()
    for entry in document.get("kinds") or []:
        if entry.get("subEntity") or not entry.get("apiVersion"):
            continue
        group, _, version = str(entry["apiVersion"]).rpartition("/")
        collection = str(entry["collection"])
        short = tuple(str(n) for n in entry.get("shortNames") or ())
        catalog.add_kind(Kind(str(entry["kind"]), group, version, collection, collection, bool(entry["namespaced"]),
                              short_names=short))  # fmt: skip
    catalog.freeze()
    return catalog


def _did_you_mean(word: str, catalog: Catalog) -> str:
    """The closest names, one for each kind (`virtualmachine`, not also `virtualmachines`)."""
    names = {name: kind.name for kind in catalog.collections() if not kind.part for name in _names(kind)}
    names.update({name: collection for name, collection in EXTRA_NAMES.items()})
    close = difflib.get_close_matches(word.lower(), sorted(names), n=10, cutoff=0.6)
    one_each = list({names[name]: name for name in reversed(close)}.values())[::-1][:3]
    return f"; did you mean {' or '.join(repr(c) for c in one_each)}?" if one_each else ""


def _names(kind: Kind) -> tuple[str, ...]:
    return (kind.collection, kind.plural, kind.name.lower(), kind.plural.removesuffix("s"), *kind.short_names)


def targets(words: Sequence[str], catalog: Catalog = CATALOG) -> list[Target]:
    """`KIND[,KIND...] [NAME...]` or `KIND/NAME...`, as kubectl's resource builder takes them."""
    if not words:
        raise TargetError("name a kind: vm, vmi, pvc, dv, ... (GET /catalog lists them)")
    if "/" in words[0]:
        found: list[Target] = []
        for word in words:
            kind, slash, name = word.partition("/")
            if not slash or not kind or not name or "/" in name:
                raise TargetError(f"{word!r}: give every object as KIND/NAME once one is given so")
            found.append(Target(kind_of(kind, catalog), (name,)))
        return found
    if any("/" in word for word in words[1:]):
        raise TargetError("there is no need to give a kind twice: use KIND NAME... or KIND/NAME...")
    kinds = [kind_of(word, catalog) for word in words[0].split(",") if word]
    if not kinds:
        raise TargetError(f"{words[0]!r} names no kind")
    return [Target(kind, tuple(words[1:])) for kind in dict.fromkeys(kinds)]


def qualified(kind: Kind) -> str:
    """How kubectl names a kind before `/name` (`-o name`, or rows of several kinds):
    `virtualmachine.kubevirt.io`, or `pod` for the core group."""
    singular = kind.name.lower()
    return f"{singular}.{kind.group}" if kind.group else singular
