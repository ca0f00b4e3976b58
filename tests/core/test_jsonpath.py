"""gateway.jsonpath walks plain paths (keys, indexes, `[*]`) itself, for speed: whatever it walks,
it must find what jsonpath-ng finds for the same path, on any JSON document."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from jsonpath_ng.ext.parser import parse

from gateway.jsonpath import JsonPathError, compile_path

KEYS = ("a", "b", "spec", "volumes")
scalars = st.none() | st.booleans() | st.integers(-3, 3) | st.text(max_size=2)
documents = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from(KEYS), inner, max_size=3),
    max_leaves=12,
)
steps = st.sampled_from([*(f".{k}" for k in KEYS), "[0]", "[1]", "[-1]", "[*]"])
paths = st.lists(steps, min_size=1, max_size=4).map(lambda parts: "".join(parts).lstrip("."))


@settings(max_examples=400, deadline=None)
@given(paths, documents)
def test_a_walked_path_finds_what_jsonpath_ng_finds(path: str, document: Any) -> None:
    compiled = compile_path(path)
    assert compiled._keys is not None, f"{path} is walked"  # the paths this test draws are all plain
    assert compiled.find(document) == [m.value for m in parse(path).find(document)]


@pytest.mark.parametrize(
    ("path", "single"),
    [(".spec.volumeName", True), (".spec.volumes[0].name", True), (".spec.volumes[*].name", False)],
)
def test_only_a_path_without_a_wildcard_finds_one_value_at_most(path: str, single: bool) -> None:
    assert compile_path(path).single is single


def test_a_pod_finds_the_claims_of_its_volumes() -> None:
    pod = {"spec": {"volumes": [
        {"name": "disk", "persistentVolumeClaim": {"claimName": "fedora-disk"}},
        {"name": "cloudinit", "cloudInitNoCloud": {"userData": "#cloud-config"}},
        {"name": "data", "persistentVolumeClaim": {"claimName": "fedora-data"}},
    ]}}  # fmt: skip
    assert compile_path(".spec.volumes[*].persistentVolumeClaim.claimName").find(pod) == ["fedora-disk", "fedora-data"]


def test_a_path_that_does_not_parse_is_an_error() -> None:
    with pytest.raises(JsonPathError):
        compile_path(".spec[")
