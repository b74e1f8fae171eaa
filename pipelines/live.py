"""The live worker: drains the FACEIT webhook queue (models.live) until told to stop.

``faceit-ai live-worker`` runs it on its own; several may run at once (each event is claimed by
one of them). It polls the queue every LIVE_POLL_SECONDS.
"""

from __future__ import annotations

import asyncio
import logging
import threading

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
