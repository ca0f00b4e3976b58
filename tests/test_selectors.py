from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.catalog.selectors import LabelSelector, SelectorError, parse_selector, selector_from_object

LABELS = {"app": "web", "tier": "frontend", "kubevirt.io/domain": "fedora"}


@pytest.mark.parametrize(
    ("text", "matches"),
    [
        ("app=web", True),
        ("app==web", True),
        ("app=db", False),
        ("app!=db", True),
        ("app!=web", False),
        ("missing!=x", True),
        ("tier in (frontend,backend)", True),
        ("tier in (backend)", False),
        ("tier notin (backend)", True),
        ("tier notin (frontend, backend)", False),
        ("missing notin (x)", True),
        ("app", True),
        ("missing", False),
        ("!missing", True),
        ("!app", False),
        ("app=web,tier=frontend", True),
        ("app=web, tier=backend", False),
        ("kubevirt.io/domain=fedora", True),
        ("app=", False),
    ],
)
def test_kubectl_selector_syntax(text: str, matches: bool) -> None:
    assert parse_selector(text).matches(LABELS) is matches


@pytest.mark.parametrize("text", ["app=web,", "=web", "app in web", "app in ()", "a=b=c", "app=(x)", "in=x", "a b"])
def test_invalid_selectors_raise(text: str) -> None:
    with pytest.raises(SelectorError):
        parse_selector(text)


def test_selector_round_trips_through_its_string() -> None:
    selector = parse_selector("app=web,tier in (a,b),!gone,present,x!=y")
    assert parse_selector(str(selector)) == selector


def test_label_selector_objects() -> None:
    selector = selector_from_object(
        {
            "matchLabels": {"app": "web"},
            "matchExpressions": [{"key": "tier", "operator": "In", "values": ["frontend"]}],
        }
    )
    assert selector.matches(LABELS)
    assert not selector.matches({"app": "web"})
    with pytest.raises(SelectorError):
        selector_from_object({"matchExpressions": [{"key": "tier", "operator": "In"}]})
    with pytest.raises(SelectorError):
        selector_from_object({"matchLabels": ["app"]})


def test_non_map_labels_match_only_empty_selectors() -> None:
    assert LabelSelector().matches(None)
    assert not parse_selector("app=web").matches(None)


KEYS, VALUES = st.sampled_from(["app", "tier", "k8s.io/part-of"]), st.sampled_from(["web", "db", "x-1"])
TERMS = st.one_of(
    st.builds(lambda k, op, v: f"{k}{op}{v}", KEYS, st.sampled_from(["=", "==", "!="]), VALUES),
    st.builds(lambda k, op, vs: f"{k} {op} ({','.join(vs)})", KEYS, st.sampled_from(["in", "notin"]),
              st.lists(VALUES, min_size=1, max_size=3)),
    KEYS, st.builds(lambda k: f"!{k}", KEYS),
)  # fmt: skip


@given(st.lists(TERMS, min_size=1, max_size=4), st.dictionaries(KEYS, VALUES))
@settings(max_examples=300, deadline=None)
def test_the_emulators_own_parser_agrees_with_ours(terms: list[str], labels: dict[str, str]) -> None:
    """Two parsers written apart: the test oracle does not inherit the gateway's bugs."""
    from tests.support.emulator.selectors import parse_selector as emulator_parse

    text = ",".join(terms)
    assert emulator_parse(text)(labels) == parse_selector(text).matches(labels), text
