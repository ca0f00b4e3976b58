// The graph page: the application graph of one namespace drawn with Cytoscape.js and a layered (dagre)
// layout, kept current from the graph's ?watch=true stream, each box opening its object and its links.

import cytoscape from "cytoscape";
import dagre from "cytoscape-dagre";

import { NeedsToken, getJson, message, path, request, token } from "./api.js";
import { STYLE, collectedDataVolumes, elements, kindOf, outputLine } from "./model.js";
import { eventParser } from "./sse.js";

cytoscape.use(dagre);

const $ = (id) => document.getElementById(id);
const params = new URLSearchParams(window.location.search);
const selector = params.get("labelSelector");
const picker = $("namespace");
const statusLine = $("status");
const details = $("details");
const tokenForm = $("token-form");
const body = document.body;

const cy = cytoscape({
  container: $("graph"),
  style: STYLE,
  minZoom: 0.02,
  maxZoom: 4,
  boxSelectionEnabled: false,
  autoungrabify: true,
});
// for the browser tests, and for anyone poking at the page from the console
window.graph = cy;
window.graphPage = { eventParser };

let watching = null; // the AbortController of the namespace's stream
let drawn = ""; // the last document drawn, to skip heartbeats' duplicates
let fitted = false;

function setStatus(text, kind = "") {
  statusLine.textContent = text;
  statusLine.className = kind;
}

function askForToken(reason) {
  token.clear(); // a token the gateway refused is not kept
  tokenForm.hidden = false;
  body.dataset.state = "token";
  setStatus(reason, "error");
  $("token").focus();
}

tokenForm.addEventListener("submit", (event) => {
  event.preventDefault();
  const value = $("token").value.trim();
  if (!value) return;
  token.set(value);
  $("token").value = "";
  tokenForm.hidden = true;
  start();
});

function failed(error) {
  if (error.name === "AbortError") return;
  if (error instanceof NeedsToken) return askForToken(error.message);
  body.dataset.state = "error";
  setStatus(error.message, "error");
}

const RANK_GAP = 110;
const WRAP = 40; // a layer of more boxes than this (a thousand VMs on one network) is wrapped into columns

// Connected boxes in layers (Services, then workloads, then what they share); boxes with no edge in a grid
// below them, each cell as large as the largest box, so that no two boxes overlap.
function layout() {
  const lone = cy.nodes().filter((n) => n.degree(false) === 0);
  const linked = cy.elements().not(lone);
  let left = 0;
  let top = 0;
  let width = 0;
  if (linked.nonempty()) {
    linked.layout({ name: "dagre", rankDir: "LR", nodeSep: 24, rankSep: RANK_GAP, edgeSep: 12, fit: false }).run();
    wrapLayers(linked.nodes());
    const box = linked.boundingBox();
    [left, top, width] = [box.x1, box.y2 + 60, box.w];
  }
  if (lone.nonempty()) grid(lone, left, top, width);
}

function grid(nodes, left, top, width) {
  const cellWidth = nodes.max((n) => n.outerWidth()).value + 30;
  const cellHeight = nodes.max((n) => n.outerHeight()).value + 30;
  const square = Math.ceil(Math.sqrt((nodes.length * cellHeight) / cellWidth));
  const columns = Math.max(1, Math.floor(width / cellWidth), square);
  nodes.forEach((node, i) => {
    node.position({
      x: left + (i % columns) * cellWidth + cellWidth / 2,
      y: top + Math.floor(i / columns) * cellHeight + cellHeight / 2,
    });
  });
}

// dagre puts a layer's boxes in one column (one x); a very long one becomes a grid of columns, in dagre's
// order, and the layers right of it move right to make room
function wrapLayers(nodes) {
  const layers = new Map();
  nodes.forEach((n) => {
    const x = Math.round(n.position("x"));
    if (!layers.has(x)) layers.set(x, []);
    layers.get(x).push(n);
  });
  let cursor = null;
  for (const [, layer] of [...layers.entries()].sort((a, b) => a[0] - b[0])) {
    const widest = Math.max(...layer.map((n) => n.outerWidth()));
    if (cursor === null) cursor = layer[0].position("x") - widest / 2;
    if (layer.length <= WRAP) {
      layer.forEach((n) => n.position("x", cursor + widest / 2));
      cursor += widest + RANK_GAP;
      continue;
    }
    layer.sort((a, b) => a.position("y") - b.position("y"));
    const middle = layer.reduce((sum, n) => sum + n.position("y"), 0) / layer.length;
    const cellWidth = widest + 30;
    const cellHeight = Math.max(...layer.map((n) => n.outerHeight())) + 16;
    const columns = Math.ceil(Math.sqrt((layer.length * cellHeight) / cellWidth));
    const rows = Math.ceil(layer.length / columns);
    layer.forEach((n, i) => {
      n.position({
        x: cursor + (i % columns) * cellWidth + cellWidth / 2,
        y: middle - (rows * cellHeight) / 2 + Math.floor(i / columns) * cellHeight + cellHeight / 2,
      });
    });
    cursor += columns * cellWidth + RANK_GAP;
  }
}

async function draw(graph, namespace) {
  let vms = [];
  if (graph.resources.some((r) => r.type === "kubevirt.io/VirtualMachine")) {
    // the VMs' dataVolumeTemplates tell which DataVolumes CDI garbage-collected
    const query = new URLSearchParams({ fields: "spec.dataVolumeTemplates" });
    if (selector) query.set("labelSelector", selector);
    const { items } = await getJson(`/namespaces/${encodeURIComponent(namespace)}/vms?${query}`);
    vms = items.map((vm) => ({ ...vm, href: path(vm.href) })); // the graph's ids are gateway paths
  }
  const next = elements(graph, collectedDataVolumes(graph, vms));
  const same =
    cy.elements().length === next.length && next.every((e) => cy.getElementById(e.data.id).nonempty());
  cy.batch(() => {
    if (same) {
      // the same boxes and edges: new labels and states in place, the layout and viewport kept
      for (const e of next) {
        const element = cy.getElementById(e.data.id);
        element.data(e.data);
        if (e.classes !== undefined) element.classes(e.classes);
      }
    } else {
      cy.elements().remove();
      cy.add(next);
    }
  });
  if (!same) layout();
  if (!fitted) {
    cy.fit(undefined, 30);
    fitted = true;
  }
  const updates = Number(body.dataset.updates || 0) + 1;
  body.dataset.updates = String(updates);
  body.dataset.state = "ready";
  setStatus(`${graph.resources.length} resources in namespace ${namespace}, live`, "live");
  const selected = details.dataset.href && cy.getElementById(details.dataset.href);
  if (selected && selected.nonempty()) showOutputs(selected.data());
}

// too many live streams for this caller at once (other tabs, or streams the gateway has not yet seen closed)
class Busy extends Error {}

async function watch(namespace, signal) {
  const query = new URLSearchParams({ watch: "true" });
  if (selector) query.set("labelSelector", selector);
  const response = await request(`/namespaces/${encodeURIComponent(namespace)}/graph?${query}`, {
    signal,
    accept: "text/event-stream",
  });
  if (response.status === 429) throw new Busy(await message(response));
  if (!response.ok) throw new Error(await message(response));
  let pending = Promise.resolve();
  const push = eventParser((event, data) => {
    if (data === drawn) return;
    drawn = data;
    const document = JSON.parse(data);
    // one document drawn at a time, in order; a later one waits for the one before it
    pending = pending
      .then(() => {
        if (signal.aborted) return;
        if (event === "status") {
          cy.elements().remove();
          body.dataset.state = "error";
          setStatus(document.message || "the graph is gone", "error");
          return;
        }
        return draw(document, namespace);
      })
      .catch(failed);
  });
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    push(value);
  }
  await pending;
}

async function show(namespace) {
  if (watching) watching.abort();
  const controller = new AbortController();
  watching = controller;
  drawn = "";
  fitted = false;
  cy.elements().remove();
  body.dataset.namespace = namespace;
  body.dataset.state = "loading";
  body.dataset.updates = "0";
  picker.value = namespace;
  params.set("namespace", namespace);
  window.history.replaceState(null, "", `?${params}`);
  setStatus(`loading namespace ${namespace}…`);
  // the stream ends when the gateway restarts or a proxy cuts it: open it again, until another namespace
  while (!controller.signal.aborted) {
    let why = "the live stream ended";
    try {
      await watch(namespace, controller.signal);
    } catch (error) {
      // a network error or a full gateway is worth another try; anything else is the answer
      if (!(error instanceof TypeError || error instanceof Busy)) return failed(error);
      why = error.message;
    }
    if (controller.signal.aborted) return;
    setStatus(`namespace ${namespace}: ${why}; trying again…`);
    await new Promise((resolve) => setTimeout(resolve, 2000));
  }
}

async function firstWithVms(names) {
  for (const name of names) {
    const response = await request(`/namespaces/${encodeURIComponent(name)}/graph`);
    if (response.ok) return name;
  }
  return names[0];
}

async function start() {
  try {
    body.dataset.state = "loading";
    const asked = params.get("namespace");
    let names = [];
    const listed = await request("/namespaces");
    if (listed.ok) names = (await listed.json()).items.map((n) => n.metadata.name);
    else if (!asked) throw new Error(`cannot list namespaces (${await message(listed)}): add ?namespace=`);
    if (asked && !names.includes(asked)) names.unshift(asked);
    picker.replaceChildren(...names.map((n) => new Option(n, n)));
    const namespace = asked || (await firstWithVms(names));
    if (!namespace) throw new Error("no namespace to draw");
    await show(namespace);
  } catch (error) {
    failed(error);
  }
}

picker.addEventListener("change", () => show(picker.value));
$("fit").addEventListener("click", () => cy.fit(undefined, 30));
$("zoom-in").addEventListener("click", () => cy.zoom({ level: cy.zoom() * 1.4, renderedPosition: center() }));
$("zoom-out").addEventListener("click", () => cy.zoom({ level: cy.zoom() / 1.4, renderedPosition: center() }));
const center = () => ({ x: cy.width() / 2, y: cy.height() / 2 });

// --- the details panel: a box's object, its links, each followed on demand

function element(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  Object.assign(node, attributes);
  node.append(...children);
  return node;
}

function button(text, onClick, attributes = {}) {
  const node = element("button", { type: "button", ...attributes }, text);
  node.addEventListener("click", onClick);
  return node;
}

function showOutputs(data) {
  const old = details.querySelector(".outputs");
  if (old) old.remove();
  const resource = data.resource;
  if (!resource.resources.length && !data.collected.length) return;
  const items = resource.resources.map((o) => {
    const missing = o.provisioningState === "Failed";
    return element(
      "li",
      { className: missing ? "missing" : "" },
      button(outputLine(o).trim(), () => open(o.id), { title: o.id }),
    );
  });
  for (const name of data.collected) {
    items.push(element("li", { className: "collected" }, `♻ DataVolume ${name}: garbage-collected by CDI`));
  }
  details.append(element("section", { className: "outputs" }, element("h3", {}, "Depends on"), element("ul", {}, ...items)));
}

async function open(href, rel) {
  details.dataset.href = href;
  details.dataset.state = "loading";
  const title = element("h2", {}, rel ? `${href} · follow=${rel}` : href);
  details.replaceChildren(title, element("p", { className: "hint" }, "loading…"));
  const node = cy.getElementById(href);
  try {
    const response = await request(rel ? `${href}?${new URLSearchParams({ follow: rel })}` : href);
    if (details.dataset.href !== href) return; // another box was clicked meanwhile
    const answer = await response.json().catch(() => null);
    const parts = [title];
    if (!response.ok) {
      const why = (answer && answer.message) || `${response.status} ${response.statusText}`;
      parts.push(element("p", { className: "error" }, response.status === 404 ? `missing: ${why}` : why));
    } else {
      const links = Object.keys((answer && answer.links) || {});
      const kind = answer.kind ? `${answer.kind} ` : "";
      parts.push(element("p", {}, `${kind}${(answer.metadata && answer.metadata.name) || ""}`));
      if (rel) parts.push(button("back to the object", () => open(href)));
      if (links.length) {
        parts.push(element("h3", {}, "Links"));
        parts.push(
          element("div", { className: "links" }, ...links.map((l) => button(l, () => open(href, l), { name: l }))),
        );
      }
      const shown = rel ? { [rel]: answer[rel] } : answer;
      parts.push(element("pre", { className: "object" }, JSON.stringify(shown, null, 2)));
    }
    details.replaceChildren(...parts);
    if (node.nonempty()) showOutputs(node.data());
    details.dataset.state = response.ok ? "object" : "error";
  } catch (error) {
    if (error instanceof NeedsToken) return askForToken(error.message);
    details.replaceChildren(title, element("p", { className: "error" }, error.message));
    details.dataset.state = "error";
  }
}

cy.on("tap", "node", (event) => open(event.target.id()));

start();
