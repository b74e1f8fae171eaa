"""Elo per match, the level band, stats over time, streaks and tilt, against small histories
computed by hand (legacy matches without extended stats included), and the tilt verdict's
silence on noise."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import polars as pl
import pytest

from models import features, tilt
from models.elo import elo_changes, level_band, with_elo_changes
from models.history import ELO_SCHEMA, HISTORY_SCHEMA

START = datetime(2024, 7, 1, 18, 0, tzinfo=UTC)


def elo_points(values: list[tuple[int, bool]]) -> pl.DataFrame:
    return pl.DataFrame(
        [
            {
                "player_id": "p",
                "match_id": f"m{i}",
                "elo": elo,
                "recorded_at": START + timedelta(hours=i),
                "estimated": estimated,
            }
            for i, (elo, estimated) in enumerate(values)
        ],
        schema=ELO_SCHEMA,
    )


def test_each_match_gets_its_elo_change_and_estimated_points_stay_marked() -> None:
    points = elo_points([(1000, True), (1025, True), (1001, True), (1026, False), (1050, False)])
    out = elo_changes(points)
    assert out["change"].to_list() == [None, 25, -24, 25, 24]
    # a change is estimated when either of its two points is: only the last one is observed
    assert out["change_estimated"].to_list() == [True, True, True, True, False]
    assert out["estimated"].to_list() == [True, True, True, False, False]  # the points' own
    rows = [{"match_id": "m4"}, {"match_id": "m2"}, {"match_id": "m0"}, {"match_id": "gone"}]
    shown = with_elo_changes(rows, points)
    assert [(r["elo_change"], r["elo_estimated"]) for r in shown] == [
        (24, False),
        (-24, True),
        (None, False),
        (None, False),
    ]


def test_elo_changes_are_per_player() -> None:
    a = elo_points([(1000, False), (1025, False)])
    b = elo_points([(2000, False), (1980, False)]).with_columns(pl.lit("q").alias("player_id"))
    assert elo_changes(pl.concat([a, b]))["change"].to_list() == [None, 25, None, -20]


@pytest.mark.parametrize(
    ("elo", "level", "low", "high", "to_next", "to_previous"),
    [
        (100, 1, 0, 500, 401, None),
        (500, 1, 0, 500, 1, None),
        (501, 2, 501, 750, 250, 1),
        (1051, 5, 1051, 1200, 150, 1),
        (1200, 5, 1051, 1200, 1, 150),
        (2000, 9, 1751, 2000, 1, 250),
        (2001, 10, 2001, None, None, 1),
        (3400, 10, 2001, None, None, 1400),
    ],
)
def test_level_band_and_the_elo_to_the_next_and_previous_level(
    elo: int, level: int, low: int, high: int | None, to_next: int | None, to_previous: int | None
) -> None:
    band = level_band(elo)
    assert (band.level, band.low, band.high) == (level, low, high)
    assert (band.to_next, band.to_previous) == (to_next, to_previous)
    if to_next is not None:
        assert level_band(elo + to_next).level == level + 1
        assert level_band(elo + to_next - 1).level == level
    if to_previous is not None:
        assert level_band(elo - to_previous).level == level - 1
        assert level_band(elo - to_previous + 1).level == level


def history(rows: list[dict[str, object]]) -> pl.DataFrame:
    full = []
    for i, row in enumerate(rows):
        when = START + timedelta(minutes=int(row.pop("start_minute", 600 * i)))  # type: ignore[call-overload]
        full.append(
            {
                "player_id": "p",
                "match_id": f"m{i:03}",
                "started_at": when,
                "finished_at": when + timedelta(minutes=40),
                "ts": int(when.timestamp()),
                "rounds": 20,
                **row,
            }
        )
    return pl.DataFrame(full, schema_overrides={k: HISTORY_SCHEMA[k] for k in full[0]})


def mixed_era() -> pl.DataFrame:
    """Two legacy matches (no damage, no entries, no utility), then three extended ones."""
    rows: list[dict[str, object]] = []
    for i in range(5):
        extended = i >= 2
        rows.append(
            {
                "result": i % 2 == 0,
                "kills": 10 + i,
                "deaths": 10,
                "headshots": 5,
                "damage": 1600 + 100 * i if extended else None,
                "entry_count": 4 if extended else None,
                "entry_wins": i - 1 if extended else None,
                "utility_damage": 100 * i if extended else None,
            }
        )
    return history(rows)


def test_stats_over_time_are_ratios_of_sums_over_the_chosen_window() -> None:
    out = features.rolling_stats(mixed_era(), 3)
    assert out["match_id"].to_list() == [f"m{i:03}" for i in range(5)]
    # K/D over the last 3 matches: (10+11+12)/30, (11+12+13)/30, (12+13+14)/30
    assert out["kd"].to_list() == pytest.approx([1.0, 1.05, 1.1, 1.2, 1.3])
    assert out["kpr"].to_list() == pytest.approx([0.5, 0.525, 0.55, 0.6, 0.65])
    # HS%: 5 headshots a match over the window's kills
    assert out["hs_pct"].to_list() == pytest.approx(
        [50.0, 1000 / 21, 1500 / 33, 1500 / 36, 1500 / 39]
    )
    # ADR leaves the legacy matches out of damage AND rounds: m2 alone, then m2-m3, m2-m4
    assert out["adr"].to_list()[:2] == [None, None]
    assert out["adr"].to_list()[2:] == pytest.approx([1800 / 20, 3700 / 40, 5700 / 60])
    assert out["entry_success"].to_list()[2:] == pytest.approx([1 / 4, 3 / 8, 6 / 12])
    assert out["utility_dpr"].to_list()[2:] == pytest.approx([10.0, 12.5, 15.0])


@pytest.mark.parametrize("window", [1, 2, 3, 10])
def test_the_latest_point_is_the_last_n_window_of_the_vocabulary(window: int) -> None:
    frame = mixed_era()
    latest = features.rolling_stats(frame, window).row(-1, named=True)
    expected = features.window_stats(frame, last=window).row(0, named=True)
    for stat in features.TREND_STATS:
        assert latest[stat] == pytest.approx(expected[stat], nan_ok=True), stat


def test_a_window_below_one_match_is_refused() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        features.rolling_stats(mixed_era(), 0)


RESULTS = [True, False, False, True, False, False, False, True, False]


def results_history(results: list[bool], minutes: list[int] | None = None) -> pl.DataFrame:
    rows: list[dict[str, object]] = [
        {"result": won, "kills": 20 if won else 10, "deaths": 15} for won in results
    ]
    if minutes is not None:
        for row, minute in zip(rows, minutes, strict=True):
            row["start_minute"] = minute
    return history(rows)


def test_streaks_by_hand() -> None:
    assert tilt.streaks(RESULTS) == tilt.Streaks(current=-1, longest_win=1, longest_loss=3)
    assert tilt.streaks([True, True, True]) == tilt.Streaks(3, 3, 0)
    assert tilt.streaks([]) == tilt.Streaks(0, 0, 0)
    # the vocabulary's summary counts them the same way
    summary = features.player_summary(results_history(RESULTS)).row(0, named=True)
    assert (summary["current_streak"], summary["longest_win_streak"]) == (-1, 1)


def test_a_filtered_tilt_report_keeps_the_whole_historys_streaks() -> None:
    # A losses-only filter keeps 6 losses, which are not 6 losses in a row: the streaks are
    # runs of matches as played, so they stay the whole history's; the groups count kept ones.
    frame = results_history(RESULTS)
    losses = frame.filter(~pl.col("result"))["match_id"]
    report = tilt.tilt_report(frame, keep=losses)
    assert report.streaks == tilt.streaks(RESULTS) == tilt.Streaks(-1, 1, 3)
    assert {g.matches + g.other_matches for g in report.groups} == {losses.len()} == {6}


def test_losses_in_a_row_before_each_match_and_the_position_in_a_session() -> None:
    # matches last 40 minutes; starts 0, 50, 100 (gaps of 10 min), 300 (gap 160), 345 (gap 5),
    # 2000, 2045, 2090, 2135
    minutes = [0, 50, 100, 300, 345, 2000, 2045, 2090, 2135]
    frame = tilt.tilt_frame(results_history(RESULTS, minutes), session_minutes=60)
    assert frame["losses_before"].to_list() == [0, 0, 1, 2, 0, 1, 2, 3, 0]
    assert frame["session_position"].to_list() == [1, 2, 3, 1, 2, 1, 2, 3, 4]
    # with a 5-minute session gap every match starts a session of its own
    solo = tilt.tilt_frame(results_history(RESULTS, minutes), session_minutes=5)
    assert solo["session_position"].to_list() == [1] * 9


def test_small_groups_show_their_numbers_and_no_verdict() -> None:
    report = tilt.tilt_report(results_history(RESULTS))
    after_two = next(g for g in report.groups if g.label == "After 2 losses in a row")
    assert (after_two.matches, after_two.win_rate, after_two.other_matches) == (2, 0.5, 7)
    assert after_two.other_win_rate == pytest.approx(2 / 7)
    assert after_two.win_rate_interval is None and after_two.verdict is None
    assert report.verdicts == []


def simulated(seed: int, matches: int = 300, tilted: bool = False) -> pl.DataFrame:
    """A player who wins half their matches, with sessions; a tilted one wins a quarter after
    two losses in a row and frags less."""
    rng = np.random.default_rng(seed)
    rows: list[dict[str, object]] = []
    minute, losses = 0, 0
    for _ in range(matches):
        minute += int(rng.choice([45, 50, 300, 1500]))
        tilting = tilted and losses >= 2
        won = bool(rng.random() < (0.25 if tilting else 0.5))
        kills = int(rng.poisson(13 if tilting else 17))
        rows.append({"result": won, "kills": kills, "deaths": int(rng.poisson(17))})
        rows[-1]["start_minute"] = minute
        losses = 0 if won else losses + 1
        minute += 40
    return history(rows)


def test_a_player_with_no_tilt_gets_no_verdict_in_95_percent_of_seeds() -> None:
    spoken = [seed for seed in range(100) if tilt.tilt_report(simulated(seed)).verdicts]
    assert len(spoken) <= 5, spoken


def test_a_tilted_player_is_told() -> None:
    told = 0
    for seed in range(20):
        verdicts = tilt.tilt_report(simulated(seed, tilted=True)).verdicts
        told += any("losses in a row" in v and "less often" in v for v in verdicts)
    assert told >= 15
