"""The application graph of a namespace, in Radius's shape, with a Graphviz rendering.

    {"resources": [{id, type, name, resources: [output resources], connections:
                    [{id, direction: Outbound|Inbound}], provisioningState}]}

Resources are the VMs of the scope and the VMIs no VM owns (standalone, as in KubeVirt's VMI
examples and replica sets), the Services that select them, and the PVCs and
NetworkAttachmentDefinitions that more than one of those use. A VM's output resources
are its object graph, flattened; a Service routes Outbound to the VMs it selects; a VM
connects Outbound to each shared dependency. Ids are the objects' paths in this gateway.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from gateway.catalog import Catalog, Entity, Link, Query, href_for, refs
from gateway.catalog.selectors import LabelSelector
from gateway.errors import Forbidden, NotFound
from gateway.follow.engine import FollowEngine
from gateway.follow.followers import Target
from gateway.follow.policy import Policy
from gateway.graph.objectgraph import MISSING, Node, ObjectGraphBuilder, flat, quoted
from gateway.store import Store

SHARED_KINDS = ("PersistentVolumeClaim", "NetworkAttachmentDefinition")
Resource = dict[str, Any]


def _dependency(id_: str, type_: str, name: str, state: str = "Succeeded") -> Resource:
    """A resource that is no workload of the scope: a Service, a shared dependency, what a user's link connects."""
    return {"id": id_, "type": type_, "name": name, "resources": [], "connections": [], "provisioningState": state}


_VM_STATES = {
    "Running": "Succeeded",
    "Stopped": "Succeeded",
    "Paused": "Succeeded",
    "Provisioning": "Provisioning",
    "Starting": "Provisioning",
    "WaitingForVolumeBinding": "Provisioning",
    "Migrating": "Updating",
    "Stopping": "Updating",
    "Terminating": "Deleting",
}
_VMI_STATES = {  # VirtualMachineInstancePhase
    "Pending": "Provisioning",
    "Scheduling": "Provisioning",
    "Scheduled": "Provisioning",
    "Running": "Succeeded",
    "Succeeded": "Succeeded",
    "Failed": "Failed",
    "Unknown": "Failed",
}
_PVC_STATES = {"Bound": "Succeeded", "Pending": "Provisioning", "Lost": "Failed"}


def resource_type(kind: str, group: str) -> str:
    return f"{group or 'core'}/{kind}"


@dataclass(frozen=True, slots=True)
class Piece:
    """One workload's part of the graph, which depends on nothing outside it: its resource (all
    but the connections), the dependencies it could share with others, the Services selecting it."""

    resource: Resource
    shared: tuple[tuple[str, str, str, str], ...]
    """(id, kind, name, provisioningState) of each PVC and NetworkAttachmentDefinition it uses."""
    services: tuple[tuple[str, str], ...]
    """(id, name) of each Service selecting it that the caller may get."""
    declared: tuple[tuple[str, str, str, str], ...] = ()
    """(id, type, name, direction) of each object a user-declared link connects it to, that the caller
    may know of: Outbound along a link of its own, Inbound from an object whose link names it (`inverse`)."""


class KeepsPieces(Protocol):
    """Remembers a piece of an answer about one object (`of`) with what its `build` read through
    the store it is given, until a change to any of that: a graph assembled from kept pieces
    rebuilds only the pieces of the workloads that changed."""

    def __call__(self, of: Entity, store: Store, access: Policy | None, build: Callable[[Store], Piece]) -> Piece: ...


@runtime_checkable
class KeepsPiecesTogether(Protocol):
    """Keeps pieces as `KeepsPieces` does, and builds those it lacks together: `build` resolves them
    all at once (one read per kind per step) through a store view that records each one's reads."""

    def together(
        self,
        workloads: list[Entity],
        store: Store,
        access: Policy | None,
        build: Callable[[Store, list[Entity]], list[Piece]],
    ) -> list[Piece]: ...


class ApplicationGraphBuilder:
    def __init__(self, engine: FollowEngine, pieces: KeepsPieces | None = None) -> None:
        self.engine = engine
        self.catalog: Catalog = engine.catalog
        self.objects = ObjectGraphBuilder(engine)
        self.kept = pieces

    def build(
        self, store: Store, namespace: str, selector: LabelSelector, access: Policy | None = None
    ) -> dict[str, Any]:
        vm_kind, vmi_kind = self.catalog.kind("VirtualMachine"), self.catalog.kind("VirtualMachineInstance")
        if access is not None and not access.may_list(vm_kind, namespace):
            raise Forbidden(f"virtualmachines is forbidden: you may not list them in namespace {namespace!r}")
        vms = [Entity.root(vm_kind, o) for o in store.select(Query(vm_kind.name, namespace, selector))]
        standalone: list[Entity] = []
        if access is None or access.may_list(vmi_kind, namespace):
            vmis = store.select(Query(vmi_kind.name, namespace, selector))
            standalone = [Entity.root(vmi_kind, o) for o in vmis if refs.owner(o, vm_kind.name) is None]
        if not vms and not standalone:
            scope = f" matching {selector}" if selector else ""
            raise NotFound(
                f"no VirtualMachines or VirtualMachineInstances in namespace {namespace!r}{scope}: "
                "the application graph is empty"
            )
        workloads = [*vms, *standalone]
        kept = self.kept
        if kept is None:  # all together: one read per kind per step (what direct reads need)
            pieces = self.pieces(store, workloads, access)
        elif isinstance(kept, KeepsPiecesTogether):  # those it lacks together, each kept with its own reads
            pieces = kept.together(workloads, store, access, lambda view, some: self.pieces(view, some, access))
        else:  # one by one, each kept with its own reads
            pieces = [kept(w, store, access, self._one(w, access)) for w in workloads]
        return self._assemble(workloads, pieces)

    def pieces(self, store: Store, workloads: list[Entity], access: Policy | None) -> list[Piece]:
        """The pieces of these workloads (VMs, and VMIs no VM owns), resolved together."""
        graphs = self.objects.build(store, workloads, access=access)
        by_kind: dict[str, list[int]] = defaultdict(list)
        for i, w in enumerate(workloads):
            by_kind[w.kind.name].append(i)
        services: list[tuple[tuple[str, str], ...]] = [()] * len(workloads)
        declared: list[list[tuple[str, str, str, str]]] = [[] for _ in workloads]
        for kind, indexes in by_kind.items():
            members = [workloads[i] for i in indexes]
            link = self.catalog.all_links(kind)["services"]
            found = self.engine.resolve(store, link, members, access)
            for i, w, targets in zip(indexes, members, found, strict=True):
                services[i] = tuple(self._services(w, link, targets, access))
            # links users declared to or from this kind connect their objects: one read per link
            for link in self.catalog.all_links(kind).values():
                if link.declared is None or link.via:
                    continue
                found = self.engine.resolve(store, link, members, access)
                for i, w, targets in zip(indexes, members, found, strict=True):
                    declared[i].extend(self._connected(w, link, targets, access))
        return [
            self._piece(w, g, selecting, tuple(dict.fromkeys(linked)))
            for w, g, selecting, linked in zip(workloads, graphs, services, declared, strict=True)
        ]

    def _connected(
        self, workload: Entity, link: Link, targets: list[Target], access: Policy | None
    ) -> Iterator[tuple[str, str, str, str]]:
        """The objects a declared link leads to from the workload, that the caller may know of."""
        assert link.declared is not None
        direction = "Inbound" if link.declared.inverse else "Outbound"
        for target in targets:
            if target.obj is None:
                continue
            if access is None or access.knows(link, target, workload.namespace):
                found = self.engine.target_entity(workload, link.rel, target)
                yield found.href, resource_type(found.kind.name, found.kind.group), found.name, direction

    def _one(self, workload: Entity, access: Policy | None) -> Callable[[Store], Piece]:
        return lambda view: self.pieces(view, [workload], access)[0]

    def _services(
        self, workload: Entity, link: Link, targets: list[Target], access: Policy | None
    ) -> Iterator[tuple[str, str]]:
        """The Services found selecting it that the caller may know of (a search: list, then get)."""
        for target in targets:
            if target.obj is None:
                continue
            if access is None or access.knows(link, target, workload.namespace):
                service = self.engine.target_entity(workload, link.rel, target)
                yield service.href, service.name

    def _piece(
        self,
        workload: Entity,
        graph: Node,
        services: tuple[tuple[str, str], ...],
        declared: tuple[tuple[str, str, str, str], ...] = (),
    ) -> Piece:
        nodes = flat(graph)[1:]
        outputs = [self._output(n) for n in nodes]
        resource = {
            "id": workload.href,
            "type": resource_type(workload.kind.name, workload.kind.group),
            "name": workload.name,
            "resources": outputs,
            "provisioningState": self._vm_state(workload, outputs),
        }
        shared: dict[str, tuple[str, str, str, str]] = {}
        for n, out in zip(nodes, outputs, strict=True):
            kind = n["objectReference"]["kind"]
            if kind in SHARED_KINDS and out["id"] not in shared:
                shared[out["id"]] = (out["id"], kind, out["name"], out["provisioningState"])
        return Piece(resource, tuple(shared.values()), services, declared)

    def _assemble(self, workloads: list[Entity], pieces: list[Piece]) -> dict[str, Any]:
        resources: dict[str, Resource] = {}
        users: dict[str, list[str]] = defaultdict(list)  # dependency id -> ids of the workloads using it
        dependencies: dict[str, tuple[str, str, str]] = {}  # dependency id -> (kind, name, state)
        for w, piece in zip(workloads, pieces, strict=True):
            resources[w.href] = {**piece.resource, "connections": []}
            for dep_id, kind, name, state in piece.shared:
                users[dep_id].append(w.href)
                dependencies.setdefault(dep_id, (kind, name, state))
        joined: set[tuple[str, str, str]] = set()  # (resource id, connected id, direction)

        def connect(one: str, other: str, direction: str) -> None:
            """`one` connects to `other` in `direction` and `other` back to it: once each, however many
            links say so (a Service a user's link also leads to, a shared claim a user's link names)."""
            back = "Outbound" if direction == "Inbound" else "Inbound"
            for source, target, way in ((one, other, direction), (other, one, back)):
                if (source, target, way) not in joined:
                    joined.add((source, target, way))
                    resources[source]["connections"].append({"id": target, "direction": way})

        for w, piece in zip(workloads, pieces, strict=True):
            for service_id, name in piece.services:
                if service_id not in resources:
                    resources[service_id] = _dependency(service_id, resource_type("Service", ""), name)
                connect(w.href, service_id, "Inbound")
        for w, piece in zip(workloads, pieces, strict=True):
            for other_id, kind_type, name, direction in piece.declared:
                if other_id not in resources:
                    resources[other_id] = _dependency(other_id, kind_type, name)
                connect(w.href, other_id, direction)
        for dep_id, used_by in users.items():
            if len(used_by) < 2:
                continue
            kind, name, state = dependencies[dep_id]
            if dep_id not in resources:  # else a user's link made it a resource already, with its connections
                resources[dep_id] = _dependency(dep_id, resource_type(kind, self.catalog.kind(kind).group), name, state)
            for v in used_by:
                connect(v, dep_id, "Outbound")
        return {"resources": sorted(resources.values(), key=lambda r: (r["type"], r["id"]))}

    def _output(self, n: dict[str, Any]) -> Resource:
        ref = n["objectReference"]
        kind = self.catalog.kind(ref["kind"])
        missing = n["labels"].get(MISSING) == "true"
        return {
            "id": href_for(kind, ref["namespace"] or None, ref["name"]),
            "type": resource_type(kind.name, kind.group),
            "name": ref["name"],
            "provisioningState": "Failed" if missing else "Succeeded",
        }

    def _vm_state(self, vm: Entity, outputs: list[Resource]) -> str:
        if any(o["provisioningState"] == "Failed" for o in outputs):
            return "Failed"  # a VM whose dependencies are missing cannot run
        status = vm.obj.get("status")
        if vm.kind.name == "VirtualMachineInstance":
            phase = status.get("phase") if isinstance(status, dict) else None
            return _VMI_STATES.get(str(phase), "Failed" if phase else "Provisioning")
        printable = status.get("printableStatus") if isinstance(status, dict) else None
        return _VM_STATES.get(str(printable), "Failed" if printable else "Succeeded")


def to_dot(graph: dict[str, Any], title: str) -> str:
    """Graphviz: top-level resources as boxes, their output resources as ellipses, connections as edges."""

    def label(resource: Resource) -> str:
        kind, name = quoted(resource["type"].rsplit("/", 1)[1]), quoted(resource["name"])
        return f"{kind[:-1]}\\n{name[1:]}"  # two quoted parts joined by a DOT line break

    lines = [f"digraph {quoted(title)} {{", "  rankdir=LR;", "  node [fontname=Helvetica, fontsize=10];"]
    declared: set[str] = set()
    for r in graph["resources"]:
        style = ', style=filled, fillcolor="#f4cccc"' if r["provisioningState"] == "Failed" else ""
        lines.append(f"  {quoted(r['id'])} [label={label(r)}, shape=box{style}];")
        declared.add(r["id"])
    for r in graph["resources"]:
        for out in r["resources"]:
            if out["id"] not in declared:
                missing = ", style=dashed, color=red" if out["provisioningState"] == "Failed" else ""
                lines.append(f"  {quoted(out['id'])} [label={label(out)}, shape=ellipse{missing}];")
                declared.add(out["id"])
            lines.append(f"  {quoted(r['id'])} -> {quoted(out['id'])} [arrowhead=none, color=gray];")
        for c in r["connections"]:
            if c["direction"] == "Outbound":
                lines.append(f"  {quoted(r['id'])} -> {quoted(c['id'])};")
    lines.append("}")
    return "\n".join(lines) + "\n"
