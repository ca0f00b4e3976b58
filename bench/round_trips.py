"""One follow call against the per-object calls a script makes today, as API latency grows.

The script uses the official kubernetes client against the emulator, one request per object
of the VM page (as `kubectl get` in a loop would); the gateway answers the same page in one
call, from its watch cache or reading the API itself (--cache none). The emulator adds 0, 5
and 20 ms to every request it serves.

    .venv/bin/python bench/round_trips.py [--repeat 20]
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import requests
from common import UI_PAGE, emulator, gateway, milliseconds, serving, summary
from kubernetes import client, config

from gateway.catalog import CATALOG
from gateway.store.snapshot import demo_objects


def page_by_hand(api: client.ApiClient, ns: str, name: str) -> int:
    """The VM page the way a script gets it today: one request per object. Returns the call count."""
    custom, core, apps = client.CustomObjectsApi(api), client.CoreV1Api(api), client.AppsV1Api(api)
    calls = 0

    def call(fn: Any, *args: Any, **kwargs: Any) -> Any:
        nonlocal calls
        calls += 1
        return fn(*args, **kwargs)

    vm = call(custom.get_namespaced_custom_object, "kubevirt.io", "v1", ns, "virtualmachines", name)
    vmi = call(custom.get_namespaced_custom_object, "kubevirt.io", "v1", ns, "virtualmachineinstances", name)
    pods = call(core.list_namespaced_pod, ns, label_selector=f"kubevirt.io/created-by={vmi['metadata']['uid']}")
    call(core.read_node, vmi["status"]["nodeName"])
    assert pods.items
    spec = vm["spec"]["template"]["spec"]
    for volume in spec["volumes"]:
        claim = (volume.get("dataVolume") or {}).get("name") or (volume.get("persistentVolumeClaim") or {}).get(
            "claimName"
        )
        if claim:
            pvc = call(core.read_namespaced_persistent_volume_claim, claim, ns)
            call(core.read_persistent_volume, pvc.spec.volume_name)
        secret = ((volume.get("cloudInitNoCloud") or {}).get("secretRef") or {}).get("name")
        if secret:
            call(core.read_namespaced_secret, secret, ns)
    for which, plural in (
        ("instancetype", "virtualmachineclusterinstancetypes"),
        ("preference", "virtualmachineclusterpreferences"),
    ):
        call(custom.get_cluster_custom_object, "instancetype.kubevirt.io", "v1beta1", plural, vm["spec"][which]["name"])
        revision = vm["status"][f"{which}Ref"]["controllerRevisionRef"]["name"]
        call(apps.read_namespaced_controller_revision, revision, ns)
    for network in spec["networks"]:
        if "multus" in network:
            call(custom.get_namespaced_custom_object, "k8s.cni.cncf.io", "v1", ns, "network-attachment-definitions",
                 network["multus"]["networkName"])  # fmt: skip
    for credential in spec.get("accessCredentials", []):
        call(core.read_namespaced_secret, credential["sshPublicKey"]["source"]["secret"]["secretName"], ns)
    return calls


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    server = emulator(obj for _, obj in demo_objects(CATALOG))
    configuration = client.Configuration()
    config.load_kube_config(config_file=server.kubeconfig(Path("/tmp/bench-round-trips-kubeconfig")),
                            client_configuration=configuration)  # fmt: skip
    api = client.ApiClient(configuration)
    path, params = "/namespaces/demo/vms/fedora", {"follow": UI_PAGE}
    print(
        "| API latency | script: official client, one call per object | gateway, watch cache: 1 call | "
        "gateway, --cache none: 1 call | ratio (watch cache) | ratio (--cache none) |"
    )
    print("|---|---|---|---|---|---|")
    with serving(gateway(server)) as cached, serving(gateway(server, cache="none")) as direct:
        session = requests.Session()
        session.get(cached.url + path, params=params).raise_for_status()  # starts the watches
        session.get(direct.url + path, params=params).raise_for_status()  # discovery, once
        for latency in (0.0, 0.005, 0.020):
            server.cluster.faults.latency = latency
            calls = page_by_hand(api, "demo", "fedora")
            by_hand, _ = summary(milliseconds(lambda: page_by_hand(api, "demo", "fedora"), args.repeat))
            from_cache, _ = summary(milliseconds(lambda: session.get(cached.url + path, params=params), args.repeat))
            server.cluster.requests.clear()
            session.get(direct.url + path, params=params)
            api_calls = len(server.cluster.requests.entries)
            reading, _ = summary(milliseconds(lambda: session.get(direct.url + path, params=params), args.repeat))
            print(f"| {latency * 1000:.0f} ms | {calls} calls: {by_hand:.1f} ms | {from_cache:.1f} ms | "
                  f"{reading:.1f} ms ({api_calls} API calls) | **{by_hand / from_cache:.1f}x** | "
                  f"**{by_hand / reading:.1f}x** |", flush=True)  # fmt: skip
    server.stop()


if __name__ == "__main__":
    main()
