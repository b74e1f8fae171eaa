"""Ingestion against the demo league, on SQLite and PostgreSQL."""

from __future__ import annotations

import math

import httpx
import polars as pl
import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from core.db.schema import IngestState, Match, MatchPlayer
from core.demo_league import Faults, League
from core.ingest import IngestError, Ingestor, IngestSummary
from tests.ingest.conftest import demo_client, ingest_league, quarantined, run_job, snapshot

MATCH_PLAYER_COLUMNS = [c.name for c in MatchPlayer.__table__.columns]
MATCH_COLUMNS = [c.name for c in Match.__table__.columns if c.name != "created_at"]
STAT_PAIRS = {  # demo league truth column -> database column
    "kills": "kills",
    "deaths": "deaths",
    "assists": "assists",
    "headshots": "headshots",
    "damage": "damage",
    "mvps": "mvps",
    "entry_count": "entry_count",
    "entry_wins": "entry_wins",
    "clutch_1v1_count": "one_v_one_count",
    "clutch_1v2_wins": "one_v_two_wins",
    "utility_damage": "utility_damage",
    "flash_successes": "flash_successes",
    "sniper_kills": "sniper_kills",
    "pistol_kills": "pistol_kills",
    "penta_kills": "penta_kills",
}


async def test_full_ingest_stores_exactly_the_league(
    league: League, engine: Engine, sessions: sessionmaker[Session]
) -> None:
    summary = await ingest_league(league, sessions)
    data = snapshot(engine)
    truth_players = league.players_frame()
    truth_matches = league.matches_frame()
    truth_rows = league.match_players_frame()

    assert {row[0] for row in data["players"]} == set(truth_players["player_id"])
    assert {row[1] for row in data["players"]} == set(truth_players["nickname"])
    elo = {row[0]: row[5] for row in data["players"]}
    assert elo == dict(zip(truth_players["player_id"], truth_players["faceit_elo"], strict=True))
    assert {row[0] for row in data["matches"]} == set(truth_matches["match_id"])
    assert len(data["match_players"]) == truth_rows.height == summary.match_rows

    columns = ["match_id", "player_id", *STAT_PAIRS.values(), "result", "faction"]
    stored = pl.DataFrame(
        [dict(zip(MATCH_PLAYER_COLUMNS, row, strict=True)) for row in data["match_players"]]
    ).select(columns)
    expected = truth_rows.select(
        "match_id",
        "player_id",
        *[pl.col(a).alias(b) for a, b in STAT_PAIRS.items()],
        pl.col("result").cast(pl.Boolean),
        pl.concat_str(pl.lit("faction"), pl.col("faction").cast(pl.String)).alias("faction"),
    )
    joined = expected.join(stored, on=["match_id", "player_id"], suffix="_db")
    assert joined.height == truth_rows.height
    for column in [*STAT_PAIRS.values(), "result", "faction"]:
        assert (
            joined[column].cast(pl.String).to_list()
            == joined[f"{column}_db"].cast(pl.String).to_list()
        ), column

    winners = {row[0]: row for row in data["matches"]}
    match_columns = MATCH_COLUMNS
    for truth in truth_matches.head(50).iter_rows(named=True):
        stored_match = dict(zip(match_columns, winners[truth["match_id"]], strict=True))
        assert stored_match["rounds"] == truth["rounds"]
        assert stored_match["map"] == truth["map"]
        assert stored_match["winner_faction"] == truth["winner"]


async def test_second_run_adds_nothing_and_fetches_no_match_again(
    league: League, engine: Engine, sessions: sessionmaker[Session]
) -> None:
    await ingest_league(league, sessions)
    first = snapshot(engine)
    again = await ingest_league(league, sessions)
    assert snapshot(engine) == first
    assert again.new_matches == 0
    players = league.players_frame().height
    assert again.requests <= players * 3  # profile and history pages only, no match stats


async def test_run_killed_after_k_batches_then_rerun_equals_uninterrupted(
    league: League,
    engine: Engine,
    sessions: sessionmaker[Session],
    reference_sessions: sessionmaker[Session],
) -> None:
    await ingest_league(league, reference_sessions, batch_size=7)
    reference = snapshot(reference_sessions.kw["bind"])

    class Killed(BaseException):
        pass

    batches = 0
    original = Ingestor.store_batch

    def store_then_die(self: Ingestor, batch: object) -> None:
        nonlocal batches
        original(self, batch)  # type: ignore[arg-type]
        batches += 1
        if batches == 5:
            raise Killed

    Ingestor.store_batch = store_then_die  # type: ignore[method-assign]
    try:
        with pytest.raises(Killed):
            await ingest_league(league, sessions, batch_size=7)
    finally:
        Ingestor.store_batch = original  # type: ignore[method-assign]
    partial = snapshot(engine)
    assert 0 < len(partial["match_players"]) < len(reference["match_players"])
    with sessions() as session:
        assert all(s.watermark is None for s in session.query(IngestState).all())

    await ingest_league(league, sessions, batch_size=7)
    assert snapshot(engine) == reference


async def test_faults_are_survived_and_bad_payloads_quarantined(
    league: League,
    engine: Engine,
    sessions: sessionmaker[Session],
    reference_sessions: sessionmaker[Session],
) -> None:
    await ingest_league(league, reference_sessions)
    reference = snapshot(reference_sessions.kw["bind"])

    faults = Faults(seed=3, error_rate=0.15, truncate_rate=0.05, malformed_rate=0.05, storm=4)
    summary = await ingest_league(league, sessions, faults)
    data = snapshot(engine)
    assert {**data, "ingest_state": None} == {**reference, "ingest_state": None}
    assert summary.quarantined > 0
    assert quarantined(engine) == summary.quarantined
    # a player whose match stayed invalid there stopped its watermark before it: the next sync
    # (no faults now) completes it
    await run_job(demo_client(league), sessions, Ingestor.sync_tracked, roster_depth=0)
    assert snapshot(engine) == reference


async def test_incremental_sync_fetches_only_new_matches(
    league: League, engine: Engine, sessions: sessionmaker[Session]
) -> None:
    matches = league.matches_frame().sort("finished_at")
    cutoff = matches["finished_at"][int(matches.height * 0.8)]
    cutoff_s = int(cutoff.timestamp()) if hasattr(cutoff, "timestamp") else int(cutoff)
    full_app = demo_client(league)._http._transport  # the league served in full

    async def before_cutoff(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/history"):
            to = int(request.url.params.get("to", cutoff_s))
            request.url = request.url.copy_set_param("to", str(min(to, cutoff_s)))
        response = await full_app.handle_async_request(request)
        await response.aread()
        return httpx.Response(
            response.status_code, headers=response.headers, content=response.content
        )

    nickname = league.players_frame()["nickname"][0]
    player_id = league.players_frame()["player_id"][0]
    past = demo_client(league, transport=httpx.MockTransport(before_cutoff))
    await run_job(past, sessions, lambda i: i.ingest_nickname(nickname), roster_depth=0)

    truth = league.match_players_frame().filter(pl.col("player_id") == player_id)
    finished = league.matches_frame().select("match_id", "finished_at")
    new = truth.join(finished, on="match_id").filter(pl.col("finished_at") > cutoff)
    assert new.height > 0

    present = demo_client(league)
    summary = await run_job(present, sessions, Ingestor.sync_tracked, roster_depth=0)
    stats_requests = present.status_counts  # every request answered 200
    assert summary.new_matches == new.height
    # one profile, ceil(new / 100) history pages at most, and one stats request per new match
    assert summary.requests <= 1 + math.ceil(new.height / 100) + 1 + new.height
    assert sum(stats_requests.values()) == summary.requests
    assert snapshot(engine)["match_players"]


@pytest.mark.parametrize(
    ("nickname", "expected"),
    [
        ("NoSuchPlayer_x", "No FACEIT player is called"),
        ("", "empty"),
        ("x" * 200, "long"),
        ("'; DROP TABLE players;--", "nickname"),
        ("<script>alert(1)</script>", "nickname"),
    ],
)
async def test_bad_nicknames_get_a_clear_message_and_write_nothing(
    league: League, engine: Engine, sessions: sessionmaker[Session], nickname: str, expected: str
) -> None:
    with pytest.raises((IngestError, ValueError)) as error:
        await run_job(demo_client(league), sessions, lambda i: i.ingest_nickname(nickname))
    assert expected.lower() in str(error.value).lower()
    assert not any(snapshot(engine).values())


async def test_revoked_key_is_explained_and_writes_nothing(
    league: League, engine: Engine, sessions: sessionmaker[Session]
) -> None:
    from core.faceit import Unauthorized

    nickname = league.players_frame()["nickname"][0]
    with pytest.raises(Unauthorized, match="API key is missing, revoked or wrong") as error:
        await run_job(
            demo_client(league, api_key="revoked"), sessions, lambda i: i.ingest_nickname(nickname)
        )
    assert "revoked" not in str(error.value).split("with HTTP")[0]
    assert not any(snapshot(engine).values())


async def test_player_with_zero_matches(engine: Engine, sessions: sessionmaker[Session]) -> None:
    profile = {
        "player_id": "0d4e5a09-97b9-4f0a-8d54-bb90444b8052",
        "nickname": "Newcomer",
        "country": "fr",
        "avatar": "",
        "games": {
            "cs2": {
                "region": "EU",
                "skill_level": 3,
                "faceit_elo": 800,
                "game_player_id": "1",
                "game_player_name": "Newcomer",
            }
        },
    }

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/history"):
            return httpx.Response(200, json={"items": [], "start": 0, "end": 0, "from": 0, "to": 0})
        return httpx.Response(200, json=profile)

    client = demo_client(None, transport=httpx.MockTransport(handler))  # type: ignore[arg-type]
    summary: IngestSummary = await run_job(
        client, sessions, lambda i: i.ingest_nickname("Newcomer")
    )
    assert summary.messages == ["Newcomer has no CS2 matches on FACEIT yet."]
    data = snapshot(engine)
    assert [row[1] for row in data["players"]] == ["Newcomer"]
    assert not data["matches"] and not data["match_players"]


async def test_players_ingested_concurrently_equal_one_by_one(
    league: League,
    engine: Engine,
    sessions: sessionmaker[Session],
    reference_sessions: sessionmaker[Session],
) -> None:
    await ingest_league(league, reference_sessions)
    nicknames = list(league.players_frame()["nickname"])
    summary = await run_job(
        demo_client(league),
        sessions,
        lambda i: i.ingest_nicknames([*nicknames, "NoSuchPlayer_x"]),
        roster_depth=0,
        concurrency=6,
    )
    assert snapshot(engine) == snapshot(reference_sessions.kw["bind"])
    assert summary.failed == ["NoSuchPlayer_x"]
    assert any("No FACEIT player is called 'NoSuchPlayer_x'" in m for m in summary.messages)
