"""Every JSON name the catalogue reads has a record of the upstream Go field it comes from."""

from __future__ import annotations

import ast
from pathlib import Path

from gateway.catalog import CATALOG
from gateway.catalog.upstream import BY_JSON, FIELDS

CATALOG_DIR = Path(__file__).resolve().parents[2] / "gateway" / "catalog"
# the functions through which declarations read fields: their string arguments are JSON names
READERS = {
    "_dig", "dig", "field", "namespaced_field", "_volume", "_kind_at", "_cdi_source_field", "_selected_by",
    "_refers_to_vm", "_sub_entities", "_cloud_init",
}  # fmt: skip
KIND_NAMES = {k.name for k in CATALOG.kinds()}


def names_read() -> dict[str, str]:
    """JSON names passed to the readers, with where they are read (labels and annotations excluded)."""
    found: dict[str, str] = {}
    for path in sorted(CATALOG_DIR.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.Call):
                continue
            func = node.func.id if isinstance(node.func, ast.Name) else getattr(node.func, "attr", "")
            if func not in READERS:
                continue
            for arg in node.args:
                if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                    value = arg.value
                    if value in KIND_NAMES or "/" in value or "." in value:
                        continue  # a kind, or a label or annotation key: not a field
                    found.setdefault(value, f"{path.name}:{node.lineno}")
    return found


def test_every_name_the_catalogue_reads_has_an_upstream_record() -> None:
    read = names_read()
    assert len(read) > 40  # the scan sees the declarations
    unrecorded = {name: where for name, where in read.items() if name not in BY_JSON}
    assert unrecorded == {}, "record each in gateway/catalog/upstream.py, from the upstream JSON tag"


def test_records_are_json_names_never_go_field_names() -> None:
    assert len(BY_JSON) == len(FIELDS)  # one record a name
    for record in FIELDS:
        assert record.json[0].islower(), record  # a JSON tag, not an exported Go field
        assert record.go and record.source
    # the mistake that slipped through before: the Go name of cloud-init's user-data secret
    assert not any(name.lower() == "userdatasecretref" for name in BY_JSON)
    assert BY_JSON["secretRef"].go.startswith("CloudInitNoCloudSource.UserDataSecretRef")
