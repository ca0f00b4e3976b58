"""Pages of a sorted collection, with opaque `continue` tokens (pure)."""

from __future__ import annotations

import base64
import binascii
import json
from typing import TypeVar

from gateway.errors import BadRequest

T = TypeVar("T")


def encode_token(position: tuple[str, str]) -> str:
    return base64.urlsafe_b64encode(json.dumps(list(position)).encode()).decode().rstrip("=")


def decode_token(token: str) -> tuple[str, str]:
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        ns, name = json.loads(raw)
        if isinstance(ns, str) and isinstance(name, str):
            return ns, name
    except (ValueError, TypeError, binascii.Error):
        pass
    raise BadRequest(
        f"invalid continue token {token[:64]!r}: pass back metadata.continue unchanged",
        field="continue",
    )


def paginate(
    items: list[T], positions: list[tuple[str, str]], limit: int | None, token: str | None
) -> tuple[list[T], str | None]:
    """`items` sorted by `positions`; the page after `token`, and the token after it."""
    start = 0
    if token:
        after = decode_token(token)
        start = next((i for i, p in enumerate(positions) if p > after), len(items))
    if limit is None or start + limit >= len(items):
        return items[start:], None
    end = start + limit
    return items[start:end], encode_token(positions[end - 1])
