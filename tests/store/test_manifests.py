"""--manifests: every shape kubectl accepts, and errors that name the file, line and object."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gateway.catalog import CATALOG, ObjectRef
from gateway.store.manifests import ManifestError, load_paths
from gateway.store.snapshot import SnapshotStore

VM = {"apiVersion": "kubevirt.io/v1", "kind": "VirtualMachine", "metadata": {"name": "a", "namespace": "ns"}}
PVC = {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": "a", "namespace": "ns"}}
DEPLOY = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web", "namespace": "ns"}}


def names(path: Path | list[Path]) -> set[tuple[str, str | None, str]]:
    paths = path if isinstance(path, list) else [path]
    loaded = load_paths(paths, CATALOG, "default")
    return {(k.name, o["metadata"].get("namespace"), o["metadata"]["name"]) for k, o in loaded.objects}


def test_multi_document_yaml_and_list(tmp_path: Path) -> None:
    f = tmp_path / "all.yaml"
    f.write_text(
        yaml.safe_dump(VM)
        + "---\n"
        + yaml.safe_dump({"apiVersion": "v1", "kind": "List", "items": [PVC, DEPLOY]})
        + "---\n"
    )
    loaded = load_paths([f], CATALOG, "default")
    assert names(f) == {("VirtualMachine", "ns", "a"), ("PersistentVolumeClaim", "ns", "a")}
    assert loaded.skipped == {"Deployment": 1}


def test_json_and_typed_lists(tmp_path: Path) -> None:
    f = tmp_path / "dump.json"
    f.write_text(json.dumps({"apiVersion": "v1", "kind": "PersistentVolumeClaimList", "items": [PVC]}))
    assert names(f) == {("PersistentVolumeClaim", "ns", "a")}


def test_directories_are_searched_recursively(tmp_path: Path) -> None:
    (tmp_path / "a" / "b").mkdir(parents=True)
    (tmp_path / "a" / "vm.yml").write_text(yaml.safe_dump(VM))
    (tmp_path / "a" / "b" / "pvc.json").write_text(json.dumps(PVC))
    (tmp_path / "a" / "b" / "notes.txt").write_text("not a manifest: {")
    assert names(tmp_path) == {("VirtualMachine", "ns", "a"), ("PersistentVolumeClaim", "ns", "a")}


def test_several_paths(tmp_path: Path) -> None:
    (tmp_path / "vm.yaml").write_text(yaml.safe_dump(VM))
    (tmp_path / "pvc.yaml").write_text(yaml.safe_dump(PVC))
    assert len(names([tmp_path / "vm.yaml", tmp_path / "pvc.yaml"])) == 2


def test_namespace_defaults_like_kubectl_and_cluster_kinds_drop_it(tmp_path: Path) -> None:
    f = tmp_path / "x.yaml"
    f.write_text(
        "apiVersion: kubevirt.io/v1\nkind: VirtualMachine\nmetadata: {name: a}\n---\n"
        "apiVersion: v1\nkind: Node\nmetadata: {name: n1, namespace: oops}\n"
    )
    assert names(f) == {("VirtualMachine", "default", "a"), ("Node", None, "n1")}


def test_timestamps_stay_strings(tmp_path: Path) -> None:
    f = tmp_path / "x.yaml"
    f.write_text("apiVersion: v1\nkind: Node\nmetadata: {name: n1, creationTimestamp: 2026-10-01T09:12:44Z}\n")
    store = SnapshotStore.from_paths(CATALOG, [f], "default")
    node = store.get(ObjectRef("Node", None, "n1"))
    assert node is not None and node["metadata"]["creationTimestamp"] == "2026-10-01T09:12:44Z"


def test_same_kind_name_in_another_api_group_is_not_ours(tmp_path: Path) -> None:
    f = tmp_path / "x.yaml"
    f.write_text("apiVersion: example.com/v1\nkind: DataVolume\nmetadata: {name: a, namespace: ns}\n")
    assert load_paths([f], CATALOG, "default").skipped == {"DataVolume": 1}


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("apiVersion: v1\nkind: Pod\nmetadata:\n  name: a\n   bad: indent\n", "x.yaml:5: invalid YAML"),
        ("apiVersion: v1\nkind: Pod\nmetadata: {name: [a\n", "x.yaml:4: invalid YAML"),
        ("- just\n- a list\n", "x.yaml:1: expected an object, found list"),
        ("kind: Pod\nmetadata: {name: a}\n", "x.yaml:1: Pod: apiVersion is missing"),
        ("apiVersion: v1\nmetadata: {name: a}\n", "x.yaml:1: kind is missing"),
        (
            "apiVersion: v1\nkind: Pod\nmetadata: {namespace: x}\n",
            "x.yaml:1: Pod: metadata.name is missing",
        ),
        (
            "apiVersion: v1\nkind: Pod\nmetadata: {name: a, labels: [x]}\n",
            "x.yaml:1: Pod a: metadata.labels must be a map",
        ),
        (
            "apiVersion: v1\nkind: Pod\nmetadata: {name: on}\n",
            "x.yaml:1: Pod: metadata.name is not a string (quote it): True",
        ),
        (
            "---\napiVersion: v1\nkind: Pod\nmetadata: {name: a}\n"
            "---\napiVersion: v1\nkind: Pod\nmetadata:\n  name: 0123\n",
            "x.yaml:6: Pod: metadata.name is not a string (quote it): 83",
        ),
        ("apiVersion: v1\nkind: List\nitems: {a: 1}\n", "x.yaml:1: List.items must be a list"),
    ],
)
def test_bad_input_names_the_file_the_line_and_the_object(tmp_path: Path, content: str, message: str) -> None:
    f = tmp_path / "x.yaml"
    f.write_text(content)
    with pytest.raises(ManifestError) as error:
        load_paths([f], CATALOG, "default")
    assert message in str(error.value)
    assert str(f) in str(error.value)


def test_bad_json_names_the_line(tmp_path: Path) -> None:
    f = tmp_path / "x.json"
    f.write_text('{\n  "kind": "Pod",\n  oops\n}')
    with pytest.raises(ManifestError, match=r"x\.json:3: invalid JSON"):
        load_paths([f], CATALOG, "default")


def test_missing_paths_and_empty_directories(tmp_path: Path) -> None:
    with pytest.raises(ManifestError, match="no such file or directory"):
        load_paths([tmp_path / "nope"], CATALOG, "default")
    with pytest.raises(ManifestError, match=r"no \*\.yaml, \*\.yml, \*\.json files here"):
        load_paths([tmp_path], CATALOG, "default")


def test_unreadable_bytes_are_an_error(tmp_path: Path) -> None:
    f = tmp_path / "x.yaml"
    f.write_bytes(b"kind: Pod\n\x80\x81garbage")
    with pytest.raises(ManifestError, match="not UTF-8 text at byte 10"):
        load_paths([f], CATALOG, "default")
    f.write_text("kind: Pod\n", encoding="utf-16-le")  # UTF-16 without its byte-order mark
    with pytest.raises(ManifestError, match="UTF-16 without a byte-order mark"):
        load_paths([f], CATALOG, "default")


POD = "apiVersion: v1\nkind: Pod\nmetadata: {{name: {name}, namespace: n, labels: {{v: '{v}'}}}}\n"


def test_a_later_object_replaces_an_earlier_one_as_kubectl_apply_does(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(POD.format(name="p", v="1") + "---\n" + POD.format(name="q", v="1"))
    (tmp_path / "b.yaml").write_text("# the newer one\n" + POD.format(name="p", v="2"))
    loaded = load_paths([tmp_path], CATALOG, "default")
    assert [(o["metadata"]["name"], o["metadata"]["labels"]["v"]) for _, o in loaded.objects] == [
        ("q", "1"),
        ("p", "2"),
    ]
    assert loaded.warnings == [f"{tmp_path / 'b.yaml'}:2: Pod n/p replaces the one at {tmp_path / 'a.yaml'}:1"]


@pytest.mark.parametrize(
    ("name", "content", "loaded_names"),
    [
        (
            "a raw list takes its items' kind from the list",
            '{"kind": "PodList", "apiVersion": "v1", "metadata": {}, '
            '"items": [{"metadata": {"name": "r", "namespace": "n"}}]}',
            ["r"],
        ),
        ("items: null is an empty list", "apiVersion: v1\nkind: List\nitems: null\n", []),
        (
            "a typed list's items may still carry a kind",
            "apiVersion: v1\nkind: PodList\nitems:\n- {apiVersion: v1, kind: Pod, metadata: {name: k, namespace: n}}\n",
            ["k"],
        ),
    ],
)
def test_real_dumps_load_as_kubectl_reads_them(
    tmp_path: Path, name: str, content: str, loaded_names: list[str]
) -> None:
    f = tmp_path / ("x.json" if content.startswith("{") else "x.yaml")
    f.write_text(content)
    assert [o["metadata"]["name"] for _, o in load_paths([f], CATALOG, "default").objects] == loaded_names, name


def test_utf16_with_its_byte_order_mark_is_read(tmp_path: Path) -> None:
    f = tmp_path / "x.yaml"
    f.write_bytes(POD.format(name="u", v="1").encode("utf-16"))  # with a BOM, as PowerShell's `>` writes
    assert [o["metadata"]["name"] for _, o in load_paths([f], CATALOG, "default").objects] == ["u"]


def test_unknown_kinds_are_reported_and_refused_with_strict(tmp_path: Path) -> None:
    f = tmp_path / "x.yaml"
    deployment = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\n"
    f.write_text(
        deployment + "---\n" + deployment.replace("name: d", "name: e") + "---\n" + POD.format(name="p", v="1")
    )
    loaded = load_paths([f], CATALOG, "default")
    assert len(loaded.objects) == 1 and loaded.unknown_kinds() == "Deployment (2)"
    store = SnapshotStore.from_paths(CATALOG, [f], "default")
    assert "left out, kinds not served: apps/v1 Deployment (2)" in store.readiness()[1]
    with pytest.raises(ManifestError, match=r"kinds the gateway does not serve: Deployment \(2\)"):
        load_paths([f], CATALOG, "default", strict=True)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(max_size=300))
def test_any_text_either_loads_or_raises_a_manifest_error(tmp_path: Path, text: str) -> None:
    f = tmp_path / "fuzz.yaml"
    f.write_text(text, encoding="utf-8")
    try:
        loaded = load_paths([f], CATALOG, "default")
    except ManifestError as e:
        assert str(f) in str(e)
    else:
        SnapshotStore(CATALOG, loaded.objects, "fuzz")  # whatever loads can be indexed


def test_the_demo_cluster_loads_and_is_consistent() -> None:
    store = SnapshotStore.demo(CATALOG)
    assert store.readiness()[0]
    assert len(store) > 50
    assert store.get(ObjectRef("VirtualMachine", "demo", "fedora")) is not None


REFUSED = """\
apiVersion: kubevirt.io/v1
kind: VirtualMachineInstance
metadata: {name: vmi-shared_pvc, namespace: ns}
---
apiVersion: kubevirt.io/v1
kind: VirtualMachine
metadata: {name: Bad_Name, namespace: ns}
---
apiVersion: v1
kind: Service
metadata: {name: 1-web, namespace: ns}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: fine, namespace: Bad_Namespace}
---
apiVersion: kubevirt.io/v1
kind: VirtualMachine
metadata: {name: good, namespace: ns}
"""
SUBDOMAIN = "must consist of lowercase letters, digits, '-' and '.', starting and ending with a letter or digit"


def test_names_the_api_server_refuses_are_left_out_naming_file_and_line(tmp_path: Path) -> None:
    """As `kubectl apply -f DIR` reports each object the API server refuses, and goes on with the others."""
    f = tmp_path / "x.yaml"
    f.write_text(REFUSED)
    loaded = load_paths([f], CATALOG, "default")
    assert [o["metadata"]["name"] for _, o in loaded.objects] == ["good"]
    assert loaded.left_out(CATALOG) == [
        f'{f}:1: left out: kubevirt.io/v1 VirtualMachineInstance "vmi-shared_pvc" is invalid: '
        f"metadata.name {SUBDOMAIN}",
        f'{f}:5: left out: kubevirt.io/v1 VirtualMachine "Bad_Name" is invalid: metadata.name {SUBDOMAIN}',
        f'{f}:9: left out: v1 Service "1-web" is invalid: metadata.name must consist of lowercase letters, digits '
        "and '-', starting with a letter and ending with a letter or digit",
        f'{f}:13: left out: v1 ConfigMap "fine" is invalid: metadata.namespace "Bad_Namespace" must consist of '
        "lowercase letters, digits and '-', starting and ending with a letter or digit",
    ]
    assert "names the API server refuses: 4 objects" in SnapshotStore.from_paths(CATALOG, [f], "d").readiness()[1]
    with pytest.raises(ManifestError) as refused:
        load_paths([f], CATALOG, "default", strict=True)
    assert str(refused.value) == (
        f'{f}:1: kubevirt.io/v1 VirtualMachineInstance "vmi-shared_pvc" is invalid: metadata.name {SUBDOMAIN} '
        "(without --strict it is left out)"
    )


def test_a_served_kind_under_another_api_version_names_the_one_the_gateway_serves(tmp_path: Path) -> None:
    f = tmp_path / "x.yaml"
    clone = "apiVersion: kubevirt.io/v1\nkind: VirtualMachineClone\nmetadata: {name: c, namespace: ns}\n"
    f.write_text(DEPLOY_YAML + "---\n" + clone + "---\n" + clone.replace("name: c", "name: d"))
    loaded = load_paths([f], CATALOG, "default")
    assert loaded.left_out(CATALOG) == [
        f"{f}:5: left out: kubevirt.io/v1 VirtualMachineClone (and 1 more of it): "
        "the gateway serves VirtualMachineClone as clone.kubevirt.io/v1beta1",
        f"left out, kinds the gateway does not serve: apps/v1 Deployment (1, first at {f}:1)",
    ]
    with pytest.raises(ManifestError, match=r"x.yaml:5: kubevirt.io/v1 VirtualMachineClone: the gateway serves "
                                            r"VirtualMachineClone as clone.kubevirt.io/v1beta1"):  # fmt: skip
        load_paths([f], CATALOG, "default", strict=True)


DEPLOY_YAML = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, namespace: ns}\n"
