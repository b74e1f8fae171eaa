"""Improvement plan: peer percentiles, win/loss drivers, Elo forecast."""

from __future__ import annotations

import polars as pl
import pytest

from core.cs2 import elo_level
from core.demo_league import League
from models import features, playstyle, ratings
from models import improvement as imp


def test_plan(league_history: pl.DataFrame, small_league: League) -> None:
    player = small_league.player_ids[3]
    plan = imp.improvement_plan(player, league_history)
    assert 1 <= plan["level"] <= 10
    stats = plan["percentiles"]["stats"]
    assert set(stats) == set(imp.HEADLINE) <= set(features.PEER_STATS)
    assert all(v["percentile"] is None or 0 <= v["percentile"] <= 100 for v in stats.values())
    assert plan["drivers"] and abs(plan["drivers"][0]["smd"]) >= abs(plan["drivers"][-1]["smd"])
    assert plan["focus"]
    fc = plan["forecast"]
    assert len(fc["p50"]) == 20
    assert all(a <= b <= c for a, b, c in zip(fc["p10"], fc["p50"], fc["p90"], strict=True))


def test_forecast_even_lobby() -> None:
    fc = imp.elo_forecast(1500, 0.5, simulations=2000, seed=1)
    assert fc["p50"][-1] == pytest.approx(1500, abs=50)
    assert fc["p90"][-1] - fc["p10"][-1] > 100
    winning = imp.elo_forecast(1500, 0.7, seed=1)
    assert winning["expected_change"] > 150
    assert elo_level([500, 501, 2001, 100]).tolist() == [1, 2, 10, 1]


def test_every_peer_comparison_reads_the_peer_tables_stats() -> None:
    rated = {stat for _label, _what, parts in ratings.RATINGS.values() for stat in parts}
    assert rated <= set(features.PEER_STATS)
    assert set(playstyle.RATES) <= set(features.PEER_STATS)
    assert set(features.PEER_STATS) <= set(features.RATIO_METRICS)
    assert ratings.RATING_WINDOW == features.PEER_WINDOW
