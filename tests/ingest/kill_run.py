"""One ingest of a test league that can SIGKILL its own process at its k-th event.

Events are the FACEIT responses the client receives and the database commits it starts (the
kill then lands inside the transaction, before COMMIT reaches the server), so the seeds of the
kill tests spread over fetches, writes and the profile queue.
"""

from __future__ import annotations

import os
import signal
from typing import Any

import httpx
from sqlalchemy import Engine, event

from core.db.engine import make_engine, make_session_factory
from core.demo_league import League, create_app, generate_league
from core.faceit import FaceitClient
from core.ingest import Ingestor, IngestSummary
from core.sources import DEMO_API_KEY, DEMO_BASE_URL

PLAYERS, MATCHES, SEED = 60, 150, 7
TRACKED = 6  # the first players are ingested, the others are only teammates (profiles queued)
ROSTER_DEPTH = 4
CONCURRENCY = 4


def league() -> League:
    return generate_league(PLAYERS, MATCHES, seed=SEED)


def tracked_nicknames(league: League) -> list[str]:
    return list(league.players_frame()["nickname"])[:TRACKED]


def open_engine(url: str, search_path: str) -> Engine:
    if search_path:
        return make_engine(url, connect_args={"options": f"-csearch_path={search_path}"})
    return make_engine(url)


class Events:
    """Counts events; at the `kill_at`-th one (0 = never) the process dies by SIGKILL."""

    def __init__(self, kill_at: int = 0) -> None:
        self.kill_at = kill_at
        self.count = 0

    def __call__(self, *_: Any) -> None:
        self.count += 1
        if self.count == self.kill_at:
            os.kill(os.getpid(), signal.SIGKILL)


async def ingest(
    league: League, engine: Engine, events: Events | None = None, *, job: str = "ingest"
) -> IngestSummary:
    """`faceit-ai ingest` of the tracked players (job "ingest") or `faceit-ai sync` ("sync")."""
    events = events or Events()
    event.listen(engine, "commit", events)
    client = FaceitClient(
        api_key=DEMO_API_KEY,
        base_url=DEMO_BASE_URL,
        transport=httpx.ASGITransport(app=create_app(league)),
        rate_limit=5000.0,
        on_request=events,
    )
    try:
        async with client:
            ingestor = Ingestor(
                client,
                make_session_factory(engine),
                roster_depth=ROSTER_DEPTH,
                concurrency=CONCURRENCY,
                batch_size=7,
            )
            if job == "sync":
                summary = await ingestor.sync_tracked()
            else:
                summary = await ingestor.ingest_nicknames(tracked_nicknames(league))
            summary.requests = client.request_count
            return summary
    finally:
        event.remove(engine, "commit", events)
