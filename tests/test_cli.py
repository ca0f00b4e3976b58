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
        (["--links-namespace", "links"], "--links-namespace needs a live cluster (--kube)"),
        (["--kube", "--links-namespace", "Links_NS"], "--links-namespace 'Links_NS' is not a namespace name"),
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

    as_yaml = run_cli("get", "pvc", "fedora-root", "-n", "demo", "-f", "pv", "-o", "yaml", "--gateway", demo.url)
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
        # the default output, a table: its header once, then a row each time (kubectl get -w)
        table = [sys.executable, "-m", "gateway", "get", "--watch", "vm", "win11", "-n", ns, "--gateway", url]
        with (subprocess.Popen(watch, stdout=subprocess.PIPE, text=True, cwd=ROOT) as process,
              subprocess.Popen(table, stdout=subprocess.PIPE, text=True, cwd=ROOT) as rows):  # fmt: skip
            assert process.stdout is not None and rows.stdout is not None
            assert process.stdout.readline() == f"VirtualMachine {ns}/win11\n"
            assert rows.stdout.readline().split() == ["NAME", "AGE", "STATUS", "READY"]
            assert rows.stdout.readline().split()[0] == "win11"
            api.patch(vm, {"metadata": {"labels": {"changed": "yes"}}})
            assert process.stdout.readline() == f"VirtualMachine {ns}/win11\n"  # printed again
            assert rows.stdout.readline().split()[0] == "win11"  # a row again, no header
            process.terminate()
            rows.terminate()


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


def test_get_explains_an_unknown_kind_and_suggests_the_closest(demo: Gateway) -> None:
    result = run_cli("get", "virtualmachinez", "--gateway", demo.url)
    assert result.returncode == 1 and "unknown kind 'virtualmachinez'; did you mean 'virtualmachine'" in result.stderr
    typo = run_cli("get", "dvv", "fedora-root", "-n", "demo", "--gateway", demo.url)
    assert typo.returncode == 1 and "did you mean 'dv'?" in typo.stderr
    nothing_close = run_cli("get", "zzzz", "--gateway", demo.url)
    assert nothing_close.returncode == 1 and "did you mean" not in nothing_close.stderr
    assert "Traceback" not in result.stderr + typo.stderr + nothing_close.stderr


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


# --- `get` with kubectl's habits


def kubectl_env(tmp_path: Path, namespace: str | None = None, **extra: str) -> dict[str, str]:
    """An environment whose kubeconfig (as kubectl finds it) is one the test wrote, or none at all."""
    env = {**os.environ, "HOME": str(tmp_path), "KUBECONFIG": str(tmp_path / "absent"), **extra}
    if namespace is not None:
        config = tmp_path / "kubeconfig"
        config.write_text(json.dumps(kubeconfig_with("work", {"work": namespace, "other": "lab"})))
        env["KUBECONFIG"] = str(config)
    return env


def kubeconfig_with(current: str, namespaces: dict[str, str]) -> dict[str, Any]:
    """A kubeconfig as `kubectl config view` writes one: contexts with their namespaces."""
    return {
        "apiVersion": "v1",
        "kind": "Config",
        "current-context": current,
        "clusters": [{"name": "c", "cluster": {"server": "https://127.0.0.1:6443"}}],
        "users": [{"name": "u", "user": {"token": "t"}}],
        "contexts": [
            {"name": n, "context": {"cluster": "c", "user": "u", "namespace": ns}} for n, ns in namespaces.items()
        ],
    }


def get(gateway: Gateway, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "gateway", "get", *args, "--gateway", gateway.url]
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=60, env=env)


def table_of(output: str) -> list[list[str]]:
    """A table's lines, cut into cells (kubectl leaves at least three spaces between columns)."""
    return [re.split(r" {2,}", line.strip()) for line in output.splitlines() if line.strip()]


def vm_row(vm: dict[str, Any]) -> list[str]:
    """NAME and the VM CRD's STATUS and READY columns (AGE depends on today) of a VM as the gateway serves it."""
    ready = [c["status"] for c in vm["status"].get("conditions", []) if c["type"] == "Ready"]
    return [vm["metadata"]["name"], vm["status"].get("printableStatus", "<none>"), (ready or ["<none>"])[0]]


def test_get_takes_flags_before_between_and_after_the_words(demo: Gateway, tmp_path: Path) -> None:
    env = kubectl_env(tmp_path)
    for words in (
        ["vm", "-n", "demo", "fedora", "-o", "json"],
        ["-n", "demo", "-o", "json", "vm", "fedora"],
        ["vm", "-ojson", "fedora", "--namespace=demo"],
    ):
        result = get(demo, *words, env=env)
        assert result.returncode == 0, (words, result.stderr)
        assert json.loads(result.stdout)["href"] == "/namespaces/demo/vms/fedora"
    graph = run_cli("graph", "vm", "-n", "demo", "fedora", "--gateway", demo.url)
    assert graph.returncode == 0 and "VirtualMachine/fedora" in graph.stdout


def test_get_prints_the_kinds_printer_columns_as_a_table(demo: Gateway) -> None:
    result = get(demo, "vm", "fedora", "-n", "demo")
    assert result.returncode == 0, result.stderr
    header, row = table_of(result.stdout)
    assert header == ["NAME", "AGE", "STATUS", "READY"]  # KubeVirt's CRD: Age, Status, Ready
    fedora = demo.json("/namespaces/demo/vms/fedora")
    assert [row[0], *row[2:]] == vm_row(fedora)
    assert re.fullmatch(r"\d+[smhdy](\d+[smhd])?", row[1])  # an age, as kubectl writes one
    vmis = table_of(get(demo, "vmi", "-n", "demo").stdout)
    assert vmis[0] == ["NAME", "AGE", "PHASE", "IP", "NODENAME", "READY"]
    served = demo.json("/namespaces/demo/vmis")["items"]
    assert [(r[0], r[2], r[4]) for r in vmis[1:]] == [
        (v["metadata"]["name"], v["status"]["phase"], v["status"]["nodeName"]) for v in served
    ]
    dvs = table_of(get(demo, "dv", "-n", "demo").stdout)
    assert dvs[0] == ["NAME", "PHASE", "PROGRESS", "RESTARTS", "AGE"]  # CDI's printcolumn markers
    secrets = table_of(get(demo, "secrets", "-n", "demo").stdout)
    assert secrets[0] == ["NAME", "TYPE", "DATA", "AGE"]  # kubectl's own printer
    by_name = {r[0]: r for r in secrets[1:]}
    for secret in demo.json("/namespaces/demo/secrets")["items"]:
        assert by_name[secret["metadata"]["name"]][2] == str(len(secret["dataKeys"]))


def test_get_wide_adds_the_vmis_node_and_ip_to_each_vm(demo: Gateway) -> None:
    result = get(demo, "vms", "-n", "demo", "-o", "wide")
    assert result.returncode == 0, result.stderr
    header, *rows = table_of(result.stdout)
    assert header == ["NAME", "AGE", "STATUS", "READY", "NODE", "IP"]
    vmis = {v["metadata"]["name"]: v for v in demo.json("/namespaces/demo/vmis")["items"]}
    assert len(rows) == len(demo.json("/namespaces/demo/vms")["items"])
    for name, _, _, _, node, ip in rows:
        vmi = vmis.get(name)
        assert (node, ip) == ((vmi["status"]["nodeName"], vmi["status"]["interfaces"][0]["ipAddress"])
                              if vmi else ("<none>", "<none>"))  # fmt: skip
    vmi = table_of(get(demo, "vmi", "fedora", "-n", "demo", "-o", "wide").stdout)[0]
    assert vmi[-2:] == ["LIVE-MIGRATABLE", "PAUSED"]  # the CRD's priority-1 columns


def test_all_namespaces_puts_namespace_first_and_lists_every_namespace(demo: Gateway) -> None:
    result = get(demo, "vms", "-A")
    assert result.returncode == 0, result.stderr
    header, *rows = table_of(result.stdout)
    assert header == ["NAMESPACE", "NAME", "AGE", "STATUS", "READY"]
    served = demo.json("/vms")["items"]
    assert [(r[0], r[1]) for r in rows] == [(v["metadata"]["namespace"], v["metadata"]["name"]) for v in served]
    assert len({r[0] for r in rows}) > 1
    by_name = get(demo, "vm", "fedora", "--all-namespaces")
    assert by_name.returncode == 2 and "cannot be retrieved by name across all namespaces" in by_name.stderr


def test_the_namespace_is_n_else_the_kubeconfigs_context_else_default(demo: Gateway, tmp_path: Path) -> None:
    from_context = get(demo, "vm", "fedora", "-o", "name", env=kubectl_env(tmp_path, namespace="demo"))
    assert from_context.returncode == 0, from_context.stderr
    assert from_context.stdout == "virtualmachine.kubevirt.io/fedora\n"
    config = kubectl_env(tmp_path, namespace="demo")["KUBECONFIG"]
    other = get(demo, "vms", "-o", "name", "--kubeconfig", config, "--context", "other", env=kubectl_env(tmp_path))
    lab = [f"virtualmachine.kubevirt.io/{v['metadata']['name']}" for v in demo.json("/namespaces/lab/vms")["items"]]
    assert other.stdout.splitlines() == lab
    flag_wins = get(demo, "vms", "-n", "lab", "-o", "name", env=kubectl_env(tmp_path, namespace="demo"))
    assert flag_wins.stdout.splitlines() == lab
    no_kubeconfig = kubectl_env(tmp_path)
    one = get(demo, "vm", "fedora", env=no_kubeconfig)  # `default`, for one object and for a list alike
    assert one.returncode == 1 and '"fedora" not found' in one.stderr and "default" in one.stderr
    listing = get(demo, "vms", env=no_kubeconfig)
    assert listing.returncode == 0 and listing.stdout == ""
    assert listing.stderr == "No resources found in default namespace.\n"
    missing = get(demo, "vms", "--context", "nope", env=kubectl_env(tmp_path, namespace="demo"))
    assert missing.returncode == 1 and 'context "nope" does not exist' in missing.stderr


def test_get_takes_kind_slash_name_several_names_and_several_kinds(demo: Gateway) -> None:
    slashes = get(demo, "vm/fedora", "dv/fedora-root", "-n", "demo", "-o", "name")
    assert slashes.stdout.splitlines() == [
        "virtualmachine.kubevirt.io/fedora",
        "datavolume.cdi.kubevirt.io/fedora-root",
    ]
    names = get(demo, "vm", "fedora", "rhel9", "-n", "demo")
    assert [r[0] for r in table_of(names.stdout)] == ["NAME", "fedora", "rhel9"]
    both = get(demo, "vm,vmi", "fedora", "-n", "demo")
    assert both.returncode == 0, both.stderr
    first, second = both.stdout.split("\n\n")  # one table a kind, as kubectl prints them
    assert table_of(first)[1][0] == "virtualmachine.kubevirt.io/fedora"
    assert table_of(second)[0][:3] == ["NAME", "AGE", "PHASE"]
    assert table_of(second)[1][0] == "virtualmachineinstance.kubevirt.io/fedora"
    as_list = json.loads(get(demo, "vm,vmi", "fedora", "-n", "demo", "-o", "json").stdout)
    assert as_list["kind"] == "List" and [i["kind"] for i in as_list["items"]] == [
        "VirtualMachine",
        "VirtualMachineInstance",
    ]
    mixed = get(demo, "vm/fedora", "rhel9", "-n", "demo")
    assert mixed.returncode == 1 and "KIND/NAME" in mixed.stderr


def test_a_missing_name_is_an_error_and_the_others_still_print(demo: Gateway) -> None:
    result = get(demo, "vm", "fedora", "nope", "rhel9", "-n", "demo", "-o", "name")
    assert result.returncode == 1
    assert result.stdout.splitlines() == ["virtualmachine.kubevirt.io/fedora", "virtualmachine.kubevirt.io/rhel9"]
    assert '404 virtualmachines "nope" not found' in result.stderr and "Traceback" not in result.stderr


def test_jsonpath_takes_kubectls_templates(demo: Gateway) -> None:
    served = demo.json("/namespaces/demo/vms")["items"]
    names = get(demo, "vms", "-n", "demo", "-o", "jsonpath={.items[*].metadata.name}")
    assert names.returncode == 0, names.stderr
    assert names.stdout == " ".join(v["metadata"]["name"] for v in served)  # no newline added, as kubectl
    template = r'{range .items[*]}{.metadata.name}{"\t"}{.status.conditions[?(@.type=="Ready")].status}{"\n"}{end}'
    ready = get(demo, "vms", "-n", "demo", "-o", f"jsonpath={template}")
    assert ready.stdout.splitlines() == ["\t".join(vm_row(v)[::2]) for v in served]
    one = get(demo, "vm", "fedora", "-n", "demo", "-o", r"jsonpath={.metadata.labels.app\.kubernetes\.io/part-of}")
    assert one.stdout == demo.json("/namespaces/demo/vms/fedora")["metadata"]["labels"]["app.kubernetes.io/part-of"]
    bad = get(demo, "vms", "-n", "demo", "-o", "jsonpath={.items[}")
    assert bad.returncode == 1 and "error executing jsonpath" in bad.stderr and "Traceback" not in bad.stderr
    unknown = get(demo, "vms", "-o", "xml")
    assert unknown.returncode == 2 and "invalid output 'xml'" in unknown.stderr


def test_every_get_and_graph_flag_has_help() -> None:
    from gateway.cli.commands import graph_parser
    from gateway.cli.get import get_parser

    for parser in (get_parser("kubevirt-gateway"), graph_parser("kubevirt-gateway")):
        for action in parser._actions:
            assert action.help, (parser.prog, action.dest)
    listed = run_cli("get", "--help").stdout
    for flag in ("--namespace", "--all-namespaces", "--output", "--follow", "--selector", "--watch", "--gateway",
                 "--kubeconfig", "--context", "jsonpath="):  # fmt: skip
        assert flag in listed


@pytest.mark.parametrize(
    ("seconds", "shown"),
    # apimachinery's duration_test.go cases for HumanDuration
    [
        (-2, "<invalid>"),
        (-1, "0s"),
        (0, "0s"),
        (1, "1s"),
        (119, "119s"),
        (120, "2m"),
        (121, "2m1s"),
        (9 * 60 + 59, "9m59s"),
        (10 * 60, "10m"),
        (3 * 3600 - 1, "179m"),
        (3 * 3600, "3h"),
        (3 * 3600 + 60, "3h1m"),
        (8 * 3600, "8h"),
        (47 * 3600 + 59 * 60, "47h"),
        (48 * 3600, "2d"),
        (48 * 3600 + 3600, "2d1h"),
        (8 * 86400, "8d"),
        (2 * 365 * 86400 - 1, "729d"),
        (2 * 365 * 86400, "2y"),
        (2 * 365 * 86400 + 86400, "2y1d"),
        (8 * 365 * 86400, "8y"),
    ],
)
def test_ages_are_written_as_kubectl_writes_them(seconds: int, shown: str) -> None:
    from gateway.cli.columns import human_duration

    assert human_duration(seconds) == shown


def test_kubectl_runs_the_cli_as_its_gateway_plugin(demo: Gateway, tmp_path: Path) -> None:
    from tests.support.apiserver import kube_bin

    plugin = Path(sys.executable).parent / "kubectl-gateway"
    assert plugin.exists(), "pip install -e . installs the kubectl-gateway console script"
    env = {**kubectl_env(tmp_path, namespace="demo"), "KUBEVIRT_GATEWAY_URL": demo.url,
           "PATH": os.pathsep.join([str(plugin.parent), str(kube_bin()), os.environ.get("PATH", "")])}  # fmt: skip
    listed = subprocess.run(["kubectl", "plugin", "list"], capture_output=True, text=True, env=env, timeout=60)
    assert str(plugin) in listed.stdout
    command = ["kubectl", "gateway", "get", "vm", "fedora", "-f", "vmi.pod", "-o", "tree"]
    result = subprocess.run(command, capture_output=True, text=True, env=env, timeout=60)
    assert result.returncode == 0, result.stderr
    doc = demo.json("/namespaces/demo/vms/fedora", follow="vmi.pod")
    assert result.stdout.splitlines() == [
        "VirtualMachine demo/fedora",
        "└─vmi: VirtualMachineInstance demo/fedora",
        f"  └─pod: Pod demo/{doc['vmi']['pod']['metadata']['name']}",
    ]
    usage = subprocess.run(["kubectl", "gateway", "get", "--help"], capture_output=True, text=True, env=env, timeout=60)
    assert usage.stdout.startswith("usage: kubectl gateway get")


@pytest.mark.parametrize(
    "args",
    [
        ["get", "vm", "hostile", "-n", "ns"],
        ["get", "vm", "-A", "-o", "wide"],
        ["get", "vm", "hostile", "-n", "ns", "-o", "name"],
        ["get", "vm", "hostile", "-n", "ns", "-o", "jsonpath={.metadata.name}{.metadata.annotations}"],
    ],
    ids=["table", "wide", "name", "jsonpath"],
)
def test_tables_names_and_jsonpath_show_control_characters_as_escapes(hostile: Gateway, args: list[str]) -> None:
    out = output_of(*args, "--gateway", hostile.url)
    assert RAW.findall(out) == []
    assert "hostile" in out


def test_serve_says_what_it_left_out_once_and_strict_refuses_it(tmp_path: Path) -> None:
    """The master builds the app to check the source, the worker builds it again: the warnings come once."""
    (tmp_path / "dump.yaml").write_text(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, namespace: ns}\n---\n"
        "apiVersion: kubevirt.io/v1\nkind: VirtualMachineClone\nmetadata: {name: c, namespace: ns}\n---\n"
        "apiVersion: kubevirt.io/v1\nkind: VirtualMachine\nmetadata: {name: Bad_Name, namespace: ns}\n---\n"
        "apiVersion: kubevirt.io/v1\nkind: VirtualMachine\nmetadata: {name: good, namespace: ns}\n"
    )
    port = free_port()
    command = [sys.executable, "-m", "gateway", "serve", "--manifests", str(tmp_path), "--port", str(port)]
    with subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True) as process:
        try:
            ready = eventually(lambda: _answer(f"http://127.0.0.1:{port}/readyz"), timeout=30)
            assert requests.get(f"http://127.0.0.1:{port}/namespaces/ns/vms/good", timeout=5).status_code == 200
        finally:
            process.terminate()
            output = process.communicate(timeout=15)[0]
    left_out = [line.split("WARNING gateway.store.snapshot: ")[1] for line in output.splitlines() if "left out" in line
                and "WARNING" in line]  # fmt: skip
    dump = tmp_path / "dump.yaml"
    assert left_out == [
        f'{dump}:9: left out: kubevirt.io/v1 VirtualMachine "Bad_Name" is invalid: metadata.name must consist of '
        "lowercase letters, digits, '-' and '.', starting and ending with a letter or digit",
        f"{dump}:5: left out: kubevirt.io/v1 VirtualMachineClone: the gateway serves VirtualMachineClone as "
        "clone.kubevirt.io/v1beta1",
        f"left out, kinds the gateway does not serve: apps/v1 Deployment (1, first at {dump}:1)",
    ]
    assert "names the API server refuses: 1 object" in ready
    strict = run_cli("serve", "--manifests", str(tmp_path), "--strict", "--port", str(free_port()))
    assert strict.returncode == 2
    assert strict.stderr.startswith(f'kubevirt-gateway: error: {dump}:9: kubevirt.io/v1 VirtualMachine "Bad_Name" is')


def _answer(url: str) -> str | None:
    try:
        response = requests.get(url, timeout=1)
    except requests.ConnectionError:
        return None
    return response.text if response.status_code == 200 else None
