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
from typing import Any

from gateway.catalog import Catalog, Entity, Query, href_for, refs
from gateway.catalog.selectors import LabelSelector
from gateway.errors import Forbidden, NotFound
from gateway.follow.engine import FollowEngine
from gateway.follow.policy import Policy
from gateway.graph.objectgraph import MISSING, ObjectGraphBuilder, flat, quoted
from gateway.store import Store

SHARED_KINDS = ("PersistentVolumeClaim", "NetworkAttachmentDefinition")
Resource = dict[str, Any]

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


class ApplicationGraphBuilder:
    def __init__(self, engine: FollowEngine) -> None:
        self.engine = engine
        self.catalog: Catalog = engine.catalog
        self.objects = ObjectGraphBuilder(engine)

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
        graphs = self.objects.build(store, workloads, access=access)
        services = [
            *self.engine.resolve(store, self.catalog.all_links(vm_kind.name)["services"], vms, access),
            *(self.engine.resolve(store, self.catalog.all_links(vmi_kind.name)["services"], standalone, access)
              if standalone else []),
        ]  # fmt: skip

        resources: dict[str, Resource] = {}
        users: dict[str, list[str]] = defaultdict(list)  # dependency id -> ids of the VMs using it
        dependencies: dict[str, tuple[str, str]] = {}  # dependency id -> (kind, name), from its node
        dependency_state: dict[str, str] = {}
        for vm, graph in zip(workloads, graphs, strict=True):
            nodes = flat(graph)[1:]
            outputs = [self._output(n) for n in nodes]
            resources[vm.href] = {
                "id": vm.href,
                "type": resource_type(vm.kind.name, vm.kind.group),
                "name": vm.name,
                "resources": outputs,
                "connections": [],
                "provisioningState": self._vm_state(vm, outputs),
            }
            for n, out in zip(nodes, outputs, strict=True):
                kind = n["objectReference"]["kind"]
                if kind in SHARED_KINDS and vm.href not in users[out["id"]]:
                    users[out["id"]].append(vm.href)
                    dependencies[out["id"]] = (kind, out["name"])
                    dependency_state[out["id"]] = out["provisioningState"]

        for vm, targets in zip(workloads, services, strict=True):
            for target in targets:
                if target.obj is None:
                    continue
                service = self.engine.target_entity(vm, "services", target)
                if access is not None and not access.may_get(service.kind, service.namespace, service.name):
                    continue
                entry = resources.setdefault(service.href, {
                    "id": service.href, "type": resource_type("Service", ""), "name": service.name,
                    "resources": [], "connections": [], "provisioningState": "Succeeded",
                })  # fmt: skip
                entry["connections"].append({"id": vm.href, "direction": "Outbound"})
                resources[vm.href]["connections"].append({"id": service.href, "direction": "Inbound"})

        for dep_id, vm_ids in users.items():
            if len(vm_ids) < 2:
                continue
            kind, name = dependencies[dep_id]
            resources[dep_id] = {
                "id": dep_id, "type": resource_type(kind, self.catalog.kind(kind).group), "name": name,
                "resources": [], "connections": [{"id": v, "direction": "Inbound"} for v in vm_ids],
                "provisioningState": dependency_state[dep_id],
            }  # fmt: skip
            for v in vm_ids:
                resources[v]["connections"].append({"id": dep_id, "direction": "Outbound"})
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
