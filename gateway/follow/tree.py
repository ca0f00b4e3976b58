"""LinkTree: a follow expression as a tree of rels, with common prefixes merged."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import TypeAlias

RelPath: TypeAlias = tuple[str, ...]


@dataclass(frozen=True, slots=True)
class LinkTree:
    """`volumes.pvc,volumes.datavolume` is `{volumes: {pvc: {}, datavolume: {}}}`.

    Children are kept sorted by rel, so equal trees compare and hash equal however
    their paths were ordered.
    """

    children: tuple[tuple[str, LinkTree], ...] = ()

    @classmethod
    def from_paths(cls, paths: Iterable[RelPath]) -> LinkTree:
        tree = cls()
        for path in paths:
            tree = tree.merge(cls._chain(path))
        return tree

    @classmethod
    def _chain(cls, path: RelPath) -> LinkTree:
        tree = cls()
        for rel in reversed(path):
            tree = cls(((rel, tree),))
        return tree

    def merge(self, other: LinkTree) -> LinkTree:
        merged = dict(self.children)
        for rel, subtree in other.children:
            merged[rel] = merged[rel].merge(subtree) if rel in merged else subtree
        return LinkTree(tuple(sorted(merged.items())))

    def items(self) -> tuple[tuple[str, LinkTree], ...]:
        return self.children

    def get(self, rel: str) -> LinkTree | None:
        for r, subtree in self.children:
            if r == rel:
                return subtree
        return None

    def __bool__(self) -> bool:
        return bool(self.children)

    @property
    def depth(self) -> int:
        return 1 + max(t.depth for _, t in self.children) if self.children else 0

    def paths(self) -> Iterator[RelPath]:
        """Leaf paths, in sorted order: the shortest follow string that builds this tree."""
        for rel, subtree in self.children:
            if not subtree:
                yield (rel,)
            for path in subtree.paths():
                yield (rel, *path)

    def render(self) -> str:
        return ",".join(".".join(p) for p in self.paths())

    def __str__(self) -> str:
        return self.render()
