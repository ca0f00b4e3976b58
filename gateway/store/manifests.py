"""Read Kubernetes objects from YAML and JSON files, as `kubectl apply -f` would take them.

A path is a file (multi-document YAML, JSON, `kind: List`) or a directory searched
recursively for `*.yaml`, `*.yml` and `*.json`. Everything is read before anything is
served: any bad document is a `ManifestError` naming the file, the line for YAML
syntax errors, and the object, so the gateway never starts on a half-read snapshot.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from gateway.catalog import Catalog, Kind, Object

SUFFIXES = (".yaml", ".yml", ".json")
_BaseLoader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Loader(_BaseLoader):  # type: ignore[misc]
    """YAML 1.1 reads `2026-10-01T09:12:44Z` as a datetime; the API server serves a string."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in _BaseLoader.yaml_implicit_resolvers.items()
}


class ManifestError(Exception):
    def __init__(self, source: str, message: str, line: int | None = None) -> None:
        where = f"{source}:{line}" if line is not None else source
        super().__init__(f"{where}: {message}")
        self.source, self.line = source, line


@dataclass
class Manifests:
    objects: list[tuple[Kind, Object]] = field(default_factory=list)
    skipped: Counter[str] = field(default_factory=Counter)
    """Kinds the gateway does not serve (Deployments in a cluster dump), by count."""
    files: int = 0


def load_paths(paths: Sequence[str | Path], catalog: Catalog, default_namespace: str) -> Manifests:
    result = Manifests()
    seen: dict[tuple[str, str | None, str], str] = {}
    for path in _files(paths):
        result.files += 1
        text = _read(path)
        load_text(text, str(path), catalog, default_namespace, result, seen)
    return result


def load_text(
    text: str,
    source: str,
    catalog: Catalog,
    default_namespace: str,
    result: Manifests,
    seen: dict[tuple[str, str | None, str], str] | None = None,
) -> Manifests:
    seen = {} if seen is None else seen
    for number, doc in enumerate(_documents(text, source), start=1):
        for obj in _flatten(doc, f"{source}: document {number}"):
            kind = _kind_of(obj, catalog, f"{source}: document {number}")
            if kind is None:
                result.skipped[str(obj.get("kind"))] += 1
                continue
            obj = _placed(obj, kind, default_namespace)
            meta = obj["metadata"]
            key = (kind.name, meta.get("namespace"), meta["name"])
            label = f"{kind.name} {'/'.join(str(p) for p in key[1:] if p)}"
            where = f"{source}: document {number} ({label})"
            if key in seen:
                raise ManifestError(where, f"defined twice; first in {seen[key]}")
            seen[key] = where
            result.objects.append((kind, obj))
    return result


def _files(paths: Sequence[str | Path]) -> Iterator[Path]:
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found = sorted(p for p in path.rglob("*") if p.suffix in SUFFIXES and p.is_file())
            if not found:
                raise ManifestError(str(path), f"no {', '.join('*' + s for s in SUFFIXES)} files here")
            yield from found
        elif path.is_file():
            yield path
        else:
            raise ManifestError(str(path), "no such file or directory")


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise ManifestError(str(path), f"cannot read: {e}") from e


def _documents(text: str, source: str) -> Iterator[Any]:
    if source.endswith(".json"):
        try:
            yield json.loads(text)
        except json.JSONDecodeError as e:
            raise ManifestError(source, f"invalid JSON: {e.msg}", e.lineno) from e
        return
    try:
        yield from (d for d in yaml.load_all(text, Loader=_Loader) if d is not None)
    except yaml.MarkedYAMLError as e:
        line = e.problem_mark.line + 1 if e.problem_mark is not None else None
        raise ManifestError(source, f"invalid YAML: {e.problem or e}", line) from e
    except yaml.YAMLError as e:
        raise ManifestError(source, f"invalid YAML: {e}") from e


def _flatten(doc: Any, where: str) -> Iterable[dict[str, Any]]:
    if not isinstance(doc, dict):
        raise ManifestError(where, f"expected an object, found {type(doc).__name__}")
    kind = doc.get("kind")
    if isinstance(kind, str) and kind.endswith("List") and "items" in doc:
        items = doc["items"]
        if not isinstance(items, list):
            raise ManifestError(where, f"{kind}.items must be a list")
        for i, item in enumerate(items):
            yield from _flatten(item, f"{where}, item {i}")
        return
    yield doc


def _kind_of(obj: dict[str, Any], catalog: Catalog, where: str) -> Kind | None:
    kind, api_version = obj.get("kind"), obj.get("apiVersion")
    if not isinstance(kind, str) or not kind:
        raise ManifestError(where, "kind is missing")
    if not isinstance(api_version, str) or not api_version:
        raise ManifestError(where, f"{kind}: apiVersion is missing")
    try:
        known = catalog.kind(kind)
    except KeyError:
        return None
    group = api_version.rpartition("/")[0]
    if known.part or group != known.group:
        return None  # same kind name in another API group: not ours
    metadata = obj.get("metadata")
    if not isinstance(metadata, dict) or not isinstance(metadata.get("name"), str) or not metadata["name"]:
        raise ManifestError(where, f"{kind}: metadata.name is missing")
    if "labels" in metadata and not isinstance(metadata["labels"] or {}, dict):
        raise ManifestError(where, f"{kind} {metadata['name']}: metadata.labels must be a map")
    return known


def _placed(obj: dict[str, Any], kind: Kind, default_namespace: str) -> dict[str, Any]:
    """Namespaced objects without a namespace go to the default one, as kubectl places them."""
    meta = obj["metadata"]
    if kind.namespaced and not meta.get("namespace"):
        return {**obj, "metadata": {**meta, "namespace": default_namespace}}
    if not kind.namespaced and "namespace" in meta:
        return {**obj, "metadata": {k: v for k, v in meta.items() if k != "namespace"}}
    return obj
