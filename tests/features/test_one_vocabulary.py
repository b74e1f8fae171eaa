"""Property: for any history mixing extended and legacy matches, every analysis that shows a
player's K/D, ADR, HS% or kills per round shows the same number, and it is the documented
ratio of sums (a stat a match did not record is out of its numerator and denominator)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from models import features, improvement, playstyle
from models.history import HISTORY_SCHEMA

START = datetime(2024, 6, 1, tzinfo=UTC)

match_rows = st.lists(
    st.tuples(
        st.integers(0, 2),  # player
        st.booleans(),  # extended stats recorded
        st.integers(1, 40),  # rounds
        st.integers(0, 40),  # kills
        st.integers(0, 40),  # deaths
        st.integers(0, 6000),  # damage (kept only when extended)
        st.floats(0, 1),  # share of kills that are headshots
    ),
    min_size=1,
    max_size=40,
)


def history_of(rows: list[tuple[int, bool, int, int, int, int, float]]) -> pl.DataFrame:
    data: dict[str, list[object]] = {c: [] for c in HISTORY_SCHEMA}
    for i, (player, extended, rounds, kills, deaths, damage, hs) in enumerate(rows):
        values: dict[str, object] = dict.fromkeys(HISTORY_SCHEMA)
        values |= {
            "player_id": f"p{player}",
            "match_id": f"m{i}",
            "finished_at": START + timedelta(hours=i),
            "ts": int((START + timedelta(hours=i)).timestamp()),
            "rounds": rounds,
            "result": i % 2 == 0,
            "faction": "faction1",
            "team": 1,
            "extended": extended,
            "kills": kills,
            "deaths": deaths,
            "assists": 0,
            "headshots": int(kills * hs),
            "double_kills": 0,
            "triple_kills": 0,
            "quadro_kills": 0,
            "penta_kills": 0,
        }
        if extended:
            values |= {"damage": damage, "entry_count": 1, "entry_wins": 0}
        for c in HISTORY_SCHEMA:
            data[c].append(values[c])
    return pl.DataFrame(data, schema=HISTORY_SCHEMA)


def by_hand(rows: list[tuple[int, bool, int, int, int, int, float]], player: int) -> dict:
    mine = [r for r in rows if r[0] == player]
    kills = sum(r[3] for r in mine)
    deaths = sum(r[4] for r in mine)
    ext = [r for r in mine if r[1]]
    ext_rounds = sum(r[2] for r in ext)
    headshots = sum(int(r[3] * r[6]) for r in mine)
    return {
        "kd": kills / deaths if deaths else None,
        "adr": sum(r[5] for r in ext) / ext_rounds if ext_rounds else None,
        "hs_pct": 100 * headshots / kills if kills else None,
        "kpr": kills / sum(r[2] for r in mine),
    }


def approx(value: float | None) -> object:
    return None if value is None else pytest.approx(value)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(match_rows)
def test_every_analysis_shows_the_same_stat(rows: list) -> None:
    frame = history_of(rows)
    dashboard = features.player_summary(frame, windows=())
    plan = improvement.player_stats(frame, last=None)
    style = playstyle.player_rates(frame, min_matches=1)
    for player in sorted({r[0] for r in rows}):
        pid = f"p{player}"
        want = by_hand(rows, player)
        shown = {
            "dashboard": dashboard.filter(pl.col("player_id") == pid).row(0, named=True),
            "plan": plan.filter(pl.col("player_id") == pid).row(0, named=True),
            "playstyle": style.filter(pl.col("player_id") == pid).row(0, named=True),
        }
        d = shown["dashboard"]
        assert d["kd_lifetime"] == approx(want["kd"])
        assert d["adr_lifetime"] == approx(want["adr"])
        assert d["hs_pct_lifetime"] == approx(want["hs_pct"])
        assert d["kpr_lifetime"] == approx(want["kpr"])
        for stat in ("kd", "adr", "hs_pct", "kpr"):
            assert shown["plan"][stat] == approx(want[stat]), stat
        for stat in ("adr", "hs_pct", "kpr"):
            assert shown["playstyle"][stat] == approx(want[stat]), stat
