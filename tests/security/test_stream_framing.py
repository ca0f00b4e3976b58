"""A document's text cannot end a line of its event stream early, so it cannot forge an event.

The API server checks no name in a reference: a tenant can name a VM's claim
`p\\r\\revent: status\\rdata: {...}\\r\\r`. An event stream's reader ends lines at CR as well as at
LF (WHATWG HTML, "event stream interpretation"), so a raw CR in a DOT document would end its
`data:` line there, and what follows would be an event of the tenant's making on other users' streams.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
import requests

from gateway.app import create_app
from gateway.cli.events import Event, events
from gateway.config import Config
from tests.support.gateway import Gateway, serving
from tests.support.objects import vm

FORGED = {"kind": "Status", "apiVersion": "v1", "status": "Failure", "code": 403, "message": "forged"}
CLAIM = f"p\r\revent: status\rdata: {json.dumps(FORGED)}\r\r\u2028x"


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    hostile = vm("web", "ns")
    hostile["spec"]["template"]["spec"]["volumes"][0]["persistentVolumeClaim"]["claimName"] = CLAIM
    hostile["metadata"]["annotations"] = {"note": CLAIM}
    path = tmp_path_factory.mktemp("cluster") / "vm.json"
    path.write_text(json.dumps(hostile))
    config = Config(manifests=(str(path),), heartbeat_seconds=0.2, extra={"TESTING": True})
    with serving(create_app(config)) as served:
        yield served


def first_events(gateway: Gateway, path: str, **params: str) -> list[Event]:
    """The events a stream sent before its first heartbeat (it has sent its document by then), read
    from the raw bytes with lines ending at CRLF, LF or CR."""
    response = requests.get(gateway.url + path, params={**params, "watch": "true"}, stream=True, timeout=30)
    assert response.status_code == 200, response.text
    raw = b""
    with response:
        for chunk in response.iter_content(chunk_size=None):
            raw += chunk
            if b"\n: heartbeat\n" in raw:
                break
    return list(events([raw]))


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("/namespaces/ns/vms/web/objectgraph", {"format": "dot"}),
        ("/namespaces/ns/graph", {"format": "dot"}),
        ("/namespaces/ns/vms/web", {"follow": "volumes.pvc"}),
    ],
)
def test_a_name_holding_carriage_returns_forges_no_event(gateway: Gateway, path: str, params: dict[str, str]) -> None:
    plain = gateway.get(path, **params)
    assert plain.status_code == 200
    assert "forged" in plain.text  # the name is in the document, and the stream carries it whole:
    assert first_events(gateway, path, **params) == [Event("document", plain.text)]
