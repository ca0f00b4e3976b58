"""Read Kubernetes objects from YAML and JSON files, as `kubectl apply -f` would take them.

A path is a file (multi-document YAML, JSON, `kind: List`, a raw list whose items carry no
kind) or a directory searched recursively for `*.yaml`, `*.yml` and `*.json`. Everything is
read before anything is served: any bad document is a `ManifestError` naming the file, the
line, and the object, so the gateway never starts on a half-read snapshot. As with `kubectl
apply -f DIR`, a later object with the same kind, namespace and name replaces the earlier one
(with a warning naming both places). What the API server would not hold is left out, with a warning
naming the file and line, and refused with `strict`: kinds the catalogue does not know (counted by
apiVersion and kind), a kind it knows under another apiVersion, and names the API server refuses.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from gateway.catalog import Catalog, Kind, Object
from gateway.catalog.names import name_problem, visible

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
    found: dict[tuple[str, str | None, str], tuple[Kind, Object]] = field(default_factory=dict)
    """Objects by (kind, namespace, name), in the order first seen; a later one replaces an earlier one."""
    places: dict[tuple[str, str | None, str], str] = field(default_factory=dict)
    skipped: Counter[str] = field(default_factory=Counter)
    """Kinds the gateway does not serve (Deployments in a cluster dump), by count."""
    unserved: dict[tuple[str, str], tuple[int, str]] = field(default_factory=dict)
    """(apiVersion, kind) left out -> (how many, where the first was)."""
    invalid: list[tuple[str, str]] = field(default_factory=list)
    """Objects left out because the API server would refuse them: (file:line, why)."""
    warnings: list[str] = field(default_factory=list)
    files: int = 0

    @property
    def objects(self) -> list[tuple[Kind, Object]]:
        return list(self.found.values())

    def unknown_kinds(self) -> str:
        """`Deployment (3), Job (1)`: what was left out, for the log and /readyz."""
        return ", ".join(f"{kind} ({n})" for kind, n in sorted(self.skipped.items()))

    def summary(self) -> str:
        """`kinds not served: apps/v1 Deployment (3); names the API server refuses: 1 object`, for /readyz."""
        parts = []
        if self.unserved:
            kinds = sorted(self.unserved.items(), key=lambda e: e[0][::-1])
            parts.append("kinds not served: " + ", ".join(f"{v} {k} ({n})" for (v, k), (n, _) in kinds))
        if self.invalid:
            parts.append(f"names the API server refuses: {len(self.invalid)} object{'s' * (len(self.invalid) > 1)}")
        return "; ".join(parts)

    def left_out(self, catalog: Catalog) -> list[str]:
        """One warning for each object whose name the API server would refuse, one for each kind the
        catalogue has under another apiVersion, and one line for all the kinds it does not have."""
        lines = [f"{where}: left out: {why}" for where, why in self.invalid]
        unknown = []
        for (api_version, kind), (count, first) in sorted(self.unserved.items(), key=lambda e: e[0][::-1]):
            served = _served_as(catalog, kind)
            if served is None:
                unknown.append(f"{api_version} {kind} ({count}, first at {first})")
            else:
                more = f" (and {count - 1} more of it)" if count > 1 else ""
                lines.append(f"{first}: left out: {api_version} {kind}{more}: the gateway serves {kind} as {served}")
        if unknown:
            lines.append(f"left out, kinds the gateway does not serve: {', '.join(unknown)}")
        return lines


def load_paths(
    paths: Sequence[str | Path], catalog: Catalog, default_namespace: str, *, strict: bool = False
) -> Manifests:
    result = Manifests()
    for path in _files(paths):
        result.files += 1
        text = _read(path)
        load_text(text, str(path), catalog, default_namespace, result)
    if strict and result.invalid:
        where, why = result.invalid[0]
        raise ManifestError(where, f"{why} (without --strict it is left out)")
    wrong = [(k, v) for k, v in result.unserved.items() if _served_as(catalog, k[1]) is not None]
    if strict and wrong:
        (api_version, kind), (_, first) = wrong[0]
        raise ManifestError(first, f"{api_version} {kind}: the gateway serves {kind} as {_served_as(catalog, kind)} "
                                   "(without --strict it is left out)")  # fmt: skip
    if strict and result.skipped:
        raise ManifestError(
            ", ".join(str(p) for p in paths),
            f"kinds the gateway does not serve: {result.unknown_kinds()} (without --strict they are left out)",
        )
    return result


def load_text(text: str, source: str, catalog: Catalog, default_namespace: str, result: Manifests) -> Manifests:
    for line, doc in _documents(text, source):
        where = f"{source}:{line}"
        for obj in _flatten(doc, where):
            kind = _kind_of(obj, catalog, where)
            if kind is None:
                result.skipped[str(obj.get("kind"))] += 1
                unserved = (str(obj.get("apiVersion")), str(obj.get("kind")))
                count, first = result.unserved.get(unserved, (0, where))
                result.unserved[unserved] = (count + 1, first)
                continue
            refused = _refused_name(obj, kind, catalog)
            if refused:
                result.invalid.append((where, refused))
                continue
            obj = _placed(obj, kind, default_namespace)
            meta = obj["metadata"]
            key = (kind.name, meta.get("namespace"), meta["name"])
            label = f"{kind.name} {'/'.join(str(p) for p in key[1:] if p)}"
            if key in result.found:
                result.warnings.append(f"{where}: {label} replaces the one at {result.places[key]}")
                del result.found[key]  # as kubectl apply: the later one wins, and takes its place in order
            result.found[key] = (kind, obj)
            result.places[key] = where
    return result


def files_in(
    paths: Sequence[str | Path], suffixes: Sequence[str], refuse: Callable[[Path, str], Exception]
) -> Iterator[Path]:
    """Each path that is a file, and the files under each directory (recursively, by name) whose name
    ends in one of `suffixes`; `refuse(path, why)` is raised for a path that is neither, or an empty directory."""
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found = sorted(p for p in path.rglob("*") if p.suffix in suffixes and p.is_file())
            if not found:
                raise refuse(path, f"no {', '.join('*' + s for s in suffixes)} files here")
            yield from found
        elif path.is_file():
            yield path
        else:
            raise refuse(path, "no such file or directory")


def _files(paths: Sequence[str | Path]) -> Iterator[Path]:
    return files_in(paths, SUFFIXES, lambda path, why: ManifestError(str(path), why))


_BOMS = ((b"\xef\xbb\xbf", "utf-8-sig"), (b"\xff\xfe", "utf-16"), (b"\xfe\xff", "utf-16"))


def _read(path: Path) -> str:
    """UTF-8, or UTF-16 with its byte-order mark (PowerShell's `>` writes that)."""
    try:
        raw = path.read_bytes()
    except OSError as e:
        raise ManifestError(str(path), f"cannot read: {e.strerror or e}") from e
    encoding = next((name for bom, name in _BOMS if raw.startswith(bom)), None)
    if encoding is None and b"\x00" in raw[:200]:  # YAML and JSON text never hold NUL
        raise ManifestError(str(path), "looks like UTF-16 without a byte-order mark: save it as UTF-8")
    try:
        return raw.decode(encoding or "utf-8")
    except UnicodeDecodeError as e:
        raise ManifestError(str(path), f"not {(encoding or 'utf-8').upper()} text at byte {e.start}") from e


def _documents(text: str, source: str) -> Iterator[tuple[int, Any]]:
    """(line, document) for each document of a file."""
    if source.endswith(".json"):
        try:
            yield 1, json.loads(text)
        except json.JSONDecodeError as e:
            raise ManifestError(source, f"invalid JSON: {e.msg}", e.lineno) from e
        return
    loader = _Loader(text)
    try:
        while loader.check_node():
            node = loader.get_node()
            document = loader.construct_document(node)
            if document is not None:
                yield node.start_mark.line + 1, document
    except yaml.MarkedYAMLError as e:
        line = e.problem_mark.line + 1 if e.problem_mark is not None else None
        raise ManifestError(source, f"invalid YAML: {e.problem or e}", line) from e
    except yaml.YAMLError as e:
        raise ManifestError(source, f"invalid YAML: {e}") from e
    finally:
        loader.dispose()


def _flatten(doc: Any, where: str) -> Iterable[dict[str, Any]]:
    if not isinstance(doc, dict):
        raise ManifestError(where, f"expected an object, found {type(doc).__name__}")
    kind = doc.get("kind")
    if isinstance(kind, str) and kind.endswith("List") and "items" in doc:
        items = doc["items"] if doc["items"] is not None else []  # `items: null` is an empty list
        if not isinstance(items, list):
            raise ManifestError(where, f"{kind}.items must be a list")
        # a typed list (kubectl get --raw) leaves kind and apiVersion out of its items
        item_kind = kind.removesuffix("List") if kind != "List" else None
        for i, item in enumerate(items):
            if item_kind and isinstance(item, dict) and "kind" not in item:
                item = {"kind": item_kind, "apiVersion": doc.get("apiVersion"), **item}
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
    name = metadata.get("name") if isinstance(metadata, dict) else None
    if name is not None and not isinstance(name, str):  # `name: on` is a bool, `name: 0123` a number in YAML
        raise ManifestError(where, f"{kind}: metadata.name is not a string (quote it): {name!r}")
    if not isinstance(metadata, dict) or not isinstance(name, str) or not name:
        raise ManifestError(where, f"{kind}: metadata.name is missing")
    if "labels" in metadata and not isinstance(metadata["labels"] or {}, dict):
        raise ManifestError(where, f"{kind} {metadata['name']}: metadata.labels must be a map")
    return known


def _served_as(catalog: Catalog, kind: str) -> str | None:
    """The apiVersion the gateway serves `kind` as, if it serves a kind of that name."""
    try:
        known = catalog.kind(kind)
    except KeyError:
        return None
    return None if known.part else known.api_version


def _refused_name(obj: dict[str, Any], kind: Kind, catalog: Catalog) -> str | None:
    """Why the API server would refuse the object's name or namespace (kubectl's words), or None."""
    meta = obj["metadata"]
    label = f'{obj["apiVersion"]} {kind.name} "{visible(meta["name"])}"'
    problem = name_problem(meta["name"], kind.names)
    if problem:
        return f"{label} is invalid: metadata.name {problem}"
    namespace = meta.get("namespace")
    if kind.namespaced and namespace:
        if not isinstance(namespace, str):
            return f"{label} is invalid: metadata.namespace is not a string (quote it): {namespace!r}"
        problem = name_problem(namespace, catalog.kind("Namespace").names)
        if problem:
            return f'{label} is invalid: metadata.namespace "{visible(namespace)}" {problem}'
    return None


def _placed(obj: dict[str, Any], kind: Kind, default_namespace: str) -> dict[str, Any]:
    """Namespaced objects without a namespace go to the default one, as kubectl places them."""
    meta = obj["metadata"]
    if kind.namespaced and not meta.get("namespace"):
        return {**obj, "metadata": {**meta, "namespace": default_namespace}}
    if not kind.namespaced and "namespace" in meta:
        return {**obj, "metadata": {k: v for k, v in meta.items() if k != "namespace"}}
    return obj
