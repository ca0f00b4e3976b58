// The application graph's document as Cytoscape elements: a box per resource (its dependencies listed
// inside it), an edge per Outbound connection. Pure: no DOM but a canvas to measure the labels.

const FONT_SIZE = 11;
const LINE_HEIGHT = 1.35;
const MAX_OUTPUTS = 14; // a box lists at most this many dependencies; the details panel has them all
const context = document.createElement("canvas").getContext("2d");
context.font = `${FONT_SIZE}px system-ui, sans-serif`;

export const kindOf = (type) => type.split("/").pop();

export function category(resource) {
  switch (resource.type) {
    case "kubevirt.io/VirtualMachine":
      return "vm";
    case "kubevirt.io/VirtualMachineInstance":
      return "vmi";
    case "core/Service":
      return "service";
    default:
      return "shared";
  }
}

// Names of the DataVolumes CDI garbage-collected, per VM href: a dataVolumeTemplate whose DataVolume is
// no output of the VM while its PVC is (the object graph puts the PVC in the DataVolume's place).
export function collectedDataVolumes(graph, vms) {
  const byHref = new Map(vms.map((vm) => [vm.href, vm]));
  const collected = new Map();
  for (const resource of graph.resources) {
    const vm = byHref.get(resource.id);
    const templates = (vm && vm.spec && vm.spec.dataVolumeTemplates) || [];
    const outputs = new Set(resource.resources.map((o) => `${kindOf(o.type)}/${o.name}`));
    const names = templates
      .map((t) => t.metadata && t.metadata.name)
      .filter((n) => n && !outputs.has(`DataVolume/${n}`) && outputs.has(`PersistentVolumeClaim/${n}`));
    if (names.length) collected.set(resource.id, names);
  }
  return collected;
}

export function outputLine(output) {
  const text = `${kindOf(output.type)} ${output.name}`;
  return output.provisioningState === "Failed" ? `✗ ${text} (missing)` : `  ${text}`;
}

function label(resource, collected) {
  const lines = [resource.name, `${kindOf(resource.type)} · ${resource.provisioningState}`];
  const outputs = resource.resources.map(outputLine);
  for (const name of collected) outputs.push(`♻ DataVolume ${name} (garbage-collected)`);
  if (outputs.length) lines.push("");
  lines.push(...outputs.slice(0, MAX_OUTPUTS));
  if (outputs.length > MAX_OUTPUTS) lines.push(`  … ${outputs.length - MAX_OUTPUTS} more`);
  return lines;
}

export function elements(graph, collected = new Map()) {
  const ids = new Set(graph.resources.map((r) => r.id));
  const out = [];
  for (const resource of graph.resources) {
    const gone = collected.get(resource.id) || [];
    const lines = label(resource, gone);
    const width = Math.max(...lines.map((l) => context.measureText(l).width)) + 24;
    const height = lines.length * FONT_SIZE * LINE_HEIGHT + 16;
    const classes = [category(resource), resource.provisioningState.toLowerCase()];
    if (resource.resources.some((o) => o.provisioningState === "Failed")) classes.push("has-missing");
    if (gone.length) classes.push("has-collected");
    out.push({
      group: "nodes",
      data: { id: resource.id, label: lines.join("\n"), width, height, resource, collected: gone },
      classes: classes.join(" "),
    });
  }
  for (const resource of graph.resources) {
    for (const connection of resource.connections) {
      if (connection.direction !== "Outbound" || !ids.has(connection.id)) continue;
      out.push({
        group: "edges",
        data: { id: `${resource.id} -> ${connection.id}`, source: resource.id, target: connection.id },
      });
    }
  }
  return out;
}

export const STYLE = [
  {
    selector: "node",
    style: {
      shape: "round-rectangle",
      width: "data(width)",
      height: "data(height)",
      label: "data(label)",
      "font-family": "system-ui, sans-serif",
      "font-size": FONT_SIZE,
      "line-height": LINE_HEIGHT,
      "text-wrap": "wrap",
      "text-justification": "left",
      "text-valign": "center",
      "text-halign": "center",
      "background-color": "#fff",
      "border-width": 2,
      "border-color": "#888",
      color: "#222",
      // boxes above edges: where many edges fan in (a thousand VMs on one network) they pass behind boxes
      "z-index-compare": "manual",
      "z-index": 10,
    },
  },
  { selector: "node.vm", style: { "background-color": "#eef4ff", "border-color": "#4a78c2" } },
  { selector: "node.vmi", style: { "background-color": "#f3ecff", "border-color": "#7a4ac2" } },
  { selector: "node.service", style: { "background-color": "#effaf0", "border-color": "#3a9a4a" } },
  { selector: "node.shared", style: { "background-color": "#fff7e6", "border-color": "#c28a2a" } },
  { selector: "node.failed", style: { "border-color": "#c00", "border-style": "dashed", color: "#700" } },
  { selector: "node.has-collected", style: { "border-style": "double", "border-width": 4 } },
  { selector: "node:selected", style: { "overlay-opacity": 0.12, "overlay-color": "#06c", "border-width": 3 } },
  {
    selector: "edge",
    style: {
      width: 1.5,
      "line-color": "#777",
      "target-arrow-color": "#777",
      "target-arrow-shape": "triangle",
      "curve-style": "bezier",
      "z-index-compare": "manual",
      "z-index": 1,
    },
  },
];
