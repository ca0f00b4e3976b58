"""Requests over the whole demo: each catalogue link's row, and the collections, graphs and errors around them.
Every store must answer each of them as the snapshot store does."""

from __future__ import annotations

from tests.api.test_every_link import LINKS

REQUESTS: list[tuple[str, dict[str, str]]] = sorted({(start, follow) for start, follow, _ in LINKS.values()})
REQUESTS = [(path, {"follow": follow}) for path, follow in REQUESTS] + [
    ("/vms", {"follow": "*.*"}),
    ("/namespaces/demo/vms", {"follow": "volumes.pvc.pv,vmi.pod.node,instancetype.revision,preference.revision"}),
    ("/pvcs", {"follow": "vms,pods,datasource", "limit": "3"}),
    ("/namespaces/demo/secrets", {"follow": "vms"}),
    ("/namespaces/demo/vms/fedora/volumes", {"follow": "*"}),
    ("/vms", {"labelSelector": "app.kubernetes.io/part-of=shop"}),
    ("/namespaces/demo/vms/nope", {}),
    ("/namespaces", {}),
    ("/namespaces/lab", {}),
    ("/namespaces/lab/graph", {}),
    ("/namespaces/lab/vms/every-source", {"follow": "volumes.*,accesscredentials,networks.nad"}),
    ("/migrationpolicies/fast-lane", {"follow": "vmis.pod"}),
    ("/namespaces/demo/vms/fedora", {"follow": "volumes.nope"}),
]
