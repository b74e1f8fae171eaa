"""The live worker: drains the FACEIT webhook queue (models.live) and sends the due
notifications (core.notify) until told to stop.

``faceit-ai live-worker`` runs it on its own; several may run at once (each event is claimed by
one of them). It polls the queue every LIVE_POLL_SECONDS.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from datetime import UTC, datetime
from typing import Any

from core import live, notify
from core.faceit.webhooks import WebhookEvent
from core.resources import Resources
from models.analysis import AnalysisModels
from models.live import Outcome, drain

log = logging.getLogger(__name__)


def run_worker(resources: Resources, stop: threading.Event) -> int:
    """Handle events as they arrive until ``stop`` is set; how many were handled."""
    models = AnalysisModels.of(resources)
    handled = 0
    while not stop.is_set():
        try:
            outcomes: list[Outcome] = asyncio.run(drain(resources, models=models))
        except Exception:  # the database is down, say: log it and poll again
            log.exception("live worker: draining the FACEIT event queue failed")
            outcomes = []
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


def start_demo_live(resources: Resources) -> list[threading.Event]:
    """The embedded demo league plays live: its clock (events queued locally) and a live worker,
    each in a daemon thread; set the returned events to stop them."""
    from core.demo_league.live import LiveClock, live_games
    from core.sources import demo_league

    settings = resources.settings
    clock = LiveClock(
        live_games(demo_league(settings)),
        local_delivery(resources),
        every=settings.demo_live_every_seconds,
        stage_seconds=settings.demo_live_stage_seconds,
        first_at=datetime.now(UTC),  # the first match after one interval: the models train first
        favourites=lambda: followed_players(resources),
    )
    _clock_thread, clock_stop = clock.start()
    _worker_thread, worker_stop = start_worker(resources)
    return [clock_stop, worker_stop]
