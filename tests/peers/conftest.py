"""A small demo league written straight into a migrated database (ingestion is tested in
tests/ingest; here only the stored rows matter), and the brute-force peer comparison the peer
table must agree with."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import numpy as np
import polars as pl
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from core import crud, store
from core.db import transaction
from core.db.schema import Match, MatchPlayer, Player
from core.demo_league import League, generate_league
from models import features, history
from tests.utils.stored_history import matches_of, store_matches


@pytest.fixture(scope="session")
def peer_league() -> League:
    # 1,400 days: about 40% of the matches are legacy ones (no extended stats), so most
    # players' last 50 matches (of ~50 each) mix both kinds
    return generate_league(120, 600, seed=23, span_days=1400)


LEGACY_ONLY = 12
"""The league's first players get only legacy matches (no extended stats at all), as a player
whose every game predates FACEIT's extended stats: in no extended stat's peers."""


def store_league(league: League, sessions: sessionmaker[Session]) -> None:
    frame = history.from_league(league)
    legacy = pl.col("player_id").is_in(league.player_ids[:LEGACY_ONLY])
    frame = frame.with_columns(
        pl.when(legacy).then(None).otherwise(pl.col(c)).alias(c)
        for c in (*history.EXTENDED_COUNTS, *history.EXTENDED_RATES)
    )
    players = league.players_frame()
    with transaction(sessions) as session:
        store.upsert_players(
            session,
            [
                {
                    "id": row["player_id"],
                    "nickname": row["nickname"],
                    "country": row["country"],
                    "region": row["region"],
                    "faceit_elo": int(row["faceit_elo"]),
                    "skill_level": int(row["skill_level"]),
                }
                for row in players.iter_rows(named=True)
            ],
        )
        store_matches(session, matches_of(frame), frame)


def add_match(
    sessions: sessionmaker[Session], player_id: str, *, kills: int = 40, after: int = 1
) -> str:
    """A new match of one player, ``after`` days after their latest (a big game: their stats
    move)."""
    with sessions() as session:
        newest = history.data_watermark(session, player_id)
    assert newest is not None
    at = newest + timedelta(days=after)
    match_id = f"new-{player_id[:8]}-{after}"
    with transaction(sessions) as session:
        session.add(
            Match(
                id=match_id,
                map="de_mirage",
                started_at=at - timedelta(minutes=40),
                finished_at=at,
                score="13 / 2",
                faction1_score=13,
                faction2_score=2,
                rounds=15,
                winner_faction="faction1",
            )
        )
        session.flush()
        session.add(
            MatchPlayer(
                match_id=match_id,
                player_id=player_id,
                faction="faction1",
                finished_at=at,
                map="de_mirage",
                result=True,
                kills=kills,
                deaths=3,
                assists=5,
                headshots=kills // 2,
                headshots_pct=50.0,
                mvps=5,
                kd_ratio=kills / 3,
                kr_ratio=kills / 15,
                damage=kills * 100,
                adr=kills * 100 / 15,
                entry_count=8,
                entry_wins=7,
                utility_damage=400,
                flash_count=10,
                flash_successes=8,
                enemies_flashed=12,
            )
        )
    return match_id


Brute = tuple[str | None, int, dict[str, tuple[float | None, int]]]


def brute_force(sessions: sessionmaker[Session], min_peers: int) -> dict[str, Brute]:
    """Per player: the group, its size and every peer stat's (percentile, peers), the long
    way: every stored history loaded, each player's last PEER_WINDOW matches, the group picked
    by hand (level and region, else level, else none), models.features.percentile."""
    with sessions() as session:
        frame = history.load(session, columns=features.INPUT_COLUMNS)
        places = {
            pid: (crud.level_of(level, elo), region)
            for pid, level, elo, region in session.execute(
                select(Player.id, Player.skill_level, Player.faceit_elo, Player.region)
            )
        }
    stats = features.window_stats(frame, features.PEER_WINDOW).to_dicts()
    out: dict[str, Brute] = {}
    for me in stats:
        player_id = me["player_id"]
        level, region = places[player_id]
        others = [r for r in stats if r["player_id"] != player_id]
        candidates: list[tuple[str, list[dict[str, Any]]]] = []
        if region:
            candidates.append(
                (
                    f"level-{level} {region}",
                    [r for r in others if places[r["player_id"]] == (level, region)],
                )
            )
        candidates.append(
            (f"level-{level}", [r for r in others if places[r["player_id"]][0] == level])
        )
        chosen = next(((n, rows) for n, rows in candidates if len(rows) >= min_peers), None)
        if chosen is None:
            out[player_id] = (None, 0, {s: (None, 0) for s in features.PEER_STATS})
            continue
        name, rows = chosen
        result = {}
        for stat in features.PEER_STATS:
            vals = [r[stat] for r in rows if r[stat] is not None and np.isfinite(r[stat])]
            result[stat] = (features.percentile(me[stat], vals), len(vals))
        out[player_id] = (name, len(rows), result)
    return out
