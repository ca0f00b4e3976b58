"""What the emulator's modules share: Status answers, JSON answers, settings, and the resources served now."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from flask import Response

from tests.support.emulator.cluster import Cluster
from tests.support.emulator.resources import Resource


@dataclass
class Settings:
    bookmark_interval: float = 1.0
    max_watch_seconds: float = 60.0


def status(code: int, reason: str, message: str) -> Response:
    body = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
            "message": message, "reason": reason, "code": code}  # fmt: skip
    return Response(json.dumps(body), status=code, mimetype="application/json")


def as_json(doc: Any, code: int = 200) -> Response:
    return Response(json.dumps(doc), status=code, mimetype="application/json")


def served_groups(cluster: Cluster) -> dict[str, list[Resource]]:
    """The resources served right now, by group: tests install and remove CRDs while it runs."""
    groups: dict[str, list[Resource]] = {}
    for r in cluster.resources:
        if r.kind not in cluster.unserved:
            groups.setdefault(r.group, []).append(r)
    return groups
