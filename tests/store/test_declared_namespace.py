"""Where the gateway looks for the ConfigMaps that declare links when --links-namespace is not given."""

from __future__ import annotations

from pathlib import Path

from gateway.store.declared import pod_namespace


def test_the_links_namespace_is_the_pods_own_as_client_go_finds_it(tmp_path: Path) -> None:
    """client-go's in-cluster config: $POD_NAMESPACE, else the service account's namespace file, else default."""
    account = tmp_path / "namespace"
    assert pod_namespace({}, account) == "default"
    account.write_text("kubevirt-gateway\n")
    assert pod_namespace({}, account) == "kubevirt-gateway"
    assert pod_namespace({"POD_NAMESPACE": "from-downward-api"}, account) == "from-downward-api"
