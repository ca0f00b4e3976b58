"""/metrics in Prometheus format: request latency by route, store reads, and the watch cache.

Each app has its own registry, so several apps in one process (tests) do not collide. The
watch cache's figures are read at scrape time from its stats, so the store knows nothing
of Prometheus.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Protocol

from flask import Flask, Response, g, request
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

from gateway.api.responses import READS_HEADER
from gateway.store import WithStats

METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "CONNECT", "TRACE"})
"""HTTP's methods (RFC 9110, and PATCH): a server takes any token as a method, and each would be a series."""


class WatchCacheCollector(Collector):
    def __init__(self, store: WithStats | None) -> None:
        self.store = store

    def collect(self) -> Iterator[GaugeMetricFamily | CounterMetricFamily]:
        if self.store is None:
            return
        stats = self.store.stats
        objects = GaugeMetricFamily("gateway_cached_objects", "Objects in the watch cache", labels=["kind"])
        relists = CounterMetricFamily(
            "gateway_watch_relists", "Full lists of a kind (start, 410 Gone)", labels=["kind"]
        )
        restarts = CounterMetricFamily("gateway_watch_restarts", "Watches restarted after an error", labels=["kind"])
        malformed = GaugeMetricFamily(
            "gateway_malformed_objects", "Objects with wrongly typed metadata (dropped fields) at the last list",
            labels=["kind"],
        )  # fmt: skip
        failing = GaugeMetricFamily(
            "gateway_watch_failing_since_seconds",
            "Unix time since which the kind's watch has been failing (answers from it carry a Warning); 0: working",
            labels=["kind"],
        )
        for kind, s in sorted(stats().items()):
            objects.add_metric([kind], s.objects)
            relists.add_metric([kind], s.relists)
            restarts.add_metric([kind], s.restarts)
            malformed.add_metric([kind], s.malformed)
            failing.add_metric([kind], s.failing_since)
        yield from (objects, relists, restarts, malformed, failing)


class Observe(Protocol):
    def __call__(
        self, route: str, method: str, code: int, seconds: float, store_reads: int, *, fast: bool = False
    ) -> None:
        """Count one answered request: its latency by route, method and status, and its store reads;
        `fast`: answered by the fast path (fastpath.py), before Flask."""


def init_metrics(app: Flask, store: WithStats | None) -> Observe:
    """Every label takes few values, whatever a client sends: `route` is the URL rule that matched
    (never the path), `method` one of METHODS or `other`, `code` a status the gateway answers with,
    `kind` a kind of the catalogue. Returns how a request is counted, for the fast path to count
    its answers as Flask's hook below counts the others."""
    registry = CollectorRegistry()
    latency = Histogram(
        "gateway_request_seconds", "Request latency", ["route", "method", "code"], registry=registry,
        buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
    )  # fmt: skip
    reads = Counter("gateway_store_reads", "Store reads (API calls in direct mode)", registry=registry)
    fast_answers = Counter(
        "gateway_fast_path_answers",
        "Requests answered from memory before Flask (also in gateway_request_seconds)",
        registry=registry,
    )
    registry.register(WatchCacheCollector(store))

    def observe(route: str, method: str, code: int, seconds: float, store_reads: int, *, fast: bool = False) -> None:
        latency.labels(route, method if method in METHODS else "other", str(code)).observe(seconds)
        if store_reads:
            reads.inc(store_reads)
        if fast:
            fast_answers.inc()

    @app.before_request
    def started() -> None:
        g.started = time.perf_counter()

    @app.after_request
    def observed(response: Response) -> Response:
        route = request.url_rule.rule if request.url_rule is not None else "unmatched"
        seconds = time.perf_counter() - g.get("started", time.perf_counter())
        observe(route, request.method, response.status_code, seconds, int(response.headers.get(READS_HEADER, "0")))
        return response

    @app.get("/metrics")
    def metrics() -> Response:
        # content_type, not mimetype: CONTENT_TYPE_LATEST names its charset already, and mimetype would add another
        return Response(generate_latest(registry), content_type=CONTENT_TYPE_LATEST)

    return observe
