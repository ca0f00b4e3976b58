"""The test API server itself: the version built, the CRDs served as the catalogue reads them, the demo loaded."""

from __future__ import annotations

import importlib.util
import subprocess
from pathlib import Path
from typing import Any

from gateway.catalog import CATALOG
from tests.support.apiserver import ROOT, KubeApiServer, crd_table


def pin_tool() -> Any:
    spec = importlib.util.spec_from_file_location("pin", ROOT / "tools/kube/pin.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_server_reports_the_pinned_version(apiserver: KubeApiServer) -> None:
    version, _ = pin_tool().pinned()
    assert apiserver.api.request("GET", "/version")["gitVersion"] == version


def test_every_staging_module_of_the_pinned_release_is_replaced_by_its_published_version() -> None:
    """The replaces come from k8s.io/kubernetes's own go.mod (in the module cache), as pin.py writes them."""
    pin = pin_tool()
    version, replaces = pin.pinned()
    staging = pin.staging_modules(version)
    assert len(staging) > 20 and "k8s.io/client-go" in staging
    assert replaces == {module: pin.staging_version(version) for module in staging}


def test_every_crd_the_catalogue_reads_is_served_with_its_names_and_scope(apiserver: KubeApiServer) -> None:
    table = {(row["group"], row["kind"]): row for row in crd_table() if not row.get("declared")}
    builtin = {"", "apps", "storage.k8s.io"}
    crd_kinds = [k for k in CATALOG.kinds() if not k.part and k.group not in builtin]
    assert {(k.group, k.name) for k in crd_kinds} == set(table)
    for kind in crd_kinds:
        resources = apiserver.api.request("GET", f"/apis/{kind.group}/{kind.version}")["resources"]
        served = next(r for r in resources if r["name"] == kind.plural)
        assert (served["kind"], served["namespaced"]) == (kind.name, kind.namespaced), kind.name
        assert tuple(served.get("shortNames", ())) == kind.short_names, kind.name
        assert any(r["name"] == f"{kind.plural}/status" for r in resources), kind.name


def test_the_demo_is_loaded_with_real_owner_uids(apiserver: KubeApiServer) -> None:
    vmi = apiserver.api.get("kubevirt.io/v1", "VirtualMachineInstance", "demo", "fedora")
    vm = apiserver.api.get("kubevirt.io/v1", "VirtualMachine", "demo", "fedora")
    assert vmi["metadata"]["ownerReferences"][0]["uid"] == vm["metadata"]["uid"]
    assert vmi["status"]["phase"] == "Running"  # status went through the status subresource


def test_the_built_kubectl_talks_to_it(apiserver: KubeApiServer, tmp_path: Path) -> None:
    kubectl = str(apiserver.bin / "kubectl")
    kubeconfig = apiserver.kubeconfig(tmp_path / "kubeconfig")
    got = subprocess.run([kubectl, "--kubeconfig", kubeconfig, "get", "vms", "-n", "demo", "-o", "name"],
                         capture_output=True, text=True, timeout=60)  # fmt: skip
    assert got.returncode == 0, got.stderr
    assert "virtualmachine.kubevirt.io/fedora" in got.stdout.split()
