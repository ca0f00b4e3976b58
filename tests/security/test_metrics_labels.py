"""What a client sends adds no series to /metrics: every label takes few values.

A server takes any token as a method (`XAAAAB /metrics`, with no token); labelled as sent, 1,500
such requests made 1,049 series and /metrics grew from 18 KB to 1.6 MB.
"""

from __future__ import annotations

import random
import string

import requests
from prometheus_client.parser import text_string_to_metric_families

from gateway.app import create_app
from gateway.config import Config
from tests.support.gateway import Gateway, serving


def series(gateway: Gateway) -> set[tuple[str, tuple[tuple[str, str], ...]]]:
    text = gateway.get("/metrics").text
    return {(s.name, tuple(sorted(s.labels.items()))) for f in text_string_to_metric_families(text) for s in f.samples}


def requests_of_every_shape(gateway: Gateway, rounds: int, rng: random.Random) -> None:
    """Each round, with a method and names never sent before: the method on an unknown path and on
    /metrics; GETs of a cluster-scoped object of an unknown kind, of an object that does not exist,
    and with an unknown parameter."""
    for _ in range(rounds):
        method = "".join(rng.choices(string.ascii_uppercase, k=rng.randint(3, 20)))
        word = "".join(rng.choices(string.ascii_lowercase, k=12))
        for verb, path, params in (
            (method, f"/{word}", {}),
            (method, "/metrics", {}),
            ("GET", f"/{word}/{word}", {}),
            ("GET", f"/namespaces/demo/vms/{word}", {}),
            ("GET", f"/namespaces/demo/vms/{word}", {word: word}),
        ):
            assert requests.request(verb, gateway.url + path, params=params, timeout=30).status_code >= 400


def test_random_methods_and_paths_add_no_series() -> None:
    with serving(create_app(Config(demo=True, extra={"TESTING": True}))) as gateway:
        rng = random.Random(2028)
        requests_of_every_shape(gateway, 1, rng)  # the series requests of these shapes make, once
        series(gateway)  # and a scrape's own
        before = series(gateway)
        requests_of_every_shape(gateway, 300, rng)
        after = series(gateway)
        assert after == before
        labels = [dict(labels) for _, labels in after if "route" in dict(labels)]
        assert {x["method"] for x in labels} == {"GET", "other"}
        rules = {"/metrics", "/<collection>/<name>", "/namespaces/<namespace>/<collection>/<name>"}
        assert {x["route"] for x in labels} == rules | {"unmatched"}  # the rule that matched, never the path
        assert {x["code"] for x in labels} == {"200", "400", "404", "405"}
