"""Prometheus metrics (`PORTAL_METRICS_ENABLED`): request latency by route, and how
many background jobs wait, in the Prometheus text format at `/metrics`.

Off by default. Each process counts its own requests; under `portal serve
--workers N` (N processes on one port, so a scrape reaches any one of them) set
`PROMETHEUS_MULTIPROC_DIR` to an empty directory the processes share, and the
answer adds up every process's (prometheus_client's multiprocess mode). Queue
depths are read from the job table at each scrape, so any process gives the same.
"""

from __future__ import annotations

import hmac
import os
import time

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector
from starlette.types import ASGIApp, Message, Receive, Scope, Send

CONTENT_TYPE = CONTENT_TYPE_LATEST
MULTIPROCESS = "PROMETHEUS_MULTIPROC_DIR"

# Pages answer in milliseconds; PDFs and imports take seconds.
BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class Metrics:
    """One process's request histogram and the registry a scrape reads."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Histogram(
            "portal_request_duration_seconds",
            "Time to answer a request, by route name, method and status class.",
            ["route", "method", "status"],
            buckets=BUCKETS,
            registry=None if os.environ.get(MULTIPROCESS) else self.registry,
        )
        if os.environ.get(MULTIPROCESS):
            MultiProcessCollector(self.registry)  # type: ignore[no-untyped-call]

    def exposition(self, queue_depths: list[tuple[str, str, int]]) -> bytes:
        """The text a scrape gets: the histogram, then the job table's depths."""
        depths = CollectorRegistry(auto_describe=True)
        depths.register(_QueueDepths(queue_depths))
        return generate_latest(self.registry) + generate_latest(depths)


class _QueueDepths(Collector):
    def __init__(self, rows: list[tuple[str, str, int]]) -> None:
        self.rows = rows

    def collect(self) -> list[GaugeMetricFamily]:
        family = GaugeMetricFamily(
            "portal_jobs",
            "Background jobs not finished, by kind (mail.send is the outbox) and state: "
            "due (waiting for a worker), waiting (for a later time), running, failed.",
            labels=["kind", "state"],
        )
        for kind, state, jobs in self.rows:
            family.add_metric([kind, state], jobs)
        return [family]


def authorized(header: str | None, token: str) -> bool:
    """Whether an `Authorization` header carries the bearer token (any, when none is set)."""
    if not token:
        return True
    scheme, _, given = (header or "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(given.strip(), token)


class MetricsMiddleware:
    """Times every HTTP request and counts it under the name of the route that
    answered (`none` when no route matched), never its path (which holds ids and
    tokens), so the series stay few."""

    def __init__(self, app: ASGIApp, *, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def recording(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, recording)
        finally:
            route = scope.get("route")
            name = getattr(route, "name", None) or "none"
            self.metrics.requests.labels(name, scope["method"], f"{status // 100}xx").observe(
                time.perf_counter() - started
            )
