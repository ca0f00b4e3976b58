"""Query parameters the views share, parsed once: a malformed one is a 400 that names it."""

from __future__ import annotations

from typing import Any

from gateway.catalog.selectors import LabelSelector, Requirement, SelectorError, parse_selector, selector_from_object
from gateway.errors import BadRequest


def label_selector(text: str | None, body: dict[str, Any] | None = None) -> LabelSelector:
    """`?labelSelector=` in kubectl's syntax, and an ObjectGraphOptions body's LabelSelector object: both must hold."""
    requirements: tuple[Requirement, ...] = ()
    try:
        if text:
            requirements += parse_selector(text).requirements
        if body:
            requirements += selector_from_object(body).requirements
    except SelectorError as e:
        raise BadRequest(f"labelSelector: {e}", field="labelSelector") from e
    return LabelSelector(requirements)
