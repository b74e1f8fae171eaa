"""An ingest killed (SIGKILL, in a subprocess) at random points and run again ends exactly where a
clean run ends: matches, Elo history, watermarks and teammates' profiles; summaries count what
was stored."""

from __future__ import annotations

import asyncio
import os
import random
import signal
from typing import Any

import httpx
import polars as pl
import pytest
from sqlalchemy import Engine, text

from core.db.engine import make_engine, make_session_factory
from core.db.migrate import upgrade
from core.db.schema import Match, MatchPlayer
from core.demo_league import Faults, League, create_app
from tests.ingest import kill_run
from tests.ingest.conftest import count_rows, demo_client, quarantined, run_job, snapshot


@pytest.fixture(scope="module")
def kill_league() -> League:
    return kill_run.league()


def search_path(engine: Engine) -> str:
    if engine.dialect.name != "postgresql":
        return ""
    with engine.connect() as conn:
        return str(conn.execute(text("SHOW search_path")).scalar_one())


def kill_during_ingest(league: League, engine: Engine, kill_at: int) -> None:
    """Ingest in a forked process (modules already imported) that SIGKILLs itself at its
    `kill_at`-th event; it works on `engine`'s database through its own connections."""
    url = engine.url.render_as_string(hide_password=False)
    path = search_path(engine)
    pid = os.fork()
    if pid == 0:  # the child: never returns into pytest
        try:
            own = kill_run.open_engine(url, path)
            asyncio.run(kill_run.ingest(league, own, kill_run.Events(kill_at)))
        finally:
            os._exit(3)  # reached only if the kill point never came
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == -signal.SIGKILL


@pytest.fixture(scope="module")
def clean(kill_league: League, tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, int]:
    """Snapshot of an uninterrupted run (SQLite) and the number of events it had."""
    engine = make_engine(f"sqlite:///{tmp_path_factory.mktemp('clean') / 'clean.db'}")
    upgrade(engine)
    events = kill_run.Events()
    asyncio.run(kill_run.ingest(kill_league, engine, events))
    result = snapshot(engine), events.count
    engine.dispose()
    return result


@pytest.mark.parametrize("seed", [1, 2, 3])
async def test_killed_at_a_random_point_then_rerun_equals_a_clean_run(
    seed: int, kill_league: League, engine: Engine, clean: tuple[Any, int]
) -> None:
    reference, events = clean
    players = kill_league.players_frame()
    assert len(reference["players"]) > kill_run.TRACKED  # teammates have profiles too
    assert all(status == "fetched" for _, status, *_ in reference["profile_fetches"])

    kill_during_ingest(kill_league, engine, random.Random(seed).randint(1, events - 1))
    assert snapshot(engine) != reference  # the kill left work undone

    await kill_run.ingest(kill_league, engine)
    after = snapshot(engine)
    assert after == reference
    truth = dict(zip(players["player_id"], players["faceit_elo"], strict=True))
    assert all(row[5] == truth[row[0]] for row in after["players"] if row[5] is not None)


async def test_two_clean_runs_are_equal_and_profile_every_recent_teammate(
    kill_league: League, engine: Engine, clean: tuple[Any, int]
) -> None:
    first, _ = clean
    await kill_run.ingest(kill_league, engine)
    second = snapshot(engine)
    assert first == second

    # Every player of each tracked player's ROSTER_DEPTH newest matches has a full profile.
    players = kill_league.players_frame()
    tracked = set(players["player_id"][: kill_run.TRACKED])
    rows = kill_league.match_players_frame().join(
        kill_league.matches_frame().select("match_id", "finished_at"), on="match_id"
    )
    wanted = set(tracked)
    for player_id in tracked:
        recent = (
            rows.filter(pl.col("player_id") == player_id)
            .sort(["finished_at", "match_id"], descending=True)
            .head(kill_run.ROSTER_DEPTH)["match_id"]
        )
        wanted |= set(rows.filter(pl.col("match_id").is_in(recent.implode()))["player_id"])
    with_elo = {row[0] for row in second["players"] if row[5] is not None}
    assert with_elo == wanted


async def test_sync_fetches_profiles_an_earlier_run_could_not(
    kill_league: League, engine: Engine, clean: tuple[Any, int]
) -> None:
    """Profiles unreachable during the first run (every by-id profile request failing, as in a
    run cut off before them) are fetched by the next `sync`, although it has no new match."""
    reference, _ = clean
    served = httpx.ASGITransport(app=create_app(kill_league))

    async def profiles_down(request: httpx.Request) -> httpx.Response:
        if request.url.path.rsplit("/", 2)[-2] == "players":  # GET /players/{id}
            return httpx.Response(503, json={"errors": [{"message": "down"}]})
        response = await served.handle_async_request(request)
        await response.aread()
        return httpx.Response(
            response.status_code, headers=response.headers, content=response.content
        )

    nicknames = kill_run.tracked_nicknames(kill_league)
    await run_job(
        demo_client(kill_league, transport=httpx.MockTransport(profiles_down), max_retries=1),
        make_session_factory(engine),
        lambda i: i.ingest_nicknames(nicknames),
        roster_depth=kill_run.ROSTER_DEPTH,
        concurrency=kill_run.CONCURRENCY,
        batch_size=7,
    )
    partial = snapshot(engine)
    assert partial["matches"] == reference["matches"]
    assert {s for _, s, *_ in partial["profile_fetches"]} == {"pending", "fetched"}

    summary = await kill_run.ingest(kill_league, engine, job="sync")
    assert summary.new_matches == 0
    repaired = snapshot(engine)
    assert {s for _, s, *_ in repaired["profile_fetches"]} == {"fetched"}
    # equal to the clean run but for the failed attempts each queue row remembers
    assert {**repaired, "profile_fetches": None} == {**reference, "profile_fetches": None}
    assert [row[0] for row in repaired["profile_fetches"]] == [
        row[0] for row in reference["profile_fetches"]
    ]


async def test_summary_counts_what_was_stored_when_players_run_at_once(
    kill_league: League, engine: Engine
) -> None:
    """Players sharing matches, ingested six at a time, with invalid payloads to quarantine."""
    league = kill_league
    nicknames = list(league.players_frame()["nickname"])
    faults = Faults(seed=5, malformed_rate=0.05, truncate_rate=0.03)
    summary = await run_job(
        demo_client(league, faults),
        make_session_factory(engine),
        lambda i: i.ingest_nicknames(nicknames),
        roster_depth=0,
        concurrency=6,
    )
    assert summary.new_matches == count_rows(engine, Match) == league.n_matches
    assert summary.match_rows == count_rows(engine, MatchPlayer)
    assert summary.quarantined == quarantined(engine) > 0
