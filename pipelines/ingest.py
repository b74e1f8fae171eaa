"""Prefect flows that keep FACEIT data in the database fresh.

The flows only orchestrate: each unit of work of core.ingest.Ingestor (fetch a profile, list new
matches, fetch and store one batch of matches, move the watermark) runs as one retryable task;
a batch is idempotent, so a retried or re-run task never adds anything twice.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict
from typing import Any

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NONE

from core.ingest import Ingestor, IngestSummary
from core.settings import Settings, get_settings
from core.sources import demo_league, run_ingest
from pipelines.observability import observe_flows

RETRIES = {"fetch-profile": 2, "list-new-matches": 2, "ingest-batch": 3, "refresh-rosters": 1}


def as_prefect_task(function: Callable[..., Any], name: str) -> Callable[..., Any]:
    return task(
        function,
        name=name,
        retries=RETRIES.get(name, 0),
        retry_delay_seconds=[2, 10, 30],
        cache_policy=NONE,
    )


async def ingest_nicknames(ingestor: Ingestor, nicknames: list[str]) -> IngestSummary:
    """Every nickname, `ingestor.concurrency` players at a time."""
    return await ingestor.ingest_nicknames(nicknames)


@flow(name="ingest-player")
async def ingest_player(nickname: str, roster_depth: int = 10) -> dict[str, Any]:
    """Profile, full match history with every match's scoreboard, and recent teammates' profiles."""
    observe_flows(get_settings())
    summary = await run_ingest(
        get_settings(),
        lambda ingestor: ingestor.ingest_nickname(nickname),
        step=as_prefect_task,
        roster_depth=roster_depth,
    )
    get_run_logger().info("ingested %s: %s", nickname, summary)
    return asdict(summary)


@flow(name="sync-tracked-players")
async def sync_tracked_players() -> dict[str, Any]:
    """Incremental: only the matches after each tracked player's watermark."""
    observe_flows(get_settings())
    summary = await run_ingest(get_settings(), Ingestor.sync_tracked, step=as_prefect_task)
    get_run_logger().info("sync: %s", summary)
    return asdict(summary)


def demo_nicknames(settings: Settings, players: int | None = None) -> list[str]:
    if not settings.uses_demo_league:
        raise ValueError("seed-demo loads the demo league; unset FACEIT_API_KEY to use it")
    nicknames: list[str] = list(demo_league(settings).players_frame()["nickname"])
    return nicknames[:players] if players else nicknames


@flow(name="seed-demo")
async def seed_demo(players: int | None = None) -> dict[str, Any]:
    """Ingest the whole demo league (or its first `players` players)."""
    settings = get_settings()
    nicknames = demo_nicknames(settings, players)
    summary = await run_ingest(
        settings,
        lambda ingestor: ingest_nicknames(ingestor, nicknames),
        step=as_prefect_task,
        roster_depth=0,
    )
    return asdict(summary)
