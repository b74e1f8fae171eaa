"""The one match history (models.history) loaded from a real database (SQLite and PostgreSQL),
and the dashboards' stats computed from it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import polars as pl
import pytest
from sqlalchemy.orm import Session, sessionmaker

from core.db.schema import EloHistory, Match, MatchPlayer, Player
from models import features as F
from models import history

T0 = datetime(2025, 3, 1, 18, 30, tzinfo=UTC)


def _mp(match_id: str, player_id: str, **kw: object) -> MatchPlayer:
    base: dict[str, object] = {
        "match_id": match_id,
        "player_id": player_id,
        "nickname": player_id.upper(),
        "faction": "faction1",
        "result": True,
        "kills": 20,
        "deaths": 10,
        "assists": 3,
        "headshots": 10,
        "headshots_pct": 50.0,
        "mvps": 2,
        "kd_ratio": 2.0,
        "kr_ratio": 0.8,
        "double_kills": 2,
        "triple_kills": 1,
        "quadro_kills": 0,
        "penta_kills": 0,
    }
    base.update(kw)
    return MatchPlayer(**base)


def seed(session: Session) -> None:
    session.add_all([Player(id="p1", nickname="One"), Player(id="p2", nickname="Two")])
    session.add_all(
        [
            Match(id="m1", map="de_mirage", rounds=25, finished_at=T0, score="13 / 12",
                  faction1_score=13, faction2_score=12, winner_faction="faction1"),
            Match(id="m2", map="de_nuke", rounds=20, finished_at=T0 + timedelta(days=1),
                  score="8 / 12", faction1_score=8, faction2_score=12, winner_faction="faction2"),
            Match(id="m3", map="de_inferno", rounds=16, finished_at=T0 - timedelta(days=1),
                  score="13 / 3", faction1_score=13, faction2_score=3, winner_faction="faction1"),
        ]
    )  # fmt: skip
    session.flush()
    session.add_all(
        [
            _mp("m1", "p1", finished_at=T0, map="de_mirage", damage=2500, adr=100.0,
                entry_count=5, entry_wins=3, sniper_kills=4),
            # no per-player time or map: taken from the match; no extended stats
            _mp("m2", "p1", result=False, kills=8, deaths=15),
            _mp("m3", "p1", finished_at=T0 - timedelta(days=1), map="de_inferno"),
            _mp("m1", "p2", faction="faction2", result=False, kills=12, deaths=18),
            _mp("m3", "other", faction="faction2", result=False),
        ]
    )  # fmt: skip
    session.add_all(
        [
            EloHistory(player_id="p1", match_id="m3", elo=1500,
                       recorded_at=T0 - timedelta(days=1)),
            EloHistory(player_id="p1", match_id="m1", elo=1520, recorded_at=T0),
            EloHistory(player_id="p1", match_id="m2", elo=1505, recorded_at=T0 + timedelta(days=1),
                       estimated=True),
        ]
    )  # fmt: skip


def test_history_from_the_database(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        seed(session)
    with sessions() as session:
        frame = history.load(session, ["p1", "p2", "p1"])
        lobby = history.load(session, matches=["m1"])
        everything = history.load(session)
        elo = history.load_elo(session, ["p1", "p2"])
        watermark = history.data_watermark(session, "p1")
        assert history.data_watermark(session, "nobody") is None
        assert history.load(session, []).schema == pl.Schema(history.HISTORY_SCHEMA)
        narrow = history.load(session, ["p1", "p2"], columns=["kills", "damage", "map"])
        with pytest.raises(ValueError, match="not columns of the match history"):
            history.load(session, columns=["kills", "password"])

    assert frame.schema == pl.Schema(history.HISTORY_SCHEMA)
    # a projection is the same frame with only those columns (and the keys and time)
    assert narrow.columns == ["player_id", "match_id", "ts", "map", "kills", "damage"]
    assert narrow.equals(frame.select(narrow.columns))
    assert lobby.schema == everything.schema == frame.schema
    assert frame.select("player_id", "match_id").rows() == [
        ("p1", "m3"),
        ("p1", "m1"),
        ("p1", "m2"),
        ("p2", "m1"),
    ]
    # by match: every player of it; no filter: every row
    assert sorted(lobby["player_id"]) == ["p1", "p2"]
    assert everything.height == 5
    assert frame["finished_at"].to_list() == [
        T0 - timedelta(days=1),
        T0,
        T0 + timedelta(days=1),
        T0,
    ]
    assert frame["finished_at"].dtype == pl.Datetime("us", "UTC")
    assert frame["ts"].to_list() == [int(t.timestamp()) for t in frame["finished_at"]]
    assert frame["team"].to_list() == [1, 1, 1, 2]
    assert frame["elo_after"].to_list() == [1500, 1520, 1505, None]
    assert frame["extended"].to_list() == [False, True, False, False]
    m2 = frame.row(2, named=True)
    assert m2["map"] == "de_nuke"  # from matches
    assert m2["rounds"] == 20
    assert m2["score"] == "8 / 12" and m2["winner_faction"] == "faction2"
    assert m2["result"] is False and m2["kills"] == 8
    assert m2["damage"] is None and m2["adr"] is None
    m1 = frame.row(1, named=True)
    assert (m1["damage"], m1["adr"], m1["entry_count"], m1["sniper_kills"]) == (2500, 100.0, 5, 4)
    assert (m1["faction1_score"], m1["faction2_score"]) == (13, 12)

    assert elo.schema == pl.Schema(history.ELO_SCHEMA)
    assert elo["elo"].to_list() == [1500, 1520, 1505]
    assert elo["estimated"].to_list() == [False, False, True]
    assert elo["recorded_at"][0] == T0 - timedelta(days=1)

    assert watermark == T0 + timedelta(days=1)
    mine = frame.filter(pl.col("player_id") == "p1")
    summary = F.player_summary(mine, elo_history=elo.filter(pl.col("player_id") == "p1"))
    maps = F.map_stats(mine)
    rolling = F.rolling_form(mine)
    row = summary.row(0, named=True)
    assert row["matches_lifetime"] == 3
    assert row["kd_lifetime"] == pytest.approx(48 / 35)
    assert row["adr_lifetime"] == pytest.approx(100.0)
    assert row["elo_current"] == 1505
    assert row["elo_trend"] == pytest.approx(2.5)  # (1500, 1520, 1505): slope 5/2
    assert row["current_streak"] == -1 and row["longest_win_streak"] == 2
    assert maps.height == 3 and rolling.height == 3
