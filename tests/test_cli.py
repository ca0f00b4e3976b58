"""The command line and the WSGI entry point, run as a user runs them: as processes."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from gateway.app import create_app
from gateway.config import Config, ConfigError, from_env
from tests.support.apiserver import KubeApiServer
from tests.support.gateway import Gateway, serving
from tests.support.objects import vm
from tests.support.processes import ROOT, running
from tests.support.waiting import eventually, free_port


def test_serve_demo_answers_the_cards_example() -> None:
    port = free_port()
    command = [sys.executable, "-m", "gateway", "serve", "--demo", "--port", str(port)]
    with running(command, port) as url:
        response = requests.get(
            url + "/vms/fedora",
            params={"namespace": "demo", "follow": "volumes.pvc,instancetype.revision"},
            timeout=10,
        )
        assert response.status_code == 200
        doc = response.json()
        assert doc["volumes"][0]["pvc"]["metadata"]["name"] == "fedora-root"
        assert doc["instancetype"]["revision"]["kind"] == "ControllerRevision"
        assert requests.get(url + "/healthz", timeout=5).json() == {"status": "ok"}


def test_wsgi_app_under_gunicorn_reads_its_config_from_the_environment(tmp_path: Path) -> None:
    (tmp_path / "vm.yaml").write_text("apiVersion: kubevirt.io/v1\nkind: VirtualMachine\nmetadata: {name: solo}\n")
    port = free_port()
    gunicorn = str(Path(sys.executable).parent / "gunicorn")
    command = [gunicorn, "-c", "gunicorn.conf.py", "--bind", f"127.0.0.1:{port}", "wsgi:app"]
    env = {"KUBEVIRT_GATEWAY_MANIFESTS": str(tmp_path), "KUBEVIRT_GATEWAY_DEFAULT_NAMESPACE": "lab"}
    with running(command, port, env) as url:
        doc = requests.get(url + "/vms/solo", timeout=10).json()
        assert doc["metadata"]["namespace"] == "lab"
        assert doc["href"] == "/namespaces/lab/vms/solo"


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "gateway", *args], cwd=ROOT, capture_output=True, text=True, timeout=60
    )


def test_bad_manifests_stop_the_gateway_before_it_serves(tmp_path: Path) -> None:
    (tmp_path / "broken.yaml").write_text("apiVersion: v1\nkind: Pod\nmetadata:\n  name: [oops\n")
    result = run_cli("serve", "--manifests", str(tmp_path), "--port", str(free_port()))
    assert result.returncode == 2
    assert "kubevirt-gateway: error:" in result.stderr
    assert "broken.yaml:5: invalid YAML" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--demo", "--kube"], "choose one source"),
        (["--cache", "sometimes"], "--cache must be watch or none"),
        (["--auth", "kubernetes"], "--auth kubernetes needs a live cluster"),
        (["--max-embedded", "0"], "--max-embedded must be at least 1"),
    ],
)
def test_bad_flags_are_explained(args: list[str], message: str) -> None:
    result = run_cli("serve", *args)
    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_help_lists_every_flag() -> None:
    result = run_cli("serve", "--help")
    assert result.returncode == 0
    for flag in (
        "--demo",
        "--manifests",
        "--kube",
        "--kubeconfig",
        "--context",
        "--host",
        "--port",
        "--cache",
        "--auth",
        "--default-namespace",
        "--max-follow-depth",
        "--max-embedded",
        "--no-optimize",
    ):
        assert flag in result.stdout


def test_environment_variables_mirror_the_flags() -> None:
    config = from_env(
        {
            "KUBEVIRT_GATEWAY_MANIFESTS": f"a{os.pathsep}b",
            "KUBEVIRT_GATEWAY_PORT": "9000",
            "KUBEVIRT_GATEWAY_OPTIMIZE": "false",
        }
    )
    assert (config.manifests, config.port, config.optimize) == (("a", "b"), 9000, False)
    with pytest.raises(ConfigError, match="KUBEVIRT_GATEWAY_PORT must be a number"):
        from_env({"KUBEVIRT_GATEWAY_PORT": "eighty"})


def test_serve_kube_under_gunicorn_watches_the_cluster(apiserver: KubeApiServer, tmp_path: Path) -> None:
    # gunicorn forks its worker after the app is built: the watch cache must start in the worker
    api, ns = apiserver.api, apiserver.api.namespace("cli")
    port = free_port()
    command = [sys.executable, "-m", "gateway", "serve", "--kube", "--auth", "none",
               "--kubeconfig", apiserver.kubeconfig(tmp_path / "kubeconfig"), "--port", str(port)]  # fmt: skip
    with running(command, port) as url:
        doc = requests.get(url + "/namespaces/demo/vms/fedora", params={"follow": "vmi.pod"}, timeout=10).json()
        assert doc["vmi"]["pod"]["metadata"]["name"] == "virt-launcher-fedora-h7l2d"
        created = api.create(halted_vm("cirros", ns))
        eventually(lambda: requests.get(f"{url}/namespaces/{ns}/vms/cirros", timeout=5).status_code == 200)
        api.delete(created)
        eventually(lambda: requests.get(f"{url}/namespaces/{ns}/vms/cirros", timeout=5).status_code == 404)


def test_kube_without_a_kubeconfig_says_where_it_looked(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "gateway", "serve", "--kube"],
        cwd=ROOT, capture_output=True, text=True, timeout=60,
        env={**os.environ, "KUBECONFIG": str(tmp_path / "absent"), "HOME": str(tmp_path)},
    )  # fmt: skip
    assert result.returncode == 2
    assert "no kubeconfig" in result.stderr and "not in a cluster" in result.stderr
    assert "Traceback" not in result.stderr


def test_graph_command_draws_a_tree_like_kubectl_tree(demo: Gateway) -> None:
    result = run_cli("graph", "vm", "fedora", "-n", "demo", "--gateway", demo.url)
    assert result.returncode == 0, result.stderr
    header, *rows = result.stdout.splitlines()
    assert header.split() == ["NAMESPACE", "NAME", "DEPENDENCY"]
    assert rows[0].split() == ["demo", "VirtualMachine/fedora", "compute"]
    assert rows[1].split() == ["demo", "├─VirtualMachineInstance/fedora", "compute"]
    assert rows[3].split() == ["├─VirtualMachineClusterInstancetype/u1.medium", "config", "optional"]  # cluster: no ns
    assert "│ └─Pod/virt-launcher-fedora-9xq4z" in result.stdout
    assert "└─NetworkAttachmentDefinition/vlan10" in result.stdout
    assert "network optional" in result.stdout


def test_graph_command_json_dot_and_options(demo: Gateway) -> None:
    as_json = run_cli("graph", "vm", "fedora", "-n", "demo", "--gateway", demo.url, "-o", "json")
    assert json.loads(as_json.stdout) == demo.json("/namespaces/demo/vms/fedora/objectgraph")
    dot = run_cli("graph", "vmi", "fedora", "-n", "demo", "--gateway", demo.url, "-o", "dot").stdout
    assert dot.startswith("digraph objectgraph {")
    assert '"VirtualMachineInstance/demo/fedora" -> "Pod/demo/virt-launcher-fedora-9xq4z";' in dot
    storage = run_cli("graph", "vm", "fedora", "-n", "demo", "--gateway", demo.url, "-l",
                      "kubevirt.io/dependency-type=storage").stdout  # fmt: skip
    assert "DataVolume/fedora-root" in storage and "Secret" not in storage
    missing = run_cli("graph", "vm", "cirros", "-n", "demo", "--gateway", demo.url, "--no-optional").stdout
    assert "Secret/app-credentials" in missing and "MISSING" in missing and "optional" not in missing


def test_graph_command_explains_errors(demo: Gateway) -> None:
    not_found = run_cli("graph", "vm", "nope", "-n", "demo", "--gateway", demo.url)
    assert not_found.returncode == 1
    assert '404 virtualmachines "nope" not found' in not_found.stderr
    unreachable = run_cli("graph", "vm", "fedora", "--gateway", f"http://127.0.0.1:{free_port()}")
    assert unreachable.returncode == 1 and "cannot reach the gateway" in unreachable.stderr
    assert "Traceback" not in not_found.stderr + unreachable.stderr


def count_304s(gateway: Gateway) -> float:
    total = 0.0
    for line in gateway.get("/metrics").text.splitlines():
        if line.startswith("gateway_request_seconds_count{") and 'code="304"' in line:
            total += float(line.rsplit(" ", 1)[1])
    return total


def test_get_revalidates_with_etags_through_requests_cache(demo: Gateway, tmp_path: Path) -> None:
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path)}
    command = [sys.executable, "-m", "gateway", "get", "vm", "fedora", "-n", "demo", "-f", "vmi.pod", "-o", "json",
               "--gateway", demo.url]  # fmt: skip
    before = count_304s(demo)
    first = subprocess.run(command, capture_output=True, text=True, env=env, timeout=60, cwd=ROOT)
    second = subprocess.run(command, capture_output=True, text=True, env=env, timeout=60, cwd=ROOT)
    assert first.returncode == second.returncode == 0, first.stderr + second.stderr
    assert (
        json.loads(first.stdout)
        == json.loads(second.stdout)
        == demo.json("/namespaces/demo/vms/fedora", follow="vmi.pod")
    )
    assert count_304s(demo) == before + 1  # the second run sent If-None-Match and got no body back


def test_get_prints_yaml_and_trees(demo: Gateway) -> None:
    import yaml

    as_yaml = run_cli("get", "pvc", "fedora-root", "-n", "demo", "-f", "pv", "--gateway", demo.url)
    assert yaml.safe_load(as_yaml.stdout)["pv"]["kind"] == "PersistentVolume"
    tree = run_cli("get", "vm", "cirros", "-n", "demo", "-f", "volumes.secret", "-o", "tree", "--gateway", demo.url)
    assert tree.stdout.splitlines() == [
        "VirtualMachine demo/cirros",
        "├─volumes: Volume containerdisk",
        "├─volumes: Volume cloudinitdisk",
        "└─volumes: Volume credentials",
        "  └─secret: Secret demo/app-credentials (NotFound)",
    ]
    listing = run_cli("get", "vms", "-n", "demo", "-l", "app=win11", "-o", "tree", "--gateway", demo.url)
    assert listing.stdout.splitlines() == ["VirtualMachine demo/win11"]
    bad = run_cli("get", "vm", "fedora", "-n", "demo", "-f", "nope", "--gateway", demo.url)
    assert bad.returncode == 1 and "unknown rel 'nope'" in bad.stderr


def test_get_watch_prints_each_update(apiserver: KubeApiServer, tmp_path: Path) -> None:
    api, ns = apiserver.api, apiserver.api.namespace("cli")
    vm = api.create(halted_vm("win11", ns))
    port = free_port()
    serve = [sys.executable, "-m", "gateway", "serve", "--kube", "--auth", "none", "--port", str(port),
             "--kubeconfig", apiserver.kubeconfig(tmp_path / "kc")]  # fmt: skip
    with running(serve, port) as url:
        watch = [sys.executable, "-m", "gateway", "get", "vm", "win11", "-n", ns, "-o", "tree", "--watch",
                 "--gateway", url]  # fmt: skip
        with subprocess.Popen(watch, stdout=subprocess.PIPE, text=True, cwd=ROOT) as process:
            assert process.stdout is not None
            assert process.stdout.readline() == f"VirtualMachine {ns}/win11\n"
            api.patch(vm, {"metadata": {"labels": {"changed": "yes"}}})
            assert process.stdout.readline() == f"VirtualMachine {ns}/win11\n"  # printed again
            process.terminate()


def test_a_port_in_use_is_one_line_and_exit_1() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = run_cli("serve", "--demo", "--port", str(port))
    assert result.returncode == 1
    last = result.stderr.strip().splitlines()[-1]
    assert last == f"kubevirt-gateway: error: 127.0.0.1:{port}: address already in use"
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("words", "path"),
    [
        (["vm", "fedora", "-n", "demo"], "/namespaces/demo/vms/fedora"),
        (["virtualmachines", "fedora", "-n", "demo"], "/namespaces/demo/vms/fedora"),
        (["dv", "fedora-root", "-n", "demo"], "/namespaces/demo/datavolumes/fedora-root"),
        (["datavolume", "fedora-root", "-n", "demo"], "/namespaces/demo/datavolumes/fedora-root"),
        (["ds", "fedora", "-n", "kubevirt-os-images"], "/namespaces/kubevirt-os-images/datasources/fedora"),
        (["vmsnapshot", "fedora-snap-1", "-n", "demo"], "/namespaces/demo/vmsnapshots/fedora-snap-1"),
        (["vmcf", "u1.medium", "-n", "demo"], "/clusterinstancetypes/u1.medium"),  # -n means nothing here
        (["vmpool", "web", "-n", "lab"], "/namespaces/lab/pools/web"),
    ],
)
def test_get_takes_kubectls_names_from_the_catalogue(demo: Gateway, words: list[str], path: str) -> None:
    result = run_cli("get", *words, "-o", "json", "--gateway", demo.url)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["href"] == path


def test_get_explains_an_unknown_kind(demo: Gateway) -> None:
    result = run_cli("get", "virtualmachinez", "--gateway", demo.url)
    assert result.returncode == 1 and "unknown kind 'virtualmachinez'" in result.stderr


def halted_vm(name: str, namespace: str) -> dict[str, Any]:
    return {
        "apiVersion": "kubevirt.io/v1",
        "kind": "VirtualMachine",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {"runStrategy": "Halted", "template": {"spec": {"domain": {"devices": {}}}}},
    }


# what a tenant can put in an annotation or a reference name: a window title, a screen clear, a CR
# that rewrites the line, a line separator (str.splitlines splits there), NEL, CSI, a bidi override
HOSTILE = "\x1b]0;owned\x07\x1b[2J\rfake line\u2028\x85\x9b1m\u202eevil"
SHOWN = r"\x1b]0;owned\x07\x1b[2J\rfake line\u2028\x85\x9b1m\u202eevil"
RAW = re.compile(r"[\x00-\x09\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")  # all but LF


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    obj = vm("hostile", "ns", note=HOSTILE)
    obj["metadata"]["annotations"] = {HOSTILE: HOSTILE, "plain": "unicode stays: é, ✓"}
    obj["spec"]["template"]["spec"]["volumes"][0]["persistentVolumeClaim"]["claimName"] = HOSTILE
    path = tmp_path_factory.mktemp("hostile") / "vm.json"
    path.write_text(json.dumps(obj))
    with serving(create_app(Config(manifests=(str(path),), extra={"TESTING": True}))) as gateway:
        yield gateway


def output_of(*args: str) -> str:
    """What the CLI wrote, decoded as a terminal would get it (text=True would turn a CR into a LF)."""
    result = subprocess.run([sys.executable, "-m", "gateway", *args], cwd=ROOT, capture_output=True, timeout=60,
                            env={**os.environ, "PYTHONIOENCODING": "utf-8"})  # fmt: skip
    assert result.returncode == 0, result.stderr
    return result.stdout.decode()


@pytest.mark.parametrize(
    ("args", "shown"),
    [
        (["get", "vm", "hostile", "-n", "ns", "-f", "volumes.pvc", "-o", "tree"], SHOWN),
        (["graph", "vm", "hostile", "-n", "ns"], SHOWN),
        (["graph", "vm", "hostile", "-n", "ns", "-o", "dot"], SHOWN.replace("\\", "\\\\")),  # DOT's \\ is one \
    ],
    ids=["get-tree", "graph-tree", "graph-dot"],
)
def test_trees_and_dot_show_control_characters_as_escapes(hostile: Gateway, args: list[str], shown: str) -> None:
    out = output_of(*args, "--gateway", hostile.url)
    assert RAW.findall(out) == []
    assert shown in out


@pytest.mark.parametrize("output", ["yaml", "json"])
def test_yaml_and_json_escape_control_characters_and_keep_the_document(hostile: Gateway, output: str) -> None:
    import yaml

    out = output_of("get", "vm", "hostile", "-n", "ns", "-o", output, "--gateway", hostile.url)
    assert RAW.findall(out) == []
    assert yaml.safe_load(out) == hostile.json("/namespaces/ns/vms/hostile")
    assert output == "json" or "unicode stays: é, ✓" in out  # only strings with control characters are escaped
    graph = output_of("graph", "vm", "hostile", "-n", "ns", "-o", "json", "--gateway", hostile.url)
    assert RAW.findall(graph) == [] and json.loads(graph) == hostile.json("/namespaces/ns/vms/hostile/objectgraph")


def test_get_watch_prints_a_document_holding_line_separators(hostile: Gateway) -> None:
    watch = [sys.executable, "-m", "gateway", "get", "vm", "hostile", "-n", "ns", "-o", "json", "--watch",
             "--gateway", hostile.url]  # fmt: skip
    lines = []
    with subprocess.Popen(watch, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, cwd=ROOT) as process:
        assert process.stdout is not None
        while (line := process.stdout.readline()) and line != b"}\n":  # the document's last line, or its end
            lines.append(line)
        process.terminate()
    assert line == b"}\n"
    assert json.loads(b"".join([*lines, line])) == hostile.json("/namespaces/ns/vms/hostile")
