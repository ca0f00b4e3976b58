"""The catalogue's own mechanics on a small catalogue built here (unit tests): which links a path
reaches, what a kind may name in another namespace, where its referrers are searched, parts and
their owner, and what is derived once per object. A catalogue of its own, not the built-in one:
the built-in catalogue keeps what it derived since the process began, so a test of it would mostly
read answers an earlier test computed."""

from __future__ import annotations

import copy
from types import MappingProxyType
from typing import Any

import pytest

from gateway.catalog import (
    CATALOG,
    Catalog,
    Entity,
    Held,
    Kind,
    Link,
    Named,
    ObjectRef,
    Parts,
    Selected,
    named_refs,
    part_entity,
)
from gateway.catalog.kinds import href_for, meta, namespace_of
from gateway.catalog.links import edition
from gateway.catalog.names import NameRule, name_problem
from gateway.catalog.refs import dig, namespaced_name, owned_by, ref, text

MACHINE = Kind("Machine", "example.io", "v1", "machines", "machines", True)
DISK = Kind("Disk", "example.io", "v1", "disks", "disks", True)
NETWORK = Kind("Network", "example.io", "v1", "networks", "networks", True)
IMAGE = Kind("Image", "example.io", "v1", "images", "images", True)
ZONE = Kind("Zone", "example.io", "v1", "zones", "zones", False)
PORT = Kind("Port", "", "", "", "ports", True, part=True)
TWIN = ("Machine", "twin")


def _names(kind: str, *path: str) -> Named:
    return Named(lambda e: ref(kind, e.namespace, dig(e.obj, *path)))


def _across(kind: str, *path: str) -> Named:
    """`ns/name` at `path`: a name in another namespace."""

    def refs(e: Entity) -> list[ObjectRef]:
        ns, name = namespaced_name(dig(e.obj, *path), e.namespace)
        return [ObjectRef(kind, ns, name)] if name else []

    return Named(refs, across=True)


def catalog(*, frozen: bool = True) -> Catalog:
    c = Catalog()
    for kind in (MACHINE, DISK, NETWORK, IMAGE, ZONE, PORT):
        c.add_kind(kind)
    # a path-dependent link first: what reads every link must pass it by, not stop there
    c.add_link(
        "Machine", Link("pinned", ("Disk",), False, _across("Disk", "status", "pinned"), "", via=frozenset({TWIN}))
    )
    c.add_link("Machine", Link("disk", ("Disk",), False, _names("Disk", "spec", "disk"), "spec.disk"))
    c.add_link("Machine", Link("network", ("Network",), False, _across("Network", "spec", "network"), "spec.network"))
    c.add_link("Machine", Link("ports", ("Port",), True, Parts(lambda e: list(e.obj["spec"]["ports"])), "spec.ports"))
    c.add_link("Machine", Link("twin", ("Machine",), False, _names("Machine", "spec", "twin"), "spec.twin"))
    c.add_link("Port", Link("image", ("Image",), False, _across("Image", "image"), "image"))
    zone_machine = Named(
        lambda e: ref("Machine", dig(e.obj, "spec", "machine", "namespace"), dig(e.obj, "spec", "machine", "name"))
    )
    c.add_link("Zone", Link("machine", ("Machine",), False, zone_machine, "spec.machine"))  # not declared across
    if frozen:
        c.freeze()
    return c


def machine(name: str = "m1", namespace: str = "lab") -> dict[str, Any]:
    return {
        "apiVersion": "example.io/v1", "kind": "Machine",
        "metadata": {"name": name, "namespace": namespace, "uid": f"uid-{name}"},
        "spec": {"disk": "root", "network": "infra/uplink", "twin": "m2",
                 "ports": [{"name": "eth0", "image": "images/pxe"}, {"name": "eth1", "image": "boot"}]},
        "status": {"pinned": "other/old-root"},
    }  # fmt: skip


@pytest.mark.parametrize("frozen", [True, False])
def test_a_path_dependent_link_is_reached_only_through_its_path(frozen: bool) -> None:
    c = catalog(frozen=frozen)
    for _ in range(2):  # a frozen catalogue answers the second time from what it kept
        assert list(c.links("Machine")) == ["disk", "network", "ports", "twin"]
        assert list(c.links("Machine", TWIN)) == ["pinned", "disk", "network", "ports", "twin"]
        assert list(c.links("Machine", ("Zone", "machine"))) == ["disk", "network", "ports", "twin"]
        assert c.path_dependent("Machine", TWIN) is True
        assert c.path_dependent("Machine", None) is False and c.path_dependent("Port", ("Machine", "ports")) is False
    assert c.link("Machine", "pinned").resolver is c.all_links("Machine")["pinned"].resolver


def test_a_link_applies_through_its_paths_and_one_without_paths_always() -> None:
    c = catalog()
    pinned, disk = c.link("Machine", "pinned"), c.link("Machine", "disk")
    assert pinned.applies(TWIN) and not pinned.applies(None) and not pinned.applies(("Zone", "machine"))
    assert disk.applies(None) and disk.applies(TWIN)


@pytest.mark.parametrize("frozen", [True, False])
def test_the_kinds_named_in_another_namespace_include_those_its_parts_name(frozen: bool) -> None:
    c = catalog(frozen=frozen)
    for _ in range(2):
        # Network directly, Image through a port; not Disk: `disk` is not across, `pinned` depends on the path
        assert c.named_across("Machine") == {"Network", "Image"}
        assert c.named_across("Port") == {"Image"}
        assert c.named_across("Disk") == frozenset()


def test_referrers_are_searched_in_the_targets_namespace_unless_they_may_be_elsewhere() -> None:
    c = catalog()
    assert c.referrer_scope("Machine", ObjectRef("Disk", "lab", "root")) == "lab"
    assert c.referrer_scope("Machine", ObjectRef("Machine", "lab", "m2")) == "lab"
    assert c.referrer_scope("Machine", ObjectRef("Network", "infra", "uplink")) is None  # named across
    assert c.referrer_scope("Machine", ObjectRef("Image", "images", "pxe")) is None  # across, by a port
    assert c.referrer_scope("Machine", ObjectRef("Zone", None, "z")) is None  # a cluster-scoped target
    assert c.referrer_scope("Zone", ObjectRef("Machine", "lab", "m1")) is None  # a cluster-scoped source


def test_an_object_names_what_its_links_and_its_parts_links_name_but_not_what_a_path_adds() -> None:
    c = catalog()
    assert list(c.references(MACHINE, machine())) == [
        ObjectRef("Disk", "lab", "root"),
        ObjectRef("Network", "infra", "uplink"),
        ObjectRef("Image", "images", "pxe"),
        ObjectRef("Image", "lab", "boot"),
        ObjectRef("Machine", "lab", "m2"),
    ]
    other = machine("m3")
    found = c.referrers_among(
        MACHINE, [machine(), other], [ObjectRef("Image", "lab", "boot"), ObjectRef("Disk", "x", "y")]
    )
    assert found == {ObjectRef("Image", "lab", "boot"): [machine(), other], ObjectRef("Disk", "x", "y"): []}


def test_a_part_lives_under_its_owner_and_is_reached_through_its_link() -> None:
    owner = Entity.root(MACHINE, machine())
    port = part_entity(owner, "ports", PORT, {"name": "eth0", "image": "images/pxe"})
    assert (port.href, port.namespace, port.name) == ("/namespaces/lab/machines/m1/ports/eth0", "lab", "eth0")
    assert port.via == ("Machine", "ports")
    assert port.owner() is owner and owner.owner() is owner
    # an object reached through a link is its own owner: it is no part of the object that named it
    disk = Entity(
        DISK, {"metadata": {"name": "root", "namespace": "lab"}}, "lab", "/namespaces/lab/disks/root", owner, "disk"
    )
    assert disk.owner() is disk and disk.via == ("Machine", "disk")


def test_a_cluster_scoped_object_has_no_namespace_even_if_its_manifest_says_one() -> None:
    zone = Entity.root(ZONE, {"metadata": {"name": "z", "namespace": "lab"}})
    assert (zone.namespace, zone.href, zone.ref()) == (None, "/zones/z", ObjectRef("Zone", None, "z"))
    assert href_for(ZONE, None) == "/zones" and href_for(MACHINE, "lab") == "/namespaces/lab/machines"
    assert (
        namespace_of({"metadata": {"name": "z"}}) is None and namespace_of({"metadata": {"namespace": "lab"}}) == "lab"
    )
    assert meta({"metadata": ["not", "a", "map"]}) == {} and namespace_of({"metadata": "lab"}) is None


class Counted:
    """A `Named` link's reader that counts how often it reads."""

    def __init__(self) -> None:
        self.reads = 0

    def __call__(self, e: Entity) -> list[ObjectRef]:
        self.reads += 1
        return ref("Disk", e.namespace, dig(e.obj, "spec", "disk"))


def test_what_a_link_names_is_read_once_per_entity_and_once_per_held_object() -> None:
    counted = Counted()
    link = Link("disk", ("Disk",), False, Named(counted), "spec.disk")
    plain = Entity.root(MACHINE, machine())
    assert named_refs(plain, link) == named_refs(plain, link) == [ObjectRef("Disk", "lab", "root")]
    assert counted.reads == 1
    assert named_refs(Entity.root(MACHINE, machine()), link) and counted.reads == 2  # a plain dict: per entity
    held = Held(machine())
    for _ in range(2):  # every entity of a held object, in any request, shares what was read
        assert named_refs(Entity.root(MACHINE, held), link) == [ObjectRef("Disk", "lab", "root")]
    assert counted.reads == 3


def test_a_catalogue_that_adopts_another_reads_its_links_and_derives_again() -> None:
    counted = Counted()
    link = Link("disk", ("Disk",), False, Named(counted), "spec.disk")
    held = Held(machine())
    named_refs(Entity.root(MACHINE, held), link)
    in_use, other = catalog(), Catalog()
    other.add_kind(ZONE)
    with pytest.raises(RuntimeError):
        in_use.adopt(other)  # still open: it could change after
    other.freeze()
    before = edition()
    in_use.adopt(other)
    assert edition() == before + 1 and [k.name for k in in_use.kinds()] == ["Zone"]
    named_refs(Entity.root(MACHINE, held), link)
    assert counted.reads == 2  # derived under the old entries: read again


def test_a_copy_of_a_held_object_is_a_plain_dict_and_a_deep_copy_keeps_what_it_shares() -> None:
    held = Held(machine())
    assert type(copy.copy(held)) is dict and copy.copy(held) == held
    listed = copy.deepcopy([held, held["spec"]])
    assert type(listed[0]) is dict and listed[0] == held and listed[1] is listed[0]["spec"]


def test_a_reference_is_a_non_empty_string_and_ownership_a_uid() -> None:
    assert ref("Disk", "lab", "root") == [ObjectRef("Disk", "lab", "root")]
    assert ref("Disk", "lab", "") == [] and ref("Disk", "lab", 7) == [] and text(["root"]) is None
    pod = {"metadata": {"ownerReferences": [{"kind": "Machine", "name": "m1", "uid": "uid-m1"}]}}
    assert owned_by(pod, "uid-m1") and not owned_by(pod, "uid-m2") and not owned_by(pod, None)
    assert dig(MappingProxyType({"spec": {"disk": "root"}}), "spec", "disk") == "root"  # any map, not only a dict
    assert dig({"spec": ["disk"]}, "spec", "disk") is None


def launcher(name: str, node: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "namespace": "lab", "labels": {"kubevirt.io": "virt-launcher"},
                     "ownerReferences": [{"apiVersion": "kubevirt.io/v1", "kind": "VirtualMachineInstance",
                                          "name": "fedora", "uid": "6d4b0f1c", "controller": True}]},
        "spec": {"nodeName": node},
    }  # fmt: skip


@pytest.mark.parametrize(
    ("node", "picked"), [("node-b", "virt-launcher-fedora-zq7xk"), ("node-a", "virt-launcher-fedora-b2mvn")]
)
def test_of_a_migrating_vmis_two_launcher_pods_the_one_on_its_node_else_the_first_by_name(
    node: str, picked: str
) -> None:
    vmi = {"apiVersion": "kubevirt.io/v1", "kind": "VirtualMachineInstance",
           "metadata": {"name": "fedora", "namespace": "lab", "uid": "6d4b0f1c"},
           "status": {"nodeName": node}}  # fmt: skip
    pods = [launcher("virt-launcher-fedora-zq7xk", "node-b"), launcher("virt-launcher-fedora-b2mvn", "node-c")]
    entity = Entity.root(CATALOG.kind("VirtualMachineInstance"), vmi)
    resolver = CATALOG.link("VirtualMachineInstance", "pod").resolver
    assert isinstance(resolver, Selected) and resolver.pick is not None
    assert [meta(p)["name"] for p in resolver.pick(entity, pods)] == [picked]
    # KubeVirt's object graph takes the first by name wherever it runs: after a migration, maybe the old one
    (step, *_) = CATALOG.graph("VirtualMachineInstance") or ()
    assert step.path == ("pod",) and step.pick is not None
    assert [meta(p)["name"] for p in step.pick(entity, pods)] == ["virt-launcher-fedora-b2mvn"]


@pytest.mark.parametrize(("rule", "longest"), [("subdomain", 253), ("label", 63), ("dns1035", 63)])
def test_a_name_is_refused_when_empty_or_longer_than_its_rule_allows(rule: NameRule, longest: int) -> None:
    assert name_problem("", rule) == "must not be empty"
    assert name_problem("a" * longest, rule) is None
    assert name_problem("a" * (longest + 1), rule) == f"must be at most {longest} characters, not {longest + 1}"
