"""The graph page (/ui/graph) in Debian's chromium, driven by Playwright: what it draws, what a click opens,
how it follows the cluster, the token it asks for, a 1,000-VM namespace. Screenshots go to artifacts/."""

from __future__ import annotations

import json
import shutil
import threading
from collections.abc import Iterator
from itertools import combinations
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, Response, sync_playwright
from werkzeug.middleware.dispatcher import DispatcherMiddleware
from werkzeug.serving import make_server

from gateway.app import create_app
from gateway.catalog import CATALOG
from gateway.config import Config
from gateway.store.snapshot import SnapshotStore, demo_objects
from tests.support.emulated import FAST
from tests.support.emulator.cluster import Cluster
from tests.support.emulator.rbac import ADMIN, Rbac, Rule
from tests.support.emulator.server import EmulatorServer
from tests.support.gateway import Gateway, live_config, serving
from tests.support.synthetic import synthetic_cluster

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts"
BUNDLE = Path(__file__).resolve().parents[2] / "gateway" / "ui" / "graph.js"
FEDORA = "/namespaces/demo/vms/fedora"
WAIT_MS = 60_000  # a bound for a loaded machine, not a timing assertion
CATEGORY = {
    "kubevirt.io/VirtualMachine": "vm",
    "kubevirt.io/VirtualMachineInstance": "vmi",
    "core/Service": "service",
}

# the nodes as the page laid them out: id, classes, model bounding box, label
NODES = """() => window.graph.nodes().map((n) => ({
  id: n.id(), classes: n.classes(), label: n.data("label"), box: n.boundingBox({includeLabels: true}),
}))"""
EDGES = """() => window.graph.edges().map((e) => ({
  source: e.source().id(), target: e.target().id(), from: e.sourceEndpoint(), to: e.targetEndpoint(),
}))"""


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    assert CHROMIUM, "chromium is installed by `make tools` (Debian's chromium package)"
    assert BUNDLE.is_file(), "the page's script is built by `make ui`"
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=CHROMIUM, args=["--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu"]
        )
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1400, "height": 900})  # a session storage of its own
    opened = context.new_page()
    opened.set_default_timeout(WAIT_MS)
    errors: list[str] = []
    opened.on("pageerror", lambda error: errors.append(str(error)))
    yield opened
    context.close()
    assert not errors, errors


@pytest.fixture(scope="module")
def demo() -> Iterator[Gateway]:
    """The demo cluster; a stream the browser closed is noticed at the next heartbeat, so heartbeats are
    short here, where a test opens a page every few seconds."""
    config = Config(demo=True, heartbeat_seconds=0.5, max_subscribers_per_caller=16, extra={"TESTING": True})
    with serving(create_app(config)) as gateway:
        yield gateway


def drawn(page: Page, namespace: str, updates: int = 1) -> None:
    page.wait_for_function(
        "([ns, n]) => document.body.dataset.namespace === ns && document.body.dataset.state === 'ready'"
        " && Number(document.body.dataset.updates) >= n",
        arg=[namespace, updates],
    )


def overlaps(a: dict[str, float], b: dict[str, float]) -> bool:
    return a["x1"] < b["x2"] and b["x1"] < a["x2"] and a["y1"] < b["y2"] and b["y1"] < a["y2"]


def inside(point: tuple[float, float], box: dict[str, float]) -> bool:
    return box["x1"] < point[0] < box["x2"] and box["y1"] < point[1] < box["y2"]


def click_node(page: Page, node_id: str) -> None:
    """A real mouse click in the middle of the node as drawn (centred and zoomed to it first)."""
    spot = page.evaluate(
        """(id) => { const n = window.graph.getElementById(id); window.graph.zoom(1); window.graph.center(n);
           const box = window.graph.container().getBoundingClientRect(); const p = n.renderedPosition();
           return {x: box.left + p.x, y: box.top + p.y}; }""",
        node_id,
    )
    page.mouse.click(spot["x"], spot["y"])


@pytest.mark.parametrize("namespace", ["demo", "lab"])
def test_boxes_do_not_overlap_edges_cross_no_box_and_each_kind_has_its_style(
    page: Page, demo: Gateway, namespace: str
) -> None:
    page.goto(f"{demo.url}/ui/graph?namespace={namespace}")
    drawn(page, namespace)
    page.screenshot(path=ARTIFACTS / f"graph-{namespace}.png")
    graph = demo.json(f"/namespaces/{namespace}/graph")
    nodes = {n["id"]: n for n in page.evaluate(NODES)}

    assert set(nodes) == {r["id"] for r in graph["resources"]}
    for resource in graph["resources"]:
        classes = nodes[resource["id"]]["classes"]
        assert CATEGORY.get(resource["type"], "shared") in classes
        assert resource["provisioningState"].lower() in classes
        label = nodes[resource["id"]]["label"]
        assert label.startswith(resource["name"] + "\n")
        for output in resource["resources"]:
            missing = output["provisioningState"] == "Failed"
            line = f"{output['type'].split('/')[-1]} {output['name']}" + (" (missing)" if missing else "")
            assert line in label
    for a, b in combinations(nodes.values(), 2):
        assert not overlaps(a["box"], b["box"]), (a["id"], b["id"])

    edges = page.evaluate(EDGES)
    outbound = {
        (r["id"], c["id"]) for r in graph["resources"] for c in r["connections"] if c["direction"] == "Outbound"
    }
    assert {(e["source"], e["target"]) for e in edges} == outbound
    for edge in edges:  # straight segments between layers: no point of one lies inside a box it does not join
        for step in range(1, 50):
            t = step / 50
            point = (edge["from"]["x"] + t * (edge["to"]["x"] - edge["from"]["x"]),
                     edge["from"]["y"] + t * (edge["to"]["y"] - edge["from"]["y"]))  # fmt: skip
            crossed = [
                i for i, n in nodes.items() if i not in (edge["source"], edge["target"]) and inside(point, n["box"])
            ]
            assert not crossed, (edge, crossed)
    assert page.locator("#legend").is_visible()


def test_missing_and_garbage_collected_dependencies_are_shown_as_such(page: Page, demo: Gateway) -> None:
    page.goto(f"{demo.url}/ui/graph?namespace=demo")
    drawn(page, "demo")
    nodes = {n["id"]: n for n in page.evaluate(NODES)}
    resources = {r["id"]: r for r in demo.json("/namespaces/demo/graph")["resources"]}
    for vm in demo.json("/namespaces/demo/vms")["items"]:
        outputs = {(o["type"].split("/")[-1], o["name"]) for o in resources[vm["href"]]["resources"]}
        for template in vm["spec"].get("dataVolumeTemplates", []):
            name = template["metadata"]["name"]
            collected = ("DataVolume", name) not in outputs and ("PersistentVolumeClaim", name) in outputs
            node = nodes[vm["href"]]
            assert (f"DataVolume {name} (garbage-collected)" in node["label"]) == collected
            assert ("has-collected" in node["classes"]) == collected
    assert any("has-collected" in n["classes"] for n in nodes.values())  # the demo has one: rhel9's
    for id_, resource in resources.items():
        missing = any(o["provisioningState"] == "Failed" for o in resource["resources"])
        assert ("has-missing" in nodes[id_]["classes"]) == missing
    assert any("has-missing" in n["classes"] for n in nodes.values())  # cirros names an absent Secret

    # a missing dependency opens as what it is: the gateway's 404
    failed = next(r for r in resources.values() if any(o["provisioningState"] == "Failed" for o in r["resources"]))
    click_node(page, failed["id"])
    page.wait_for_function("document.getElementById('details').dataset.state === 'object'")
    absent = next(o for o in failed["resources"] if o["provisioningState"] == "Failed")
    page.locator("#details .outputs li.missing button", has_text=absent["name"]).click()
    page.wait_for_function("document.getElementById('details').dataset.state === 'error'")
    assert page.locator("#details .error").inner_text().startswith("missing: ")


def test_a_click_opens_the_object_and_each_link_follows(page: Page, demo: Gateway) -> None:
    page.goto(f"{demo.url}/ui/graph?namespace=demo")
    drawn(page, "demo")
    href = "/namespaces/demo/vms/fedora"
    click_node(page, href)
    page.wait_for_function("document.getElementById('details').dataset.state === 'object'")
    shown = json.loads(page.locator("#details pre.object").inner_text())
    expected = demo.json(href)
    assert shown == expected
    buttons = page.locator("#details .links button").all_inner_texts()
    assert buttons == list(expected["links"])

    page.locator("#details .links button[name=vmi]").click()
    page.wait_for_function("document.querySelector('#details h2').textContent.endsWith('follow=vmi')")
    page.wait_for_function("document.getElementById('details').dataset.state === 'object'")
    assert json.loads(page.locator("#details pre.object").inner_text()) == {"vmi": demo.json(href, follow="vmi")["vmi"]}


def test_plain_page_picks_the_first_namespace_with_vms_and_the_picker_switches(page: Page, demo: Gateway) -> None:
    names = [n["metadata"]["name"] for n in demo.json("/namespaces")["items"]]
    first = next(n for n in names if demo.get(f"/namespaces/{n}/graph").status_code == 200)
    page.goto(f"{demo.url}/ui/graph")
    drawn(page, first)
    assert page.locator("#namespace option").all_inner_texts() == names
    other = next(n for n in names if n != first and demo.get(f"/namespaces/{n}/graph").status_code == 200)
    page.select_option("#namespace", other)
    drawn(page, other)
    assert f"namespace={other}" in page.url
    assert {n["id"] for n in page.evaluate(NODES)} == {
        r["id"] for r in demo.json(f"/namespaces/{other}/graph")["resources"]
    }


def test_the_page_works_under_a_path_prefix(page: Page) -> None:
    app = create_app(Config(demo=True, heartbeat_seconds=0.5, extra={"TESTING": True}))
    mounted = DispatcherMiddleware(lambda _e, start: start("404 Not Found", []) or [b""], {"/prefix/gw": app})
    server = make_server("127.0.0.1", 0, mounted, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        requested: list[str] = []
        page.on("request", lambda r: requested.append(r.url))
        page.goto(f"http://127.0.0.1:{server.server_port}/prefix/gw/ui/graph?namespace=demo")
        drawn(page, "demo")
        click_node(page, "/namespaces/demo/vms/fedora")
        page.wait_for_function("document.getElementById('details').dataset.state === 'object'")
        assert requested and all("/prefix/gw/" in url for url in requested), requested
    finally:
        server.shutdown()


def test_the_page_works_under_the_aggregated_api_path(page: Page, demo: Gateway) -> None:
    """Under /apis/kubevirt-gateway.io/v1alpha1 the gateway's own hrefs carry the prefix (DESIGN section 13):
    the page still marks what CDI collected, opens and follows objects there, and never doubles the prefix."""
    prefix = "/apis/kubevirt-gateway.io/v1alpha1"
    answered: list[tuple[str, int]] = []

    def heard(response: Response) -> None:
        if response.request.resource_type != "other":  # not the browser's own favicon request
            answered.append((response.url, response.status))

    page.on("response", heard)
    page.goto(f"{demo.url}{prefix}/ui/graph?namespace=demo")
    drawn(page, "demo")
    collected = [n["id"] for n in page.evaluate(NODES) if "has-collected" in n["classes"]]
    plain = {r["id"] for r in demo.json("/namespaces/demo/graph")["resources"]}
    assert collected and set(collected) <= plain  # rhel9's DataVolume, as on the plain path
    click_node(page, FEDORA)
    page.wait_for_function("document.getElementById('details').dataset.state === 'object'")
    assert json.loads(page.locator("#details pre.object").inner_text()) == demo.json(prefix + FEDORA)
    page.locator("#details .links button[name=vmi]").click()
    page.wait_for_function("document.querySelector('#details h2').textContent.endsWith('follow=vmi')")
    page.wait_for_function("document.getElementById('details').dataset.state === 'object'")
    assert json.loads(page.locator("#details pre.object").inner_text())["vmi"]["href"] == prefix + FEDORA.replace(
        "/vms/", "/vmis/"
    )
    gateway = [(url, status) for url, status in answered if url.startswith(demo.url)]
    assert gateway and all(url.startswith(demo.url + prefix + "/") for url, _ in gateway), gateway
    assert not [url for url, _ in gateway if url.count(prefix) > 1]
    assert all(status == 200 for _, status in gateway), gateway


def test_event_stream_lines_end_at_cr_lf_and_crlf(page: Page, demo: Gateway) -> None:
    page.goto(f"{demo.url}/ui/graph?namespace=demo")
    drawn(page, "demo")
    events = page.evaluate(
        """(chunks) => { const got = []; const push = window.graphPage.eventParser((e, d) => got.push([e, d]));
           chunks.forEach(push); return got; }""",
        [': heartbeat\r\n\r\nevent: document\rdata: {"a":\r', "\n", "data: 1}\r\n\r", "\nevent: status\ndata:x\n\n"],
    )
    assert events == [["document", '{"a":\n1}'], ["status", "x"]]


# --- over the emulator, as under `--auth kubernetes` (the live default): tokens and live updates

ALICE = Rule(frozenset({"alice"}), namespaces=frozenset({"demo"}))
TOKENS = {"emulator-admin": ("admin", ()), "alice-token": ("alice", ())}


@pytest.fixture(scope="module")
def cluster() -> Cluster:
    cluster = Cluster(rbac=Rbac(tokens=dict(TOKENS), rules=[ADMIN, ALICE]))
    cluster.load(obj for _, obj in demo_objects(CATALOG))
    return cluster


@pytest.fixture(scope="module")
def guarded(cluster: Cluster, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    with EmulatorServer(cluster, settings=FAST).start() as emulator:
        kubeconfig = emulator.kubeconfig(tmp_path_factory.mktemp("kc") / "kc")
        app = create_app(
            live_config(kubeconfig, auth="kubernetes", heartbeat_seconds=0.5, max_subscribers_per_caller=16)
        )
        with serving(app) as served:
            yield served
        app.extensions["gateway"].close()


def sign_in(page: Page, token: str) -> None:
    page.wait_for_function("document.body.dataset.state === 'token'")
    assert page.locator("#token-form").is_visible()
    page.fill("#token", token)
    page.click("#token-form button[type=submit]")


def test_the_page_asks_for_a_token_and_keeps_it_for_the_session_only(page: Page, guarded: Gateway) -> None:
    page.goto(f"{guarded.url}/ui/graph?namespace=demo")
    sign_in(page, "not-a-token")
    sign_in(page, "alice-token")  # refused: asked again, the refused one forgotten
    drawn(page, "demo")
    assert page.locator("#token-form").is_hidden()
    stored = page.evaluate("[sessionStorage.getItem('kubevirt-gateway.token'), localStorage.length]")
    assert stored == ["alice-token", 0]
    page.screenshot(path=ARTIFACTS / "graph-signed-in.png")
    click_node(page, "/namespaces/demo/vms/fedora")  # the click's request carries the token too
    page.wait_for_function("document.getElementById('details').dataset.state === 'object'")
    page.reload()  # the same tab's session keeps it
    drawn(page, "demo")


def test_the_page_follows_a_change(page: Page, guarded: Gateway, cluster: Cluster) -> None:
    page.goto(f"{guarded.url}/ui/graph?namespace=demo")
    sign_in(page, "emulator-admin")
    drawn(page, "demo")
    before = {n["id"] for n in page.evaluate(NODES)}
    assert "/namespaces/demo/vms/win11" in before
    win11 = cluster.get(
        cluster.resource_of({"apiVersion": "kubevirt.io/v1", "kind": "VirtualMachine"}), "demo", "win11"
    )
    assert win11 is not None
    cluster.delete("VirtualMachine", "demo", "win11")
    try:
        page.wait_for_function("!window.graph.getElementById('/namespaces/demo/vms/win11').nonempty()")
        assert {n["id"] for n in page.evaluate(NODES)} == before - {"/namespaces/demo/vms/win11"}
    finally:
        cluster.apply(win11)
    page.wait_for_function("window.graph.getElementById('/namespaces/demo/vms/win11').nonempty()")


# --- scale


def test_a_thousand_vms_render_and_stay_interactive(page: Page) -> None:
    store = SnapshotStore.from_objects(CATALOG, synthetic_cluster(1000, "bench"), "synthetic")
    with serving(create_app(Config(extra={"TESTING": True}), store=store)) as gateway:
        page.goto(f"{gateway.url}/ui/graph?namespace=bench")
        drawn(page, "bench")
        page.screenshot(path=ARTIFACTS / "graph-1000-vms.png")
        vms = gateway.json("/namespaces/bench/vms", fields="metadata.name")["items"]
        assert page.evaluate("window.graph.nodes().filter((n) => n.hasClass('vm')).length") == len(vms) == 1000
        href = vms[len(vms) // 2]["href"]
        click_node(page, href)
        page.wait_for_function("document.getElementById('details').dataset.state === 'object'")
        assert json.loads(page.locator("#details pre.object").inner_text())["href"] == href
        page.screenshot(path=ARTIFACTS / "graph-1000-vms-open.png")
        page.click("#fit")
        assert page.evaluate("window.graph.zoom()") < 1
