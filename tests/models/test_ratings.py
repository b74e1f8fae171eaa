"""0-100 ratings against a hand-computed small league, legacy matches included, through the
peer table's lookup (models.peers, built in memory here)."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from statistics import mean, stdev
from typing import Any

import polars as pl
import pytest

from models import peers
from models.history import HISTORY_SCHEMA
from models.ratings import player_ratings, to_scale
from models.results import PlayerRatings

T0 = datetime(2025, 1, 1, tzinfo=UTC)
EXTENDED = (
    "damage",
    "utility_damage",
    "flash_successes",
    "enemies_flashed",
    "entry_count",
    "entry_wins",
    "one_v_one_count",
    "one_v_one_wins",
    "one_v_two_count",
    "one_v_two_wins",
)


def row(player: str, n: int, kills: int, hs: int, assists: int, *ext: int) -> dict[str, Any]:
    """A 20-round match; ``ext`` the extended counts in EXTENDED order, none for a legacy one."""
    at = T0 + timedelta(hours=n)
    out: dict[str, Any] = {
        "player_id": player,
        "match_id": f"{player}-{n}",
        "finished_at": at,
        "ts": int(at.timestamp()),
        "rounds": 20,
        "result": n % 2 == 0,
        "kills": kills,
        "deaths": 10,
        "headshots": hs,
        "assists": assists,
        "extended": bool(ext),
    }
    out.update(dict(zip(EXTENDED, ext, strict=False)))
    return out


ROWS = [
    # me: one legacy match (no extended stats) and one extended match
    row("me", 1, 10, 5, 3),
    row("me", 2, 14, 9, 5, 1800, 200, 6, 10, 6, 4, 2, 2, 1, 1),
    row("p1", 1, 10, 4, 2, 1400, 100, 2, 4, 4, 2, 2, 1, 1, 0),
    row("p2", 1, 12, 6, 4, 1600, 120, 4, 6, 5, 2, 2, 1, 2, 1),
    row("p3", 1, 15, 9, 6, 1800, 140, 4, 8, 6, 3, 4, 2, 2, 0),
    row("p4", 1, 12, 6, 4, 1600, 160, 6, 10, 5, 3, 2, 2, 1, 1),
    row("old", 1, 8, 2, 1),  # level 5 too, legacy matches only
    row("far", 1, 30, 30, 20, 5000, 900, 20, 30, 15, 15, 5, 5, 5, 5),  # level 9
]
LEVELS = {"me": 5, "p1": 5, "p2": 5, "p3": 5, "p4": 5, "old": 5, "far": 9}
HISTORY = pl.DataFrame(ROWS, schema=HISTORY_SCHEMA)


def rate(
    player: str,
    frame: pl.DataFrame,
    levels: dict[str, int],
    min_peers: int,
    regions: dict[str, str] | None = None,
) -> PlayerRatings:
    roster = {p: (lv, (regions or {}).get(p)) for p, lv in levels.items()}
    table = peers.build_table(frame, roster)
    return player_ratings(peers.benchmarks(table, player, min_peers=min_peers))


def z(value: float, values: list[float]) -> float:
    return (value - mean(values)) / stdev(values)


def phi100(zv: float) -> int:
    return round(50 * (1 + math.erf(zv / math.sqrt(2))))


# the peers' values by hand: p1..p4, then old where the stat is a basic one
HS = [40.0, 50.0, 60.0, 50.0, 25.0]
KPR = [0.5, 0.6, 0.75, 0.6, 0.4]
ADR = [70.0, 80.0, 90.0, 80.0]
UTIL = [5.0, 6.0, 7.0, 8.0]
FLASH_OK = [0.1, 0.2, 0.2, 0.3]
FLASHED = [0.2, 0.3, 0.4, 0.5]
ENTRY_RATE = [0.2, 0.25, 0.3, 0.25]
ENTRY_WON = [0.5, 0.4, 0.5, 0.6]
V1 = [0.5, 0.5, 0.5, 1.0]
V2 = [0.0, 0.5, 0.0, 1.0]
APR = [0.1, 0.2, 0.3, 0.2, 0.05]


def by_key(ratings: Any) -> dict[str, Any]:
    return {r.key: r for r in ratings.ratings}


def test_the_scale_maps_z_through_the_normal_cdf() -> None:
    assert [to_scale(v) for v in (0.0, 1.0, -1.0, 2.0, -2.0)] == [50, 84, 16, 98, 2]


def test_ratings_by_hand_with_a_legacy_match() -> None:
    result = rate("me", HISTORY, LEVELS, 4)
    assert result.level == 5 and result.matches == 2
    r = by_key(result)
    # me over both matches: HS% and K/R count the legacy match, ADR only the extended one
    aim_z = mean([z(100 * 14 / 24, HS), z(24 / 40, KPR), z(1800 / 20, ADR)])
    assert r["aim"].z == pytest.approx(aim_z)
    assert r["aim"].rating == phi100(aim_z)
    assert [s.peers for s in r["aim"].stats] == [5, 5, 4]  # old has no ADR; far is level 9
    assert r["aim"].peers == 4
    util_z = mean([z(10.0, UTIL), z(0.3, FLASH_OK), z(0.5, FLASHED)])
    assert r["utility"].z == pytest.approx(util_z)
    assert r["utility"].rating == phi100(util_z)
    open_z = mean([z(6 / 20, ENTRY_RATE), z(4 / 6, ENTRY_WON)])
    assert r["opening"].rating == phi100(open_z)
    clutch_z = mean([z(1.0, V1), z(1.0, V2)])
    assert r["clutching"].rating == phi100(clutch_z)
    # 8 assists in 40 rounds: 0.2 against a mean of 0.17
    assert r["support"].z == pytest.approx(z(0.2, APR))
    assert r["support"].rating == phi100(z(0.2, APR)) and r["support"].peers == 5
    for rating in r.values():
        assert rating.explanation.startswith(f"{rating.label} {rating.rating}:")
        assert f"level-5 average (50), against {rating.peers} players." in rating.explanation


def test_a_stat_with_too_few_peers_is_not_rated() -> None:
    r = by_key(rate("me", HISTORY, LEVELS, 5))
    aim = {s.stat: s for s in r["aim"].stats}
    assert aim["adr"].z is None and aim["adr"].peers == 4
    assert r["aim"].z == pytest.approx(mean([z(100 * 14 / 24, HS), z(24 / 40, KPR)]))
    assert r["utility"].rating is None and r["utility"].peers == 0
    assert "not rated" in r["utility"].explanation


def test_a_player_with_only_legacy_matches_has_no_extended_ratings() -> None:
    r = by_key(rate("old", HISTORY, LEVELS, 4))
    assert r["utility"].rating is None and r["opening"].rating is None
    assert r["aim"].rating is not None  # HS% and K/R are basic stats
    assert {s.stat: s.value for s in r["aim"].stats}["adr"] is None


def test_the_level_average_player_rates_50() -> None:
    avg = row("avg", 1, 12, 6, 4, 1600, 130, 4, 7, 5, 2, 2, 1, 1, 0)
    frame = pl.DataFrame([*ROWS[2:6], avg], schema=HISTORY_SCHEMA)
    levels = {"p1": 5, "p2": 5, "p3": 5, "p4": 5, "avg": 5}
    r = by_key(rate("avg", frame, levels, 4))
    # ADR 80, utility damage 6.5/round, enemies flashed 0.35: the peers' means exactly
    adr = {s.stat: s for s in r["aim"].stats}["adr"]
    assert adr.z == pytest.approx(0.0) and adr.peer_mean == pytest.approx(80.0)
    assert {s.stat: s.z for s in r["utility"].stats}["utility_dpr"] == pytest.approx(0.0)


def test_a_region_with_too_few_players_falls_back_to_the_level() -> None:
    near = [row(f"n{i}", 1, 10 + i, 5, 2) for i in range(3)]
    frame = pl.DataFrame([row("me", 1, 10, 5, 3), *near, ROWS[-1]], schema=HISTORY_SCHEMA)
    levels = {"me": 5, "n0": 5, "n1": 5, "n2": 5, "far": 9}
    regions = {"me": "EU", "n0": "EU", "n1": "NA", "n2": "NA", "far": "EU"}
    result = rate("me", frame, levels, 1, regions)
    assert (result.group, result.peers) == ("level-5 EU", 1)
    assert by_key(result)["aim"].stats[0].peers == 1
    result = rate("me", frame, levels, 3, regions)
    assert (result.group, result.peers, result.versus) == ("level-5", 3, "vs 3 level-5 players")
    assert by_key(result)["support"].peers == 3
    assert "level-5 average" in by_key(result)["support"].explanation
    result = rate("me", frame, levels, 4, regions)
    assert result.group is None and all(r.rating is None for r in result.ratings)
