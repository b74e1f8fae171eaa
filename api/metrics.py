"""Prometheus metrics of the API (default registry, next to core.cache's faceit_ai_cache_*)."""

from __future__ import annotations

import threading
from dataclasses import dataclass

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Gauge, Histogram

BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


@dataclass(frozen=True)
class ApiMetrics:
    requests: Counter
    latency: Histogram
    in_flight: Gauge
    model_version: Gauge
    rate_limited: Counter


_LOCK = threading.Lock()
_BY_REGISTRY: dict[int, ApiMetrics] = {}


def api_metrics(registry: CollectorRegistry | None = None) -> ApiMetrics:
    """The metric objects, created once per registry (many apps in one test process share)."""
    reg = registry or REGISTRY
    with _LOCK:
        found = _BY_REGISTRY.get(id(reg))
        if found is None:
            found = ApiMetrics(
                requests=Counter(
                    "faceit_ai_api_requests",
                    "API requests by method, route template and status",
                    ("method", "route", "status"),
                    registry=reg,
                ),
                latency=Histogram(
                    "faceit_ai_api_request_duration_seconds",
                    "API request latency by method, route template and status",
                    ("method", "route", "status"),
                    buckets=BUCKETS,
                    registry=reg,
                ),
                in_flight=Gauge(
                    "faceit_ai_api_requests_in_flight", "API requests being served", registry=reg
                ),
                model_version=Gauge(
                    "faceit_ai_model_version",
                    "Version of the promoted model in use by this process (0: none)",
                    ("model",),
                    registry=reg,
                ),
                rate_limited=Counter(
                    "faceit_ai_api_rate_limited",
                    "Requests refused by a rate limit",
                    ("scope",),
                    registry=reg,
                ),
            )
            _BY_REGISTRY[id(reg)] = found
        return found
