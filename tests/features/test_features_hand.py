"""Feature sets against numbers worked out by hand on tiny fixtures."""

from __future__ import annotations

import math
from datetime import UTC, datetime

import polars as pl
import pytest

from models import features as F
from models.history import HISTORY_SCHEMA

T1 = datetime(2025, 1, 1, 12, tzinfo=UTC)
T2 = datetime(2025, 1, 2, 12, tzinfo=UTC)
T3 = datetime(2025, 1, 3, 12, tzinfo=UTC)

EXT = (
    "damage",
    "entry_count",
    "entry_wins",
    "one_v_one_count",
    "one_v_one_wins",
    "one_v_two_count",
    "one_v_two_wins",
    "utility_count",
    "utility_successes",
    "utility_damage",
    "flash_count",
    "flash_successes",
    "enemies_flashed",
    "sniper_kills",
)


def _row(pid: str, mid: str, t: datetime, map_: str, rounds: int, won: bool, **stats: int | None):
    base = {
        "player_id": pid,
        "match_id": mid,
        "finished_at": t,
        "map": map_,
        "rounds": rounds,
        "result": won,
        "kills": 0,
        "deaths": 0,
        "headshots": 0,
        "double_kills": 0,
        "triple_kills": 0,
        "quadro_kills": 0,
        "penta_kills": 0,
        **dict.fromkeys(EXT),
    }
    base.update(stats)
    return base


# fmt: off
ROWS = [
    # a, match 1: 20 rounds, 20-10, 2x2K + 1x3K, ADR 100, won
    _row(
        "a",
        "m1",
        T1,
        "de_mirage",
        20,
        True,
        kills=20,
        deaths=10,
        headshots=10,
        double_kills=2,
        triple_kills=1,
        damage=2000,
        entry_count=4,
        entry_wins=2,
        one_v_one_count=1,
        one_v_one_wins=1,
        one_v_two_count=2,
        one_v_two_wins=0,
        utility_count=10,
        utility_successes=5,
        utility_damage=100,
        flash_count=6,
        flash_successes=3,
        enemies_flashed=8,
        sniper_kills=5,
    ),
    # a, match 2: 25 rounds, 10-20, 1x2K, no extended stats, lost
    _row(
        "a", "m2", T2, "de_mirage", 25, False, kills=10, deaths=20, headshots=5, double_kills=1
    ),
    # a, match 3: 30 rounds, 30-15, 3x2K 2x3K 1x4K, ADR 100, won
    _row(
        "a",
        "m3",
        T3,
        "de_inferno",
        30,
        True,
        kills=30,
        deaths=15,
        headshots=12,
        double_kills=3,
        triple_kills=2,
        quadro_kills=1,
        damage=3000,
        entry_count=6,
        entry_wins=3,
        one_v_one_count=2,
        one_v_one_wins=1,
        one_v_two_count=1,
        one_v_two_wins=1,
        utility_count=10,
        utility_successes=3,
        utility_damage=200,
        flash_count=4,
        flash_successes=1,
        enemies_flashed=2,
        sniper_kills=0,
    ),
    # b: one aborted match with 0 rounds, 0-0, lost
    _row("b", "m4", T1, "de_nuke", 0, False),
]
# fmt: on

# Per-match ratings, by the documented formula (1K = kills - 2*2K - 3*3K - 4*4K - 5*5K):
# m1: 1K = 20-4-3 = 13, multikill sum = 13 + 4*2 + 9*1 = 30
R1 = (20 / 20 / 0.679 + 0.7 * (10 / 20) / 0.317 + 30 / 20 / 1.277 + 100 / 75) / 3.7
# m2: 1K = 10-2 = 8, multikill sum = 8 + 4 = 12, no ADR -> divide by 2.7
R2 = (10 / 25 / 0.679 + 0.7 * (5 / 25) / 0.317 + 12 / 25 / 1.277) / 2.7
# m3: 1K = 30-6-6-4 = 14, multikill sum = 14 + 12 + 18 + 16 = 60
R3 = (30 / 30 / 0.679 + 0.7 * (15 / 30) / 0.317 + 60 / 30 / 1.277 + 100 / 75) / 3.7


def frame() -> pl.DataFrame:
    schema = {c: HISTORY_SCHEMA[c] for c in ROWS[0]}
    # deliberately shuffled: every entry point must sort by time itself
    return pl.DataFrame([ROWS[2], ROWS[3], ROWS[0], ROWS[1]], schema=schema)


def test_match_ratings_by_hand() -> None:
    out = F.match_ratings(frame())
    got = dict(zip(out["match_id"], out["rating"], strict=True))
    assert got["m1"] == pytest.approx(R1)
    assert got["m2"] == pytest.approx(R2)
    assert got["m3"] == pytest.approx(R3)
    assert got["m4"] is None  # zero rounds
    assert out["match_id"].to_list() == ["m3", "m4", "m1", "m2"]  # row order kept
    assert abs(R1 - 5.08481 / 3.7) < 1e-4  # 1.47275 + 1.10410 + 1.17463 + 1.33333
    assert abs(R2 - 1.40662 / 2.7) < 1e-4  # 0.58910 + 0.44164 + 0.37588


def test_player_summary_by_hand() -> None:
    elo = pl.DataFrame(
        {
            "player_id": ["a"] * 4,
            "recorded_at": [T1, T2, T3, datetime(2025, 1, 4, tzinfo=UTC)],
            "elo": [1000, 1020, 1010, 1040],
        }
    )
    s = F.player_summary(frame(), windows=(2, 10), elo_history=elo, elo_window=4)
    assert s.schema == F.summary_schema((2, 10))
    assert s["player_id"].to_list() == ["a", "b"]
    a = s.row(0, named=True)
    b = s.row(1, named=True)
    expected_a = {
        "matches_lifetime": 3,
        "kd_lifetime": 60 / 45,
        "kpr_lifetime": 60 / 75,
        "dpr_lifetime": 45 / 75,
        "adr_lifetime": 5000 / 50,  # only matches with damage, in both sums
        "hs_pct_lifetime": 100 * 27 / 60,
        "win_rate_lifetime": 2 / 3,
        "mk2_per_round_lifetime": 6 / 75,
        "mk3_per_round_lifetime": 3 / 75,
        "mk4_per_round_lifetime": 1 / 75,
        "mk5_per_round_lifetime": 0.0,
        "multikill_per_round_lifetime": 10 / 75,
        "entry_rate_lifetime": 10 / 50,
        "entry_success_lifetime": 5 / 10,
        "clutch_1v1_win_rate_lifetime": 2 / 3,
        "clutch_1v2_win_rate_lifetime": 1 / 3,
        "utility_dpr_lifetime": 300 / 50,
        "utility_success_rate_lifetime": 8 / 20,
        "flash_success_rate_lifetime": 4 / 10,
        "enemies_flashed_pr_lifetime": 10 / 50,
        "sniper_share_lifetime": 5 / 50,
        "rating_lifetime": (R1 + R2 + R3) / 3,
        # last 2 matches = m2, m3
        "matches_last2": 2,
        "kd_last2": 40 / 35,
        "kpr_last2": 40 / 55,
        "adr_last2": 3000 / 30,
        "win_rate_last2": 1 / 2,
        "entry_success_last2": 3 / 6,
        "sniper_share_last2": 0.0,
        "rating_last2": (R2 + R3) / 2,
        "matches_last10": 3,
        "kd_last10": 60 / 45,
        # player level
        "current_streak": 1,
        "longest_win_streak": 1,
        "elo_trend": 11.0,  # least squares over (0,1000) (1,1020) (2,1010) (3,1040)
        "elo_current": 1040,
    }
    for col, want in expected_a.items():
        assert a[col] == pytest.approx(want), col
    mean = (R1 + R2 + R3) / 3
    std = math.sqrt(((R1 - mean) ** 2 + (R2 - mean) ** 2 + (R3 - mean) ** 2) / 2)
    assert a["consistency_lifetime"] == pytest.approx(std)
    alpha = 2 / 11  # FORM_SPAN = 10
    w = [(1 - alpha) ** 2, 1 - alpha, 1.0]
    assert a["form"] == pytest.approx((w[0] * R1 + w[1] * R2 + w[2] * R3) / sum(w))
    assert a["last_match_at"] == T3
    # b: zero rounds and zero deaths -> null, never inf/NaN
    assert b["matches_lifetime"] == 1
    for col in (
        "kd_lifetime",
        "kpr_lifetime",
        "adr_lifetime",
        "hs_pct_lifetime",
        "rating_lifetime",
    ):
        assert b[col] is None, col
    assert b["rating_lifetime"] is None
    assert b["win_rate_lifetime"] == 0.0
    assert b["current_streak"] == -1
    assert b["longest_win_streak"] == 0
    assert b["form"] is None
    assert b["elo_trend"] is None
    assert s.select(pl.all().exclude("player_id", "last_match_at").is_nan().any()).row(0) == (
        False,
    ) * (s.width - 2)


def test_elo_trend_window_and_absence() -> None:
    elo = pl.DataFrame(
        {
            "player_id": ["a"] * 4,
            "recorded_at": [T1, T2, T3, datetime(2025, 1, 4, tzinfo=UTC)],
            "elo": [1000, 1020, 1010, 1040],
        }
    )
    s = F.player_summary(frame(), windows=(), elo_history=elo, elo_window=3)
    assert s.filter(pl.col("player_id") == "a")["elo_trend"][0] == pytest.approx(10.0)
    assert F.player_summary(frame())["elo_trend"].null_count() == 2


def test_map_stats_by_hand() -> None:
    m = F.map_stats(frame())
    assert m.schema == F.MAP_STATS_SCHEMA
    rows = {(r["player_id"], r["map"]): r for r in m.iter_rows(named=True)}
    mirage = rows[("a", "de_mirage")]
    assert (mirage["matches"], mirage["wins"]) == (2, 1)
    assert mirage["win_rate"] == 0.5
    assert mirage["kd"] == pytest.approx(30 / 30)
    assert mirage["adr"] == pytest.approx(2000 / 20)
    assert mirage["rating"] == pytest.approx((R1 + R2) / 2)
    inferno = rows[("a", "de_inferno")]
    assert (inferno["matches"], inferno["kd"], inferno["rating"]) == (1, 2.0, pytest.approx(R3))
    nuke = rows[("b", "de_nuke")]
    assert nuke["kd"] is None and nuke["adr"] is None and nuke["rating"] is None
    assert m["map"].to_list()[:2] == ["de_mirage", "de_inferno"]  # most played first


def test_rolling_form_by_hand() -> None:
    r = F.rolling_form(frame(), window=2)
    assert r.schema == F.ROLLING_FORM_SCHEMA
    a = r.filter(pl.col("player_id") == "a")
    assert a["match_id"].to_list() == ["m1", "m2", "m3"]
    assert a["rating_rolling"].to_list() == pytest.approx([R1, (R1 + R2) / 2, (R2 + R3) / 2])
    q = 1 - 2 / 11
    assert a["form"].to_list() == pytest.approx(
        [R1, (R2 + q * R1) / (1 + q), (R3 + q * R2 + q * q * R1) / (1 + q + q * q)]
    )
    b = r.filter(pl.col("player_id") == "b")
    assert b["rating"].to_list() == [None] and b["form"].to_list() == [None]


def test_percentile_is_the_share_below_with_half_the_ties() -> None:
    # peers 1, 2, 2, 3 (the player not among them)
    assert F.percentile(2.0, [1.0, 2.0, 2.0, 3.0]) == pytest.approx(100 * (1 + 0.5 * 2) / 4)
    assert F.percentile(0.5, [1.0, 2.0]) == 0.0
    assert F.percentile(9.0, [1.0, 2.0]) == 100.0
    # unknown values are no peers; no value or no peers: no percentile
    assert F.percentile(2.0, [1.0, float("nan"), 3.0]) == 50.0
    assert F.percentile(None, [1.0]) is None and F.percentile(1.0, []) is None


def test_missing_optional_columns_are_null() -> None:
    minimal = frame().select(F._REQUIRED)
    s = F.player_summary(minimal, windows=())
    a = s.row(0, named=True)
    assert a["kd_lifetime"] == pytest.approx(60 / 45)
    assert a["adr_lifetime"] is None and a["entry_rate_lifetime"] is None
    assert a["rating_lifetime"] is not None  # multi-kill counts missing -> all kills are 1K
