"""Prefect flows that keep FACEIT data in the database fresh.

The flows only orchestrate: each unit of work of core.ingest.Ingestor (fetch a profile, list new
matches, fetch and store one batch of matches, move the watermark) runs as one retryable task;
a batch is idempotent, so a retried or re-run task never adds anything twice.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import asdict
from typing import Any

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NONE
from prefect.runtime import deployment

from core.ingest import Ingestor, IngestSummary
from core.resources import Resources
from core.settings import Settings
from core.sources import demo_league, run_ingest
from pipelines.observability import observe_flows

RETRIES = {"fetch-profile": 2, "list-new-matches": 2, "ingest-batch": 3, "fetch-profiles": 1}


@task(name="refresh-peer-table", retries=1, retry_delay_seconds=[10], cache_policy=NONE)
def refresh_peer_table(resources: Resources) -> dict[str, Any]:
    """The peer groups whose players got new matches, rebuilt (models.peers.refresh)."""
    from models import peers

    return peers.refresh(resources.sessions)


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
    from models.serving_features import refreshing

    with Resources.open() as resources:
        observe_flows(resources.settings)
        summary = await run_ingest(
            resources,
            refreshing(resources, lambda ingestor: ingestor.ingest_nickname(nickname)),
            step=as_prefect_task,
            roster_depth=roster_depth,
        )
        refresh_peer_table(resources)
    get_run_logger().info("ingested %s: %s", nickname, summary)
    return asdict(summary)


SYNC_BATCH_SIZE = 25
SYNC_BATCH_DEPLOYMENT = "sync-players/sync-players"


def tracked_batches(resources: Resources, size: int) -> list[list[str]]:
    """The tracked player ids, in batches of ``size``."""
    from core import store

    with resources.sessions() as session:
        ids = store.tracked_player_ids(session)
    return [ids[i : i + size] for i in range(0, len(ids), size)]


@flow(name="sync-players", persist_result=True)  # the parent run reads the summary back
async def sync_players(player_ids: list[str]) -> dict[str, Any]:
    """One batch of a fanned-out sync: these players' new matches (any worker of the pool)."""
    from models.serving_features import refreshing

    with Resources.open() as resources:
        observe_flows(resources.settings)
        summary = await run_ingest(
            resources,
            refreshing(resources, lambda ingestor: ingestor.sync_tracked(player_ids)),
            step=as_prefect_task,
        )
        refresh_peer_table(resources)
    get_run_logger().info("sync of %d players: %s", len(player_ids), summary)
    return asdict(summary)


async def fan_out(batches: list[list[str]], name: str) -> list[dict[str, Any]]:
    """One flow run of deployment ``name`` per batch, shared by the pool's workers; results."""
    from prefect.deployments import run_deployment

    runs = await asyncio.gather(
        *(run_deployment(name, parameters={"player_ids": batch}, timeout=None) for batch in batches)
    )
    results = []
    for run in runs:
        if run.state is None or not run.state.is_completed():
            raise RuntimeError(f"sync batch {run.name} ended {run.state and run.state.name}")
        results.append(await run.state.aresult())
    return results


@flow(name="sync-tracked-players")
async def sync_tracked_players(batch_size: int = SYNC_BATCH_SIZE) -> dict[str, Any]:
    """Incremental: only the matches after each tracked player's watermark.

    Run from a deployment (on a work pool), the tracked players are fanned out in batches of
    ``batch_size``, one ``sync-players`` flow run each, that every worker of the pool shares;
    run in process (CLI, tests), they are synced here, ``Ingestor.concurrency`` at a time.
    """
    from models.serving_features import refreshing

    with Resources.open() as resources:
        observe_flows(resources.settings)
        if deployment.id is None:
            summary = await run_ingest(
                resources, refreshing(resources, Ingestor.sync_tracked), step=as_prefect_task
            )
            peers = refresh_peer_table(resources)
            get_run_logger().info("sync: %s; peer table: %s", summary, peers)
            return asdict(summary)
        batches = tracked_batches(resources, batch_size)
        results = await fan_out(batches, SYNC_BATCH_DEPLOYMENT)
        refresh_peer_table(resources)  # each batch refreshed its own; this finds the rest
    total = IngestSummary()
    for result in results:
        part = IngestSummary(**result)
        total.add(part)
        total.requests += part.requests
    get_run_logger().info("sync of %d batches: %s", len(batches), total)
    return {**asdict(total), "batches": len(batches)}


def demo_nicknames(settings: Settings, players: int | None = None) -> list[str]:
    if not settings.uses_demo_league:
        raise ValueError("seed-demo loads the demo league; unset FACEIT_API_KEY to use it")
    nicknames: list[str] = list(demo_league(settings).players_frame()["nickname"])
    return nicknames[:players] if players else nicknames


@flow(name="seed-demo")
async def seed_demo(players: int | None = None) -> dict[str, Any]:
    """Ingest the whole demo league (or its first `players` players)."""
    with Resources.open() as resources:
        nicknames = demo_nicknames(resources.settings, players)
        summary = await run_ingest(
            resources,
            lambda ingestor: ingest_nicknames(ingestor, nicknames),
            step=as_prefect_task,
            roster_depth=0,
        )
        refresh_peer_table(resources)
    return asdict(summary)
