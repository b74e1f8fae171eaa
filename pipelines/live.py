"""The live worker: drains the FACEIT webhook queue (models.live) and sends the due
notifications (core.notify) until told to stop.

``faceit-ai live-worker`` runs it on its own; several may run at once (each event is claimed by
one of them). It polls the queue every LIVE_POLL_SECONDS. With LIVE_METRICS_PORT it serves
``/metrics`` (events handled and failed, the last poll) and ``/healthz``: 200 while the worker
came back to poll within core.live.LEASE, 503 before its first poll or when it is stuck longer
than the lease it holds on an event (another worker may take that event over by then).
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from prometheus_client import CollectorRegistry, Counter, Gauge, make_wsgi_app
from prometheus_client.exposition import ThreadingWSGIServer

from core import live, notify
from core.faceit.webhooks import WebhookEvent
from core.resources import Resources
from models.analysis import AnalysisModels
from models.live import Outcome, drain

log = logging.getLogger(__name__)


class WorkerMetrics:
    """What the live worker did, for Prometheus and its health check."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.events = Counter(
            "faceit_ai_live_events",
            "FACEIT webhook events the live worker took from the queue, by result",
            ["result"],
            registry=self.registry,
        )
        self.last_poll = Gauge(
            "faceit_ai_live_last_poll_timestamp_seconds",
            "When the live worker last polled the event queue (Unix time)",
            registry=self.registry,
        )
        for result in ("handled", "failed"):
            self.events.labels(result)  # both series exist from the start (rate() over them)
        self._polled: float | None = None  # monotonic

    def polled(self, outcomes: list[Outcome]) -> None:
        for outcome in outcomes:
            failed = (outcome.note or "").startswith("error:")
            self.events.labels("failed" if failed else "handled").inc()
        self.last_poll.set(time.time())
        self._polled = time.monotonic()

    def healthy(self) -> bool:
        return (
            self._polled is not None
            and time.monotonic() - self._polled <= live.LEASE.total_seconds()
        )


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        """Probes and scrapes every few seconds: no access line each."""


def health_app(metrics: WorkerMetrics) -> Any:
    """``/healthz`` (the worker's loop is alive) and every other path: the metrics."""
    exposition = make_wsgi_app(metrics.registry)

    def app(environ: dict[str, Any], start_response: Any) -> Any:
        if environ.get("PATH_INFO") == "/healthz":
            ok = metrics.healthy()
            start_response(
                "200 OK" if ok else "503 Service Unavailable",
                [("Content-Type", "text/plain; charset=utf-8")],
            )
            return [b"ok" if ok else b"the live worker has not polled its queue lately"]
        return exposition(environ, start_response)

    return app


def serve_health(metrics: WorkerMetrics, host: str, port: int) -> WSGIServer:
    """Serve ``health_app`` in a daemon thread; ``shutdown()`` the server to stop it."""
    server = make_server(
        host, port, health_app(metrics), ThreadingWSGIServer, handler_class=_QuietHandler
    )
    threading.Thread(target=server.serve_forever, name="live-health", daemon=True).start()
    return server


def run_worker(
    resources: Resources, stop: threading.Event, metrics: WorkerMetrics | None = None
) -> int:
    """Handle events as they arrive until ``stop`` is set; how many were handled."""
    models = AnalysisModels.of(resources)
    handled = 0
    while not stop.is_set():
        try:
            outcomes: list[Outcome] = asyncio.run(drain(resources, models=models))
        except Exception:  # the database is down, say: log it and poll again
            log.exception("live worker: draining the FACEIT event queue failed")
            outcomes = []
        else:
            if metrics is not None:
                metrics.polled(outcomes)
        handled += len(outcomes)
        try:
            notify.send_due(resources.sessions, resources.settings)
        except Exception:
            log.exception("live worker: sending the due notifications failed")
        stop.wait(resources.settings.live_poll_seconds)
    return handled


def start_worker(resources: Resources) -> tuple[threading.Thread, threading.Event]:
    """The worker in a daemon thread (the embedded default set-up); set the event to stop it."""
    stop = threading.Event()
    thread = threading.Thread(
        target=run_worker, args=(resources, stop), name="live-worker", daemon=True
    )
    thread.start()
    return thread, stop


def local_delivery(resources: Resources) -> Any:
    """A delivery of the demo live clock that queues each event straight into this database
    (the embedded default has no API server to POST to): the same validation and queue as
    POST /webhooks/faceit."""

    async def deliver(payload: dict[str, Any]) -> bool:
        event = WebhookEvent.model_validate(payload)
        with resources.sessions() as session:
            live.record_event(session, event, payload)
        return True

    return deliver


def followed_players(resources: Resources) -> list[str]:
    """Everyone some user follows, the most recently followed first (the demo clock plays
    their matches first)."""
    with resources.sessions() as session:
        return notify.recently_followed(session)


def start_demo_live(
    resources: Resources, training: threading.Thread | None = None
) -> list[threading.Event]:
    """The embedded demo league plays live: its clock (events queued locally) and a live worker,
    each in a daemon thread; set the returned events to stop them. While ``training`` runs
    (the first start's models) no match is scheduled: it would have no prediction."""
    from core.demo_league.live import LiveClock, live_games
    from core.sources import demo_league

    settings = resources.settings
    clock = LiveClock(
        live_games(demo_league(settings)),
        local_delivery(resources),
        every=settings.demo_live_every_seconds,
        stage_seconds=settings.demo_live_stage_seconds,
        favourites=lambda: followed_players(resources),
        ready=lambda: training is None or not training.is_alive(),
    )
    _clock_thread, clock_stop = clock.start()
    _worker_thread, worker_stop = start_worker(resources)
    return [clock_stop, worker_stop]
