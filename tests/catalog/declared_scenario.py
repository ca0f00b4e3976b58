"""One made-up CRD (example.com/v1 Widget) and its declared links, with objects that exercise every resolver,
for the declared-link tests over manifests and over the real API server alike."""

from __future__ import annotations

from typing import Any

LINKS = """\
apiVersion: kubevirt-gateway.io/v1alpha1
kind: LinkCatalog
kinds:
- kind: Widget
  apiVersion: example.com/v1
  resource: widgets
  shortNames: [wdg]
links:
- from: Widget
  rel: vms
  to: VirtualMachine
  inverse: widgets
  name: .spec.vms[*].name
  namespace: .spec.vmNamespace
- from: Widget
  rel: peers
  to: VirtualMachine
  inverse: selectors
  selector: .spec.selector
- from: Widget
  rel: config
  to: ConfigMap
  inverse: widgets
  ref: .spec.config
- from: Widget
  rel: owner
  to: VirtualMachine
  owner: controller
"""

WIDGET_CRD = {"group": "example.com", "version": "v1", "kind": "Widget", "plural": "widgets", "shortNames": ["wdg"]}


def vm(namespace: str, name: str, tier: str) -> dict[str, Any]:
    return {
        "apiVersion": "kubevirt.io/v1", "kind": "VirtualMachine",
        "metadata": {"name": name, "namespace": namespace, "labels": {"tier": tier}},
        "spec": {"runStrategy": "Halted", "template": {"spec": {"domain": {"devices": {}}}}},
    }  # fmt: skip


def widget(namespace: str, name: str, spec: dict[str, Any], owner: dict[str, Any] | None = None) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name, "namespace": namespace}
    if owner is not None:
        meta["ownerReferences"] = [owner]
    return {"apiVersion": "example.com/v1", "kind": "Widget", "metadata": meta, "spec": spec}


def targets(home: str, away: str) -> list[dict[str, Any]]:
    """What the widgets name: VMs in both namespaces, a ConfigMap in the other."""
    return [
        vm(away, "alpha", "web"),
        vm(away, "beta", "db"),
        vm(home, "gamma", "web"),
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "settings", "namespace": away}, "data": {}},
    ]


def widgets(home: str, away: str, gamma_uid: str) -> list[dict[str, Any]]:
    """w1 uses every resolver (a name in another namespace, a selector, a reference, its owner); w2 a plain
    label map that matches nothing at home; w3 an empty selector, which selects nothing."""
    owner = {"apiVersion": "kubevirt.io/v1", "kind": "VirtualMachine", "name": "gamma", "uid": gamma_uid,
             "controller": True}  # fmt: skip
    return [
        widget(
            home,
            "w1",
            {
                "vms": [{"name": "alpha"}, {"name": "beta"}, {"name": "ghost"}],
                "vmNamespace": away,
                "selector": {"matchLabels": {"tier": "web"}},
                "config": {"name": "settings", "namespace": away},
            },
            owner,
        ),
        widget(home, "w2", {"vms": [{"name": "alpha"}], "vmNamespace": away, "selector": {"tier": "db"}}),
        widget(home, "w3", {"selector": {}}),
    ]


def names(items: list[dict[str, Any]]) -> list[str]:
    return [item.get("metadata", {}).get("name") or f"{item['name']} ({item['reason']})" for item in items]


def check_every_resolver(get: Any, home: str, away: str) -> None:
    """`get(path, follow)` -> the answer's JSON: each resolver, and each inverse, as the objects say."""
    w1 = get(f"/namespaces/{home}/widgets/w1", "vms,peers,config,owner")
    assert names(w1["vms"]) == ["alpha", "beta", "ghost (NotFound)"]  # named in `away`, one absent
    assert w1["vms"][0]["metadata"]["namespace"] == away
    assert names(w1["peers"]) == ["gamma"]  # the selector searches the widget's own namespace
    assert (w1["config"]["metadata"]["namespace"], w1["config"]["metadata"]["name"]) == (away, "settings")
    assert w1["owner"]["metadata"]["name"] == "gamma"
    assert w1["links"]["owner"] == {"href": f"/namespaces/{home}/vms/gamma", "kind": "VirtualMachine", "name": "gamma"}
    w2 = get(f"/namespaces/{home}/widgets/w2", "peers,owner")
    assert w2["peers"] == [] and "owner" not in w2 and "owner" not in w2["links"]
    assert get(f"/namespaces/{home}/widgets/w3", "peers")["peers"] == []
    # the inverses: sources found in every namespace (w1 and w2 live in `home`, name VMs in `away`)
    assert names(get(f"/namespaces/{away}/vms/alpha", "widgets")["widgets"]) == ["w1", "w2"]
    assert names(get(f"/namespaces/{away}/vms/beta", "widgets")["widgets"]) == ["w1"]
    assert names(get(f"/namespaces/{home}/vms/gamma", "widgets,selectors")["widgets"]) == ["w1"]  # its owner
    assert names(get(f"/namespaces/{home}/vms/gamma", "selectors")["selectors"]) == ["w1"]
    assert get(f"/namespaces/{away}/vms/alpha", "selectors")["selectors"] == []  # w1 selects at home only
    assert names(get(f"/namespaces/{away}/configmaps/settings", "widgets")["widgets"]) == ["w1"]
    # followed on: a declared link leads to built-in links and back
    deep = get(f"/namespaces/{away}/configmaps/settings", "widgets.vms.widgets")
    assert names(deep["widgets"][0]["vms"][0]["widgets"]) == ["w1", "w2"]
