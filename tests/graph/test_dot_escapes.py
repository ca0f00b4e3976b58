"""DOT answers carry no raw control character: names the API server never checked (a volume's
`claimName`) are drawn with their control characters as visible escapes."""

from __future__ import annotations

import json
import re
from collections.abc import Callable

from tests.support.gateway import Gateway
from tests.support.objects import vm

# C0 and C1 controls, DEL, the line and paragraph separators, bidirectional overrides and isolates
CONTROLS = "\x00\x07\x08\t\n\x0b\x0c\r\x1b\x7f\x85\x9b\u2028\u2029\u202e\u2066"
RAW = re.compile(r"[\x00-\x09\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")  # every one but LF
SHOWN = r"\x00\x07\x08\t\n\x0b\x0c\r\x1b\x7f\x85\x9b\u2028\u2029\u202e\u2066"


def test_control_characters_in_names_are_escaped_in_dot(cluster: Callable[[str], Gateway]) -> None:
    hostile = vm("web", "ns")
    hostile["spec"]["template"]["spec"]["volumes"][0]["persistentVolumeClaim"]["claimName"] = f"a{CONTROLS}b"
    gateway = cluster(json.dumps(hostile))
    node = gateway.json("/namespaces/ns/vms/web/objectgraph")["children"][0]
    assert node["objectReference"]["name"] == f"a{CONTROLS}b"  # JSON keeps the name as it is
    for path in ("/namespaces/ns/vms/web/objectgraph", "/namespaces/ns/graph"):
        response = gateway.get(path, format="dot")
        assert response.status_code == 200
        assert RAW.findall(response.text) == []
        assert "a" + SHOWN.replace("\\", "\\\\") + "b" in response.text  # DOT's \\ draws one backslash
