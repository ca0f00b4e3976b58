"""Checking a follow tree against the catalogue: `*` and the messages past the last kind with links."""

from __future__ import annotations

import pytest

from gateway.catalog import CATALOG
from gateway.follow.paths import FollowError, parse_follow
from gateway.follow.validate import Context, validate

VM = {Context("VirtualMachine")}


def test_what_follows_a_star_is_checked_on_every_kind_the_star_reaches() -> None:
    validate(parse_follow("*.pvc"), VM, CATALOG)  # a VM's volumes have one
    with pytest.raises(FollowError, match=r"^unknown rel 'nope' in follow path '\*\.nope': .* has no link 'nope'; "):
        validate(parse_follow("*.nope"), VM, CATALOG)


def test_a_star_on_a_kind_without_links_follows_nothing_and_below_it_nothing_has_a_link() -> None:
    validate(parse_follow("vmi.pod.node.*"), VM, CATALOG)  # a Node has no links: `*` is every one of none
    with pytest.raises(FollowError) as caught:
        validate(parse_follow("vmi.pod.node.*.nope"), VM, CATALOG)
    assert str(caught.value) == ("unknown rel 'nope' in follow path 'vmi.pod.node.*.nope': nothing has no link "
                                 "'nope'; valid rels there: (none)")  # fmt: skip


def test_a_rel_reachable_only_in_several_other_ways_names_each() -> None:
    cluster_wide = {Context("VirtualMachineClusterInstancetype"), Context("VirtualMachineClusterPreference")}
    with pytest.raises(FollowError) as caught:
        validate(parse_follow("revision"), cluster_wide, CATALOG)
    assert str(caught.value).endswith(
        "('revision' is reachable only through VirtualMachine.instancetype, VirtualMachine.preference)"
    )
