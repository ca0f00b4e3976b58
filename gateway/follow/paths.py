"""Parse the `follow` parameter into a LinkTree (DESIGN section 4).

follow := path ("," path)*        whitespace around commas is ignored
path   := rel ("." rel)*
rel    := [a-z][a-z0-9_]* | "*"
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from gateway.errors import BadRequest
from gateway.follow.tree import LinkTree, RelPath

_REL = re.compile(r"[a-z][a-z0-9_]*|\*")


@dataclass(frozen=True, slots=True)
class FollowLimits:
    max_depth: int = 6
    max_paths: int = 64
    max_embedded: int = 10_000
    max_response_bytes: int = 8 * 1024 * 1024


class FollowError(BadRequest):
    """A follow parameter that does not parse, names an unknown rel, or exceeds a limit."""

    def __init__(self, message: str, *, reason: str = "BadRequest") -> None:
        super().__init__(message, field="follow", reason=reason)


class TooLarge(FollowError):
    """Following would embed more objects, or more bytes, than the limits allow."""

    def __init__(self, message: str) -> None:
        super().__init__(message, reason="RequestEntityTooLarge")


DEFAULT_LIMITS = FollowLimits()


def parse_follow(text: str | None, limits: FollowLimits = DEFAULT_LIMITS) -> LinkTree:
    if text is None or not text.strip():
        return LinkTree()
    raw_paths = text.split(",")
    if len(raw_paths) > limits.max_paths:
        raise FollowError(
            f"follow has {len(raw_paths)} paths, more than the limit of {limits.max_paths} "
            "(the gateway's --max-follow-paths)"
        )
    paths: list[RelPath] = []
    for raw in raw_paths:
        path = raw.strip()
        if not path:
            raise FollowError(f"follow {text!r} has an empty path (two commas, or a trailing comma)")
        rels = tuple(path.split("."))
        for rel in rels:
            if not rel:
                raise FollowError(f"follow path {path!r} has an empty rel (two dots, or a leading or trailing dot)")
            if not _REL.fullmatch(rel):
                raise FollowError(
                    f"follow path {path!r}: {rel!r} is not a rel "
                    "(lowercase letters, digits and '_', starting with a letter; or '*')"
                )
        if len(rels) > limits.max_depth:
            raise FollowError(
                f"follow path {path!r} is {len(rels)} levels deep, more than the limit of "
                f"{limits.max_depth} (the gateway's --max-follow-depth)"
            )
        paths.append(rels)
    return LinkTree.from_paths(paths)
