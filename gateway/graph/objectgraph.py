"""KubeVirt's object graph (the `objectgraph` subresource), from the catalogue's graph steps.

A node is `{"objectReference": {apiGroup, kind, name, namespace}, "labels":
{"kubevirt.io/dependency-type": ...}, "optional"?: true, "children"?: [...]}`, in the order
and nesting KubeVirt uses. Beyond KubeVirt: a DataVolume that CDI garbage-collected is no
node (its PVC takes its place), and a named object that does not exist keeps its node with
the label `kubevirt-gateway.io/missing=true`.
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from gateway.catalog import Catalog, Entity, GraphStep, Kind, Link, Named, Selected, href_for
from gateway.catalog.names import visible
from gateway.catalog.selectors import LabelSelector
from gateway.follow.engine import FollowEngine
from gateway.follow.followers import Target
from gateway.follow.policy import Policy
from gateway.store import Store

DEPENDENCY = "kubevirt.io/dependency-type"
MISSING = "kubevirt-gateway.io/missing"
Node = dict[str, Any]


@dataclass(frozen=True, slots=True)
class _Run:
    """One build: the request's store view and what its caller may see."""

    store: Store
    access: Policy | None


@dataclass(frozen=True)
class GraphOptions:
    include_optional: bool = True
    selector: LabelSelector = field(default_factory=LabelSelector)


def node(kind: Kind, namespace: str | None, name: str, optional: bool = False, missing: bool = False) -> Node:
    labels = {DEPENDENCY: kind.dependency}
    if missing:
        labels[MISSING] = "true"
    result: Node = {
        # KubeVirt writes an empty namespace for cluster-scoped kinds, and "" as the core group
        "objectReference": {"apiGroup": kind.group, "kind": kind.name, "name": name, "namespace": namespace or ""},
        "labels": labels,
    }
    if optional:
        result["optional"] = True
    return result


class ObjectGraphBuilder:
    def __init__(self, engine: FollowEngine) -> None:
        self.engine = engine
        self.catalog: Catalog = engine.catalog

    def build(
        self,
        store: Store,
        roots: list[Entity],
        options: GraphOptions = GraphOptions(),
        access: Policy | None = None,
    ) -> list[Node]:
        """One graph per root (VMs or VMIs), resolved together: one read per kind per step.

        With `access`, a node the caller may not get is left out with its subtree.
        """
        graphs = []
        run = _Run(store, access)
        children = self._steps(run, roots, lambda e: self.catalog.graph(e.kind.name) or ())
        for root, kids in zip(roots, children, strict=True):
            graph = node(root.kind, root.namespace, root.name)
            kept = filtered(kids, options)
            if kept:
                graph["children"] = kept
            graphs.append(graph)
        return graphs

    def provide(self, store: Store, roots: list[Entity], access: Policy | None) -> list[Node]:
        """The `objectgraph` link's provider: the follow engine embeds what this returns."""
        return self.build(store, roots, access=access)

    def _steps(self, run: _Run, entities: list[Entity], steps_of: Any) -> list[list[Node]]:
        """The child nodes of each entity, step after step, in the order KubeVirt adds them."""
        out: list[list[Node]] = [[] for _ in entities]
        # grouped by the steps' identity: the catalogue gives each kind one tuple, and hashing its
        # steps (nested frozen dataclasses) for every entity of a 10,000-VM graph costs more
        by_steps: dict[int, list[int]] = defaultdict(list)
        of_id: dict[int, tuple[GraphStep, ...]] = {}
        for i, e in enumerate(entities):
            steps = steps_of(e)
            of_id.setdefault(id(steps), steps)
            by_steps[id(steps)].append(i)
        for key, indexes in by_steps.items():
            steps = of_id[key]
            members = [entities[i] for i in indexes]
            per_step = [self._step(run, members, step) for step in steps]
            for position, i in enumerate(indexes):
                for nodes in per_step:
                    out[i].extend(nodes[position])
        return out

    def _step(self, run: _Run, entities: list[Entity], step: GraphStep) -> list[list[Node]]:
        out: list[list[Node]] = [[] for _ in entities]
        current = [(i, e) for i, e in enumerate(entities) if not step.types or e.obj.get("type") in step.types]
        for rel in step.path[:-1]:  # through intermediate links, placeholders standing in for the missing
            current = [
                (i, t) for i, _, target, _ in self._resolve(run, current, rel, None) if (t := target) is not None
            ]
        rel = step.path[-1]
        if step.each:
            parts = [(i, t) for i, _, t, _ in self._resolve(run, current, rel, None) if t is not None]
            nested = self._steps(run, [p for _, p in parts], lambda _: step.each)
            for (i, _), nodes in zip(parts, nested, strict=True):
                out[i].extend(nodes)
            return out
        made: list[tuple[int, Node, Entity | None]] = []
        collected: list[tuple[int, Entity]] = []
        for i, parent, target, _ in self._resolve(run, current, rel, step):
            if target is None:
                continue  # a query that found nothing, or a node the caller may not see: no node
            if target.missing == "GarbageCollected":
                if step.instead_if_collected is not None:
                    collected.append((i, parent))
                continue
            made.append((i, self._node(step, parent, target), target if step.children else None))
        if step.children:
            with_children = [(n, t) for _, n, t in made if t is not None]
            nested = self._steps(run, [t for _, t in with_children], lambda _: step.children)
            for (n, _), kids in zip(with_children, nested, strict=True):
                if kids:
                    n["children"] = kids
        if collected and step.instead_if_collected is not None:
            stand_ins = self._step(run, [p for _, p in collected], step.instead_if_collected)
            for (i, _), nodes in zip(collected, stand_ins, strict=True):
                made.extend((i, n, None) for n in nodes)
        for i, n, _ in made:
            out[i].append(n)
        return out

    def _node(self, step: GraphStep, parent: Entity, target: Entity) -> Node:
        link = self.catalog.all_links(parent.kind.name)[step.path[-1]]
        return node(target.kind, target.namespace, target.name, link.optional, target.missing is not None)

    def _resolve(
        self, run: _Run, parents: list[tuple[int, Entity]], rel: str, step: GraphStep | None
    ) -> Iterator[tuple[int, Entity, Entity | None, Link]]:
        """(parent index, parent, target, link) for every target; a missing named target is a placeholder entity."""
        by_kind: dict[str, list[tuple[int, Entity]]] = defaultdict(list)
        for i, e in parents:
            if rel in self.catalog.all_links(e.kind.name):
                by_kind[e.kind.name].append((i, e))
        results: list[tuple[int, Entity, Entity | None, Link]] = []
        for kind, members in by_kind.items():
            link = self._link(kind, rel, step)
            resolved = self.engine.resolve(run.store, link, [e for _, e in members], run.access)
            found = [(i, parent, target, self._entity(parent, rel, link, target))
                     for (i, parent), targets in zip(members, resolved, strict=True) for target in targets]  # fmt: skip
            policy = run.access if step is not None else None  # nodes are made for a step's last rel only
            if policy is not None:
                policy.prefetch([(e.kind, e.namespace, e.name) for _, _, _, e in found if e is not None])
            for i, parent, target, entity in found:
                if policy is not None and entity is not None and not policy.knows(link, target, parent.namespace):
                    entity = None  # the caller may not see it: no node, nothing below it
                results.append((i, parent, entity, link))
        yield from sorted(results, key=lambda r: r[0])  # stable: each parent's targets keep their order

    def _link(self, kind: str, rel: str, step: GraphStep | None) -> Link:
        link = self.catalog.all_links(kind)[rel]
        if step is not None and step.pick is not None and isinstance(link.resolver, Selected):
            return dataclasses.replace(link, resolver=dataclasses.replace(link.resolver, pick=step.pick))
        return link

    def _entity(self, parent: Entity, rel: str, link: Link, target: Target) -> Entity | None:
        if target.obj is not None:
            return self.engine.target_entity(parent, rel, target)
        if target.ref is None or not isinstance(link.resolver, Named):
            return None  # found by a query, and nothing matched
        ref = target.ref  # named but absent: a placeholder, so KubeVirt's node (and any below it) still appear
        stand_in = {"metadata": {"name": ref.name, "namespace": ref.namespace}}
        return Entity(target.kind, stand_in, ref.namespace, href_for(target.kind, ref.namespace, ref.name),
                      parent, rel, missing=target.reason)  # fmt: skip


def filtered(nodes: list[Node], options: GraphOptions) -> list[Node]:
    """KubeVirt's filter: drop optional nodes if asked, and nodes the selector rejects, with their subtrees."""
    if options.include_optional and not options.selector:
        return nodes  # nothing to drop: the nodes were just made, and have children only where there are some
    kept = []
    for n in nodes:
        if n.get("optional") and not options.include_optional:
            continue
        if options.selector and not options.selector.matches(n["labels"]):
            continue
        copy = dict(n)
        children = filtered(n.get("children", []), options)
        if children:
            copy["children"] = children
        else:
            copy.pop("children", None)
        kept.append(copy)
    return kept


def flat(graph: Node) -> list[Node]:
    """Every node once, without nesting, in the order a depth-first walk meets them."""
    seen: set[tuple[str, str, str, str]] = set()
    items: list[Node] = []

    def walk(n: Node) -> None:
        ref = n["objectReference"]
        key = (ref["apiGroup"], ref["kind"], ref["namespace"], ref["name"])
        if key not in seen:
            seen.add(key)
            items.append({k: v for k, v in n.items() if k != "children"})
        for child in n.get("children", []):
            walk(child)

    walk(graph)
    return items


def to_dot(graph: Node) -> str:
    """An object graph as Graphviz: each node once, an edge from parent to child."""
    lines = ["digraph objectgraph {", "  rankdir=LR;", "  node [shape=box, fontname=Helvetica, fontsize=10];"]

    def key(node: Node) -> str:
        ref = node["objectReference"]
        return quoted(f"{ref['kind']}/{ref.get('namespace', '')}/{ref['name']}")

    def walk(node: Node) -> None:
        ref = node["objectReference"]
        style = ", style=dashed" if node.get("optional") else ""
        label = quoted(ref["kind"])[:-1] + "\\n" + quoted(ref["name"])[1:]
        lines.append(f"  {key(node)} [label={label}{style}];")
        for child in node.get("children", []):
            walk(child)
            lines.append(f"  {key(node)} -> {key(child)};")

    walk(graph)
    return "\n".join([*lines, "}"]) + "\n"


def quoted(text: str) -> str:
    """A DOT string: names come from the cluster, so quotes and backslashes are escaped, and control
    characters are shown as escapes (`visible`): a raw CR would end a line of an event stream."""
    return '"' + visible(text).replace("\\", "\\\\").replace('"', '\\"') + '"'
