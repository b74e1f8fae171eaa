"""The live worker's /healthz and /metrics (pipelines.live): what the stack waits for, Kubernetes
probes and Prometheus scrapes."""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
import pytest

from core.live import LEASE
from models.live import Outcome
from pipelines.live import WorkerMetrics, serve_health
from tests.utils.ports import free_port


@pytest.fixture
def served() -> Iterator[tuple[WorkerMetrics, httpx.Client]]:
    metrics = WorkerMetrics()
    port = free_port()
    server = serve_health(metrics, "127.0.0.1", port)
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10) as http:
            yield metrics, http
    finally:
        server.shutdown()
        server.server_close()


def sample(body: str, name: str) -> float:
    (line,) = [x for x in body.splitlines() if x.startswith(name + " ") or x.startswith(name + "{")]
    return float(line.split()[-1])


def test_unhealthy_until_the_first_poll_then_healthy(
    served: tuple[WorkerMetrics, httpx.Client],
) -> None:
    metrics, http = served
    before = http.get("/healthz")
    assert before.status_code == 503 and "not polled" in before.text
    metrics.polled([])
    after = http.get("/healthz")
    assert (after.status_code, after.text) == (200, "ok")


def test_a_loop_stuck_longer_than_the_lease_is_unhealthy(
    served: tuple[WorkerMetrics, httpx.Client],
) -> None:
    metrics, http = served
    metrics.polled([])
    # the last poll as long ago as an event's lease, plus a second: another worker may have
    # taken over the event this one holds
    metrics._polled = time.monotonic() - LEASE.total_seconds() - 1
    assert http.get("/healthz").status_code == 503
    metrics.polled([])
    assert http.get("/healthz").status_code == 200


def test_metrics_count_handled_and_failed_events(
    served: tuple[WorkerMetrics, httpx.Client],
) -> None:
    metrics, http = served
    empty = http.get("/metrics").text
    assert sample(empty, 'faceit_ai_live_events_total{result="handled"}') == 0
    assert sample(empty, 'faceit_ai_live_events_total{result="failed"}') == 0
    started = time.time()
    metrics.polled(
        [
            Outcome("match_object_created", "m1", "created", predicted=True),
            Outcome("match_status_finished", "m1", "finished", note="FACEIT does not know this"),
            Outcome("match_status_ready", "m2", None, note="error: FACEIT unreachable"),
        ]
    )
    body = http.get("/metrics").text
    assert sample(body, 'faceit_ai_live_events_total{result="handled"}') == 2
    assert sample(body, 'faceit_ai_live_events_total{result="failed"}') == 1
    assert sample(body, "faceit_ai_live_last_poll_timestamp_seconds") >= int(started)
