"""SnapshotStore: a fixed set of objects in memory (the demo cluster, `--manifests`)."""

from __future__ import annotations

import logging
from collections.abc import Collection, Sequence
from importlib import resources
from pathlib import Path

from gateway.catalog import Catalog, Held, Kind, Object, ObjectRef, Query
from gateway.store.feed import ChangeFeed
from gateway.store.indexes import ObjectIndex
from gateway.store.manifests import Manifests, load_paths, load_text
from gateway.store.normalize import normalize

log = logging.getLogger(__name__)


class SnapshotStore:
    def __init__(
        self, catalog: Catalog, objects: Sequence[tuple[Kind, Object]], source: str, left_out: str = ""
    ) -> None:
        self._index = ObjectIndex(catalog)
        for kind, obj in objects:
            self._index.put(kind.name, Held(normalize(obj)))  # kept with what links derive from it
        self.source = source
        self._changes = ChangeFeed()
        self.left_out = left_out
        """What of the manifests the gateway left out: kinds it does not serve, names the API server refuses."""

    @classmethod
    def from_paths(
        cls, catalog: Catalog, paths: Sequence[str | Path], default_namespace: str, *, strict: bool = False
    ) -> SnapshotStore:
        loaded = load_paths(paths, catalog, default_namespace, strict=strict)
        for warning in [*loaded.warnings, *loaded.left_out(catalog)]:
            log.warning("%s", warning)
        return cls(catalog, loaded.objects, f"manifests ({loaded.files} files)", loaded.summary())

    @classmethod
    def from_objects(cls, catalog: Catalog, objects: Sequence[Object], source: str) -> SnapshotStore:
        """Objects already decoded (a synthetic cluster): kinds the catalogue lacks are skipped."""
        known = {k.name for k in catalog.kinds() if not k.part}
        kinds = [(catalog.kind(o["kind"]), o) for o in objects if o.get("kind") in known]
        return cls(catalog, kinds, source)

    @classmethod
    def demo(cls, catalog: Catalog) -> SnapshotStore:
        return cls(catalog, demo_objects(catalog), "demo cluster")

    def __len__(self) -> int:
        return len(self._index)

    def catalogue_changed(self) -> None:
        """Declared links were applied: what each object names is indexed again (its kinds were
        fixed when it was loaded)."""
        self._index.reindex()

    def get(self, ref: ObjectRef) -> Object | None:
        return self._index.get(ref)

    def get_many(self, kind: str, namespace: str | None, names: Collection[str]) -> dict[str, Object]:
        return self._index.get_many(kind, namespace, names)

    def select(self, query: Query) -> list[Object]:
        return self._index.select(query)

    def referrers(self, target: ObjectRef, kind: str) -> list[Object]:
        return self._index.referrers(target, kind)

    def referrers_many(
        self, kind: str, namespace: str | None, targets: Collection[ObjectRef]
    ) -> dict[ObjectRef, list[Object]]:
        return self._index.referrers_many(kind, namespace, targets)

    def readiness(self) -> tuple[bool, str]:
        left_out = f"; left out, {self.left_out}" if self.left_out else ""
        return True, f"{self.source}: {len(self._index)} objects loaded{left_out}"

    @property
    def changes(self) -> ChangeFeed:
        """A snapshot never changes: its feed never publishes (`Observable`)."""
        return self._changes


def demo_objects(catalog: Catalog) -> list[tuple[Kind, Object]]:
    """The demo cluster shipped in `gateway/demo/*.yaml`."""
    result = Manifests()
    for entry in sorted(resources.files("gateway.demo").iterdir(), key=lambda p: p.name):
        if entry.name.endswith(".yaml"):
            load_text(entry.read_text(encoding="utf-8"), f"demo/{entry.name}", catalog, "demo", result)
    assert not result.warnings and not result.skipped and not result.invalid, (
        result.warnings,
        result.skipped,
        result.invalid,
    )  # our own data is clean
    return result.objects
