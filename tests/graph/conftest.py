from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from gateway.app import create_app
from gateway.config import Config
from tests.support.gateway import Gateway, serving


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[Callable[[str], Gateway]]:
    """A gateway over a small cluster written as YAML, for one rule at a time."""
    stack: list[object] = []

    def serve(manifests: str) -> Gateway:
        path = tmp_path / f"cluster-{len(stack)}.yaml"
        path.write_text(manifests)
        context = serving(create_app(Config(manifests=(str(path),), default_namespace="ns", extra={"TESTING": True})))
        stack.append(context)
        return context.__enter__()

    yield serve
    for context in reversed(stack):
        context.__exit__(None, None, None)  # type: ignore[attr-defined]
