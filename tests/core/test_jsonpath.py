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


LAUNCHER = {
    "metadata": {"name": "virt-launcher-fedora-x7k2p",
                 "labels": {"kubevirt.io": "virt-launcher", "kubernetes.io/os": "linux"}},
    "spec": {"volumes": [
        {"name": "rootdisk", "persistentVolumeClaim": {"claimName": "fedora-root"}},
        {"name": "cloudinitdisk", "emptyDir": {}},
    ]},
    "status": {"podIPs": [{"ip": "10.244.0.17"}, {"ip": "fd10:244::11"}]},
}  # fmt: skip


@pytest.mark.parametrize(
    "path",
    [".spec.volumes[0].name", "spec.volumes[0].name", "$.spec.volumes[0].name", "$['spec']['volumes'][0]['name']"],
)
def test_a_path_reads_the_same_with_or_without_its_root(path: str) -> None:
    compiled = compile_path(path)
    assert compiled.text == path  # errors and the catalogue name the path as it was written
    assert compiled.single and compiled.find(LAUNCHER) == ["rootdisk"]


@pytest.mark.parametrize("path", ["", "@", "$", " . "])
def test_an_empty_path_finds_the_document_itself(path: str) -> None:
    compiled = compile_path(path)
    assert compiled.text == path and compiled.single is True
    assert compiled.find(LAUNCHER) == [LAUNCHER]


@pytest.mark.parametrize(
    ("path", "jsonpath_ng_path"),
    [
        ("..ip", "$..ip"),  # kubectl's `{..name}`: every value of that key, at any depth
        ("$..claimName", "$..claimName"),
        (".spec..claimName", "spec..claimName"),
        (".spec.volumes[?(@.name=='rootdisk')].persistentVolumeClaim.claimName", None),
        (".spec.volumes[?(@.name!='rootdisk')].name", None),
        (".spec.volumes[0:1].name", None),
        (".spec.volumes[*]['persistentVolumeClaim'].claimName", None),
        (".metadata.labels['kubevirt.io','kubernetes.io/os']", None),
    ],
)
def test_a_path_jsonpath_ng_evaluates_finds_what_it_finds(path: str, jsonpath_ng_path: str | None) -> None:
    expected = [m.value for m in parse(jsonpath_ng_path or path.lstrip(".")).find(LAUNCHER)]
    assert expected, f"{path} finds something in the example"
    compiled = compile_path(path)
    assert compiled.text == path and compiled.find(LAUNCHER) == expected
    assert not compiled.single or len(expected) == 1


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        (".metadata.labels.kubernetes\\.io/os", ["linux"]),
        (".metadata.labels.kubevirt\\.io", ["virt-launcher"]),
        (".spec.volumes[*].name", ["rootdisk", "cloudinitdisk"]),
    ],
)
def test_a_key_with_a_dot_is_written_with_kubectls_escape(path: str, expected: list[str]) -> None:
    compiled = compile_path(path)
    assert compiled.find(LAUNCHER) == expected and compiled.single is (len(expected) == 1)


def test_an_escaped_key_after_a_wildcard_is_read_in_every_item() -> None:
    pods = {"items": [LAUNCHER, {"metadata": {"labels": {"kubernetes.io/os": "windows"}}}, {"metadata": {}}]}
    assert compile_path(".items[*].metadata.labels.kubernetes\\.io/os").find(pods) == ["linux", "windows"]


def test_a_negative_index_counts_from_the_end_down_to_the_first_item() -> None:
    ips = compile_path(".status.podIPs[-2].ip")
    assert ips.find(LAUNCHER) == ["10.244.0.17"]
    assert compile_path(".status.podIPs[-3].ip").find(LAUNCHER) == []


@pytest.mark.parametrize(
    ("path", "problem"),
    [
        (".spec[", "Parse error"),  # jsonpath-ng's own words say where
        (".spec.volumes[?(@.name ==", "Parse error"),
        (".metadata.name.`split(,, 5)`", "split(,, 5) is not valid"),
        (".metadata.name.`sub(/(/, x)`", "missing ), unterminated subpattern"),  # Python's re compiles it
    ],
)
def test_a_path_that_does_not_parse_says_why(path: str, problem: str) -> None:
    with pytest.raises(JsonPathError) as caught:
        compile_path(path)
    assert problem in str(caught.value)


def test_a_filter_it_cannot_evaluate_is_an_error_naming_the_path() -> None:
    path = ".spec.volumes[?(@.name =~ '(')].name"
    compiled = compile_path(path)  # jsonpath-ng compiles a `=~` pattern only when it meets a value
    with pytest.raises(JsonPathError) as caught:
        compiled.find(LAUNCHER)
    assert str(caught.value).startswith(f"{path}: ")
