"""Redaction of every shape an API answer can take (unit tests of store/normalize.py)."""

from __future__ import annotations

from typing import Any

from gateway.store.normalize import normalize, redact_answer

SECRET_ITEM = {"metadata": {"name": "ssh-key", "namespace": "demo"}, "data": {"key": "c2VjcmV0"}, "type": "Opaque"}


def test_a_secret_list_whose_items_carry_no_kind_is_redacted_item_by_item() -> None:
    answer = redact_answer({"kind": "SecretList", "apiVersion": "v1", "items": [SECRET_ITEM, SECRET_ITEM]})
    assert [i["dataKeys"] for i in answer["items"]] == [["key"], ["key"]]
    assert all("data" not in i for i in answer["items"])


def test_a_mixed_list_redacts_its_secrets_only() -> None:
    config_map = {"kind": "ConfigMap", "metadata": {"name": "c"}, "data": {"k": "v"}}
    answer = redact_answer({"kind": "List", "items": [{"kind": "Secret", **SECRET_ITEM}, config_map]})
    assert "data" not in answer["items"][0] and answer["items"][1]["data"] == {"k": "v"}


def test_an_answer_from_a_secrets_path_is_redacted_whatever_it_claims_to_be() -> None:
    claimed: dict[str, Any] = {"kind": "Status", "data": {"key": "c2VjcmV0"}, "items": None}
    assert "data" not in redact_answer(claimed, secrets=True)
    disguised = {"kind": "ConfigMapList", "items": [SECRET_ITEM]}
    assert "data" not in redact_answer(disguised, secrets=True)["items"][0]


def test_normalize_redacts_the_last_applied_annotation_too() -> None:
    applied = {"kubectl.kubernetes.io/last-applied-configuration": '{"data": {"key": "c2VjcmV0"}}', "keep": "1"}
    secret = {"kind": "Secret", "metadata": {"name": "s", "annotations": applied}, "stringData": {"a": "b"}}
    assert normalize(secret)["metadata"]["annotations"] == {"keep": "1"}
    assert normalize(secret)["dataKeys"] == ["a"]


def test_redaction_is_idempotent() -> None:
    once = redact_answer({"kind": "Secret", **SECRET_ITEM})
    assert normalize(once)["dataKeys"] == ["key"] == normalize(normalize(once))["dataKeys"]
