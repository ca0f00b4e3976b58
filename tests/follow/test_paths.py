"""The follow grammar: parse, merge, render, limits."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gateway.follow.paths import FollowError, FollowLimits, parse_follow
from gateway.follow.tree import LinkTree

rels = st.from_regex(r"[a-z][a-z0-9_]{0,6}", fullmatch=True) | st.just("*")


def trees(depth: int = 4) -> st.SearchStrategy[LinkTree]:
    leaf = st.just(LinkTree())
    return st.recursive(
        leaf,
        lambda children: st.dictionaries(rels, children, min_size=1, max_size=4).map(
            lambda d: LinkTree(tuple(sorted(d.items())))
        ),
        max_leaves=12,
    )


@given(trees())
def test_any_tree_renders_to_a_follow_string_that_parses_back_to_it(tree: LinkTree) -> None:
    limits = FollowLimits(max_depth=50, max_paths=500)
    assert parse_follow(tree.render(), limits) == tree


@given(st.lists(st.lists(rels, min_size=1, max_size=4).map(tuple), min_size=1, max_size=8), st.randoms())
def test_merging_paths_does_not_depend_on_their_order(paths: list[tuple[str, ...]], random: object) -> None:
    shuffled = list(paths)
    random.shuffle(shuffled)  # type: ignore[attr-defined]
    assert LinkTree.from_paths(paths) == LinkTree.from_paths(shuffled)


@given(st.lists(st.lists(rels, min_size=1, max_size=4).map(tuple), min_size=1, max_size=8))
def test_every_input_path_is_in_the_merged_tree(paths: list[tuple[str, ...]]) -> None:
    tree = LinkTree.from_paths(paths)
    for path in paths:
        node: LinkTree | None = tree
        for rel in path:
            assert node is not None
            node = node.get(rel)
        assert node is not None


def test_common_prefixes_are_followed_once() -> None:
    tree = parse_follow("volumes.pvc, volumes.datavolume ,instancetype.revision")
    assert [rel for rel, _ in tree.items()] == ["instancetype", "volumes"]
    volumes = tree.get("volumes")
    assert volumes is not None
    assert [rel for rel, _ in volumes.items()] == ["datavolume", "pvc"]
    assert tree.render() == "instancetype.revision,volumes.datavolume,volumes.pvc"
    assert tree.depth == 2


def test_a_prefix_and_a_longer_path_keep_the_longer_path() -> None:
    assert parse_follow("volumes,volumes.pvc") == parse_follow("volumes.pvc")


@pytest.mark.parametrize("text", [None, "", "   "])
def test_no_follow_is_an_empty_tree(text: str | None) -> None:
    assert not parse_follow(text)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("volumes..pvc", "follow path 'volumes..pvc' has an empty rel"),
        (".pvc", "follow path '.pvc' has an empty rel"),
        ("pvc.", "follow path 'pvc.' has an empty rel"),
        ("a,,b", "has an empty path"),
        ("a,", "has an empty path"),
        ("Volumes", "'Volumes' is not a rel (lowercase letters, digits and '_', starting with a letter; or '*')"),
        ("volumes.PVC", "'PVC' is not a rel"),
        ("1abc", "'1abc' is not a rel"),
        ("vol-umes", "'vol-umes' is not a rel"),
        ("volumes.p vc", "'p vc' is not a rel"),
        ("**", "'**' is not a rel"),
        ("volumes;pvc", "'volumes;pvc' is not a rel"),
        ("a.b.c.d.e.f.g", "7 levels deep, more than the limit of 6 (the gateway's --max-follow-depth)"),
        (",".join(["a"] * 65), "65 paths, more than the limit of 64 (the gateway's --max-follow-paths)"),
    ],
)
def test_invalid_follow_is_rejected_with_a_message_naming_the_problem(text: str, message: str) -> None:
    with pytest.raises(FollowError) as error:
        parse_follow(text)
    assert message in error.value.message
    assert error.value.code == 400
    assert error.value.field == "follow"


def test_limits_are_configurable() -> None:
    assert parse_follow("a.b.c.d.e.f.g", FollowLimits(max_depth=7)).depth == 7
    assert [rel for rel, _ in parse_follow("a,b,c", FollowLimits(max_paths=3)).items()] == [
        "a",
        "b",
        "c",
    ]  # at the limit
    with pytest.raises(FollowError, match="4 paths, more than the limit of 3"):
        parse_follow("a,b,c,d", FollowLimits(max_paths=3))
    with pytest.raises(FollowError, match="limit of 2"):
        parse_follow("a.b.c", FollowLimits(max_depth=2))
