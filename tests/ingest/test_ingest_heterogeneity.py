"""Ingest stores the league's heterogeneity faithfully: a stat the API leaves out is NULL (never 0),
party membership per match-player, mid-season joiners with only their own matches."""

from __future__ import annotations

import numpy as np
import polars as pl
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker

from core.db.schema import MatchPlayer, Player
from core.demo_league import League
from core.demo_league import payloads as demo_payloads
from core.faceit import (
    EXTENDED_PLAYER_STAT_FIELDS,
    REQUIRED_PLAYER_STAT_FIELDS,
    HistoryMatch,
    MatchStats,
)
from core.ingest import match_rows
from tests.ingest.conftest import ingest_league


def _legacy_ids(league: League) -> list[str]:
    return [league.match_ids[int(m)] for m in np.flatnonzero(~league.extended)]


async def test_legacy_nulls_parties_and_joiners_are_stored_faithfully(
    league: League, engine: Engine, sessions: sessionmaker[Session]
) -> None:
    await ingest_league(league, sessions)
    legacy = _legacy_ids(league)
    assert 0 < len(legacy) < league.n_matches
    with engine.connect() as conn:

        def count(*where: object) -> int:
            query = select(func.count()).select_from(MatchPlayer).where(*where)  # type: ignore[arg-type]
            return int(conn.execute(query).scalar_one())

        is_legacy = MatchPlayer.match_id.in_(legacy)
        assert count(is_legacy) == 10 * len(legacy)
        for name in EXTENDED_PLAYER_STAT_FIELDS:
            column = getattr(MatchPlayer, name)
            assert count(is_legacy, column.is_not(None)) == 0, name
            assert count(~is_legacy, column.is_(None)) == 0, name
        for name in (*REQUIRED_PLAYER_STAT_FIELDS, "triple_kills", "premade"):
            assert count(getattr(MatchPlayer, name).is_(None)) == 0, name

        stored = pl.DataFrame(
            conn.execute(
                select(MatchPlayer.match_id, MatchPlayer.player_id, MatchPlayer.premade)
            ).all(),
            schema=["match_id", "player_id", "premade_db"],
            orient="row",
        )
    truth = league.match_players_frame().select("match_id", "player_id", "premade")
    joined = truth.join(stored, on=["match_id", "player_id"])
    assert joined.height == truth.height
    assert joined["premade"].to_list() == joined["premade_db"].to_list()
    assert joined["premade"].sum() >= 5, "the league's party played as a premade"

    # mid-season joiners: a full profile, and only the matches since they joined
    joiners = np.flatnonzero(league.joined_at > league.start_ts)
    assert joiners.size
    with engine.connect() as conn:
        for p in joiners:
            pid = league.player_ids[int(p)]
            assert conn.execute(select(Player.faceit_elo).where(Player.id == pid)).scalar_one()
            n, first = conn.execute(
                select(func.count(), func.min(MatchPlayer.finished_at)).where(
                    MatchPlayer.player_id == pid
                )
            ).one()
            assert n == len(league.player_matches(int(p))[0])
            if n:
                assert first.timestamp() > league.joined_at[p]


def test_left_out_keys_become_null_rows_not_zero(league: League) -> None:
    """A scoreboard that leaves out a multi-kill or the premade flag: None in the row."""
    m = int(np.flatnonzero(league.premade.any(1) & league.extended)[0])
    f = int(np.argmax(league.premade[m]))
    history = HistoryMatch.model_validate(demo_payloads.history_item(league, m))
    raw = demo_payloads.match_stats(league, m)
    for team in raw["rounds"][0]["teams"]:
        del team["premade"]  # falls back to the history's team type
        for player in team["players"]:
            del player["player_stats"]["Triple Kills"]
    _, rows = match_rows(history, MatchStats.model_validate(raw))
    assert all(r["triple_kills"] is None for r in rows)
    assert all(r["double_kills"] is not None for r in rows)
    premade = {r["player_id"]: r["premade"] for r in rows}
    members = {league.player_ids[int(x)] for x in league.mp_player[m, f * 5 : f * 5 + 5]}
    assert {pid for pid, is_premade in premade.items() if is_premade} == members
    history.teams.clear()  # neither payload says: unknown stays unknown
    _, rows = match_rows(history, MatchStats.model_validate(raw))
    assert {r["premade"] for r in rows} == {None}
