"""The stats vocabulary: every per-player and per-match statistic the product shows or models.

This module is the only place where K/D, ADR, HS%, entry success and the other stats are
defined (:data:`RATIO_METRICS`). The dashboards, the improvement plan, playstyle, scouting,
compare and the API all select from it, so a stat reads the same everywhere.

Every entry point takes a *history frame* (one row per player per match,
:data:`models.history.HISTORY_SCHEMA`) and returns a new frame. Only a few columns are
required (``player_id``, ``match_id``, ``finished_at``, ``rounds``, ``result``, ``kills``,
``deaths``); every other stat column is optional: a missing column is treated as all-null.

Conventions shared by all feature sets
--------------------------------------
* Aggregates over several matches are **ratios of sums**, never means of per-match ratios:
  K/D over a window is ``sum(kills) / sum(deaths)``, ADR is ``sum(damage) / sum(rounds)``.
  The one exception is the performance rating (``rating_*``, ``form``, ``consistency``),
  which is a per-match composite and is averaged over matches.
* For a ratio ``num / den`` only the matches where *both* ``num`` and ``den`` are non-null
  contribute. An extended stat FACEIT did not record (matches before August 2024) is null in
  the history, so such a match is left out of that stat's numerator AND denominator: ADR over
  a window that mixes matches with and without extended stats uses only the matches that have
  damage, while K/D and HS% (basic stats) use every match.
* ``rounds <= 0`` is treated as missing (null), so those matches never count in per-round
  stats and get a null rating.
* A division whose denominator sums to 0 (or has no contributing match) is null, never
  ``inf``/``NaN``.
* Windows: ``lifetime`` is every match; ``lastN`` is the player's N most recent matches by
  ``finished_at`` (ties broken by ``match_id``), fewer if the player has fewer.
* Rates are fractions in ``[0, 1]``, except ``hs_pct_*`` which is a percentage (0-100), the
  way FACEIT shows it.
* A player's **kill share** is his kills over the kills his team is expected to make from the
  rounds it won and lost (:func:`expected_team_kills`, averages of core.cs2), so 0.2 is a fifth
  of his team's kills whatever the score; the **death share** likewise with the deaths
  (:func:`expected_team_deaths`). Both read only the player's own row (his team's score),
  so they need no teammate's stats.
* A percentile (:func:`percentile`) is the share of peers below the player's value, ties
  counted half, the player not among the peers; the peer count goes with it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import polars as pl

from core.cs2 import TEAM_KILLS_PER_ROUND_LOST, TEAM_KILLS_PER_ROUND_WON
from models.history import HISTORY_SCHEMA, UTC_DATETIME

FEATURE_VERSION = "3"
"""Bump whenever feature code changes: it is part of every cache key (core.cache)."""

# ---- rating constants (HLTV 1.0 averages) --------------------------------------------------
KILLS_PER_ROUND_AVG = 0.679
SURVIVED_PER_ROUND_AVG = 0.317
MULTIKILL_PER_ROUND_AVG = 1.277
ADR_AVG = 75.0
FORM_SPAN = 10
"""EWMA span (in rated matches) of ``form``: alpha = 2 / (FORM_SPAN + 1)."""

DEFAULT_WINDOWS: tuple[int, ...] = (10, 30, 100)
ELO_TREND_WINDOW = 10
"""Number of most recent elo-history points the ``elo_trend`` slope is fitted on."""

ENGINE: Any = "in-memory"
"""Polars engine for feature queries: in-memory beats the streaming default on these plans."""

_REQUIRED = ("player_id", "match_id", "finished_at", "rounds", "result", "kills", "deaths")
INPUT_COLUMNS = (
    *_REQUIRED,
    "map",
    "assists",
    "headshots",
    "double_kills",
    "triple_kills",
    "quadro_kills",
    "penta_kills",
    "damage",
    "adr",
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
"""The columns of the match history the vocabulary reads (models.history.load(columns=))."""

# Ratio metrics: name -> (numerator column, denominator column, scale). Columns refer to the
# prepared frame (see _prepare): ``rounds_v`` is rounds with rounds <= 0 nulled, ``damage_v``
# is damage (or adr * rounds when only ADR is known), ``win`` is result as 0/1, ``one`` is 1,
# ``clutches`` the 1v1 and 1v2 situations. The names are the ones app/present.py labels.
RATIO_METRICS: dict[str, tuple[str, str, float]] = {
    "kd": ("kills", "deaths", 1.0),
    "kpr": ("kills", "rounds_v", 1.0),
    "dpr": ("deaths", "rounds_v", 1.0),
    "apr": ("assists", "rounds_v", 1.0),
    "adr": ("damage_v", "rounds_v", 1.0),
    "hs_pct": ("headshots", "kills", 100.0),
    "win_rate": ("win", "one", 1.0),
    "mk2_per_round": ("double_kills", "rounds_v", 1.0),
    "mk3_per_round": ("triple_kills", "rounds_v", 1.0),
    "mk4_per_round": ("quadro_kills", "rounds_v", 1.0),
    "mk5_per_round": ("penta_kills", "rounds_v", 1.0),
    "multikill_per_round": ("multikills", "rounds_v", 1.0),
    "entry_rate": ("entry_count", "rounds_v", 1.0),
    "entry_success": ("entry_wins", "entry_count", 1.0),
    "clutch_pr": ("clutches", "rounds_v", 1.0),
    "clutch_1v1_win_rate": ("one_v_one_wins", "one_v_one_count", 1.0),
    "clutch_1v2_win_rate": ("one_v_two_wins", "one_v_two_count", 1.0),
    "utility_dpr": ("utility_damage", "rounds_v", 1.0),
    "utility_success_rate": ("utility_successes", "utility_count", 1.0),
    "flashes_pr": ("flash_count", "rounds_v", 1.0),
    "flash_success_rate": ("flash_successes", "flash_count", 1.0),
    "flash_successes_pr": ("flash_successes", "rounds_v", 1.0),
    "enemies_flashed_pr": ("enemies_flashed", "rounds_v", 1.0),
    "sniper_share": ("sniper_kills", "kills", 1.0),
}


def expected_team_kills(rounds_won: pl.Expr, rounds: pl.Expr) -> pl.Expr:
    """Kills a team is expected to make in a match it scored ``rounds_won`` of ``rounds``: the
    denominator of a player's kill share."""
    return TEAM_KILLS_PER_ROUND_WON * rounds_won + TEAM_KILLS_PER_ROUND_LOST * (rounds - rounds_won)


def expected_team_deaths(rounds_won: pl.Expr, rounds: pl.Expr) -> pl.Expr:
    """Deaths a team is expected to suffer in such a match (the opponents' expected kills):
    the denominator of a player's death share."""
    return expected_team_kills(rounds - rounds_won, rounds)


PEER_WINDOW = 50
"""Most recent matches per player that peer comparisons use (the peer table, the improvement
plan's percentiles, the 0-100 ratings): every player's stats over their own last 50."""
PEER_STATS: tuple[str, ...] = (
    "kd",
    "kpr",
    "dpr",
    "apr",
    "adr",
    "hs_pct",
    "win_rate",
    "entry_rate",
    "entry_success",
    "clutch_pr",
    "clutch_1v1_win_rate",
    "clutch_1v2_win_rate",
    "utility_dpr",
    "flashes_pr",
    "flash_successes_pr",
    "enemies_flashed_pr",
    "sniper_share",
)
"""The stats compared with peers (names of :data:`RATIO_METRICS`): the improvement plan's
headline stats, the ratings' stats and the playstyle rates. The peer table (models/peers.py)
holds their distribution per level and region; changing this list or :data:`PEER_WINDOW`
means bumping :data:`FEATURE_VERSION`, which is part of the table's key."""


def window_names(windows: Sequence[int]) -> list[str]:
    """``["lifetime", "last10", ...]`` for the given windows."""
    return ["lifetime", *(f"last{n}" for n in windows)]


# ---- preparation and rating ----------------------------------------------------------------


def _ensure_columns(frame: pl.DataFrame | pl.LazyFrame) -> pl.LazyFrame:
    lf = frame.lazy()
    names = lf.collect_schema().names()
    missing = [c for c in _REQUIRED if c not in names]
    if missing:
        raise ValueError(f"player-match frame lacks required columns: {missing}")
    add = [
        pl.lit(None, dtype=HISTORY_SCHEMA.get(c, pl.Float64())).alias(c)
        for c in INPUT_COLUMNS
        if c not in names
    ]
    return lf.with_columns(add) if add else lf


def _rating_expr() -> pl.Expr:
    rounds = pl.col("rounds_v")
    kills = pl.col("kills").cast(pl.Float64)
    deaths = pl.col("deaths").cast(pl.Float64)
    k2 = pl.col("double_kills").cast(pl.Float64).fill_null(0.0)
    k3 = pl.col("triple_kills").cast(pl.Float64).fill_null(0.0)
    k4 = pl.col("quadro_kills").cast(pl.Float64).fill_null(0.0)
    k5 = pl.col("penta_kills").cast(pl.Float64).fill_null(0.0)
    k1 = (kills - 2 * k2 - 3 * k3 - 4 * k4 - 5 * k5).clip(lower_bound=0.0)
    kill_rating = kills / rounds / KILLS_PER_ROUND_AVG
    survival_rating = (rounds - deaths) / rounds / SURVIVED_PER_ROUND_AVG
    multikill_rating = (k1 + 4 * k2 + 9 * k3 + 16 * k4 + 25 * k5) / rounds / MULTIKILL_PER_ROUND_AVG
    base = kill_rating + 0.7 * survival_rating + multikill_rating
    damage_rating = pl.col("damage_v") / rounds / ADR_AVG
    return (
        pl.when(rounds.is_null())
        .then(None)
        .when(pl.col("damage_v").is_null())
        .then(base / 2.7)
        .otherwise((base + damage_rating) / 3.7)
    )


def _prepare(frame: pl.DataFrame | pl.LazyFrame, *, sort: bool = True) -> pl.LazyFrame:
    """Sorted lazy frame with helper columns ``rounds_v``, ``damage_v``, ``win``, ``one``,
    ``multikills`` and ``rating``."""
    lf = _ensure_columns(frame).select(INPUT_COLUMNS)
    rounds_v = pl.when(pl.col("rounds") > 0).then(pl.col("rounds").cast(pl.Float64))
    lf = lf.with_columns(
        rounds_v.alias("rounds_v"),
        pl.col("result").cast(pl.Float64).alias("win"),
        pl.lit(1.0).alias("one"),
        (
            pl.col("double_kills").cast(pl.Float64)
            + pl.col("triple_kills")
            + pl.col("quadro_kills")
            + pl.col("penta_kills")
        ).alias("multikills"),
        (pl.col("one_v_one_count") + pl.col("one_v_two_count")).cast(pl.Float64).alias("clutches"),
    ).with_columns(
        pl.coalesce(
            pl.col("damage").cast(pl.Float64), pl.col("adr").cast(pl.Float64) * pl.col("rounds_v")
        ).alias("damage_v")
    )
    lf = lf.with_columns(_rating_expr().alias("rating"))
    return lf.sort("player_id", "finished_at", "match_id", nulls_last=False) if sort else lf


def match_ratings(frame: pl.DataFrame) -> pl.DataFrame:
    """The input frame plus a Float64 ``rating`` column (one performance rating per match).

    HLTV-1.0-like, with ``R`` = rounds, ``K`` = kills, ``D`` = deaths, ``nK`` = rounds with n
    kills (``1K = kills - 2*2K - 3*3K - 4*4K - 5*5K`` clipped at 0, since the API has no 1K
    count)::

        kill      = K / R / 0.679
        survival  = (R - D) / R / 0.317
        multikill = (1K + 4*2K + 9*3K + 16*4K + 25*5K) / R / 1.277
        damage    = ADR / 75            (ADR = damage / R, or the adr column if no damage)
        rating    = (kill + 0.7*survival + multikill) / 2.7              without ADR
        rating    = (kill + 0.7*survival + multikill + damage) / 3.7     with ADR

    Each component averages about 1.0, so the rating averages about 1.0 either way. Null
    when rounds is null or <= 0. Row order is preserved.
    """
    lf = _ensure_columns(frame).with_columns(
        pl.when(pl.col("rounds") > 0).then(pl.col("rounds").cast(pl.Float64)).alias("rounds_v")
    )
    lf = lf.with_columns(
        pl.coalesce(
            pl.col("damage").cast(pl.Float64), pl.col("adr").cast(pl.Float64) * pl.col("rounds_v")
        ).alias("damage_v")
    )
    out = (
        lf.with_columns(_rating_expr().alias("rating"))
        .drop("rounds_v", "damage_v")
        .collect(engine=ENGINE)
    )
    keep = [*frame.columns, "rating"]
    return out.select([c for c in keep if c in out.columns])


# ---- player summary ------------------------------------------------------------------------


def _ratio_aggs(suffix: str) -> list[pl.Expr]:
    """Per-group sums only (fast grouped kernels); :func:`_ratio_finish` divides them."""
    exprs: list[pl.Expr] = [pl.len().cast(pl.Int64).alias(f"matches_{suffix}")]
    for name, (num, den, _scale) in RATIO_METRICS.items():
        valid = pl.col(num).is_not_null() & pl.col(den).is_not_null()
        exprs.append(pl.when(valid).then(pl.col(num)).cast(pl.Float64).sum().alias(f"_n_{name}"))
        exprs.append(pl.when(valid).then(pl.col(den)).cast(pl.Float64).sum().alias(f"_d_{name}"))
    exprs.append(pl.col("rating").mean().alias(f"rating_{suffix}"))
    exprs.append(pl.col("rating").std(ddof=1).alias(f"consistency_{suffix}"))
    return exprs


def _ratio_finish(lf: pl.LazyFrame, suffix: str) -> pl.LazyFrame:
    ratios = [
        pl.when(pl.col(f"_d_{name}") > 0)
        .then(pl.col(f"_n_{name}") * scale / pl.col(f"_d_{name}"))
        .alias(f"{name}_{suffix}")
        for name, (_num, _den, scale) in RATIO_METRICS.items()
    ]
    helpers = [f"_{p}_{name}" for name in RATIO_METRICS for p in ("n", "d")]
    return lf.with_columns(ratios).drop(helpers)


STREAK_COLUMNS: tuple[str, ...] = ("current_streak", "longest_win_streak")
"""The summary's runs of consecutive results: a filtered view takes them from the whole
history (models.dashboard), as the tilt report does (models.tilt)."""


def _streaks(lf: pl.LazyFrame) -> pl.LazyFrame:
    runs = (
        lf.select("player_id", pl.col("result").fill_null(False))
        .with_columns(pl.struct("player_id", "result").rle_id().alias("run"))
        .group_by("run")
        .agg(
            pl.col("player_id").first(),
            pl.col("result").first(),
            pl.len().cast(pl.Int64).alias("length"),
        )
        .sort("run")
    )
    return runs.group_by("player_id").agg(
        pl.when(pl.col("result").last())
        .then(pl.col("length").last())
        .otherwise(-pl.col("length").last())
        .cast(pl.Int64)
        .alias("current_streak"),
        pl.col("length")
        .filter(pl.col("result"))
        .max()
        .fill_null(0)
        .cast(pl.Int64)
        .alias("longest_win_streak"),
    )


def _form(lf: pl.LazyFrame) -> pl.LazyFrame:
    alpha = 2.0 / (FORM_SPAN + 1)
    rated = lf.select("player_id", "rating").filter(pl.col("rating").is_not_null())
    back = pl.int_range(pl.len()).reverse().over("player_id").cast(pl.Float64)
    rated = rated.with_columns(pl.lit(1.0 - alpha).pow(back).alias("w"))
    return rated.group_by("player_id").agg(
        ((pl.col("w") * pl.col("rating")).sum() / pl.col("w").sum()).alias("form")
    )


def _elo_trend(elo: pl.DataFrame | pl.LazyFrame, window: int) -> pl.LazyFrame:
    lf = elo.lazy().select("player_id", "recorded_at", "elo").sort("player_id", "recorded_at")
    lf = lf.with_columns(pl.int_range(pl.len()).reverse().over("player_id").alias("back"))
    lf = lf.filter(pl.col("back") < window).with_columns(
        (-pl.col("back")).cast(pl.Float64).alias("x"), pl.col("elo").cast(pl.Float64).alias("y")
    )
    n = pl.len().cast(pl.Float64)
    sx, sy = pl.col("x").sum(), pl.col("y").sum()
    sxy, sxx = (pl.col("x") * pl.col("y")).sum(), (pl.col("x") * pl.col("x")).sum()
    den = n * sxx - sx * sx
    return lf.group_by("player_id").agg(
        pl.when((n >= 2) & (den > 0)).then((n * sxy - sx * sy) / den).alias("elo_trend"),
        pl.col("elo").last().cast(pl.Int64).alias("elo_current"),
    )


def summary_schema(windows: Sequence[int] = DEFAULT_WINDOWS) -> dict[str, pl.DataType]:
    """Columns and dtypes of :func:`player_summary` for the given windows."""
    schema: dict[str, pl.DataType] = {"player_id": pl.String()}
    for w in window_names(windows):
        schema[f"matches_{w}"] = pl.Int64()
        for name in RATIO_METRICS:
            schema[f"{name}_{w}"] = pl.Float64()
        schema[f"rating_{w}"] = pl.Float64()
        schema[f"consistency_{w}"] = pl.Float64()
    schema.update(
        {
            "form": pl.Float64(),
            "current_streak": pl.Int64(),
            "longest_win_streak": pl.Int64(),
            "elo_trend": pl.Float64(),
            "elo_current": pl.Int64(),
            "last_match_at": UTC_DATETIME,
        }
    )
    return schema


def player_summary(
    frame: pl.DataFrame | pl.LazyFrame,
    windows: Sequence[int] = DEFAULT_WINDOWS,
    *,
    elo_history: pl.DataFrame | pl.LazyFrame | None = None,
    elo_window: int = ELO_TREND_WINDOW,
) -> pl.DataFrame:
    """One row per player: lifetime and last-N statistics (see :func:`summary_schema`).

    For each window ``w`` in ``lifetime``, ``last{N}`` (N in ``windows``):

    * ``matches_w`` (Int64): matches in the window;
    * Float64 ratios of sums, one ``{name}_w`` per :data:`RATIO_METRICS` entry (``kd_w``
      kills/deaths, ``kpr_w`` kills/rounds, ``adr_w`` damage/rounds, ``hs_pct_w``
      100*headshots/kills, ``win_rate_w`` wins/matches, ``entry_success_w``
      entry_wins/entry_count, ``utility_dpr_w`` utility damage/rounds, ...);
    * ``rating_w`` (Float64): mean of per-match ratings (:func:`match_ratings`);
    * ``consistency_w`` (Float64): sample std (ddof=1) of per-match ratings (lower = steadier).

    Player-level columns:

    * ``form`` (Float64): EWMA of the rating over rated matches, span :data:`FORM_SPAN`
      (alpha = 2/(span+1), pandas ``adjust=True`` weights: ``sum(w_k r_k) / sum(w_k)``,
      ``w_k = (1-alpha)**k``, k = 0 for the latest rated match);
    * ``current_streak`` (Int64): +n for n wins in a row up to the latest match, -n for losses;
    * ``longest_win_streak`` (Int64);
    * ``elo_trend`` (Float64): least-squares slope of Elo against point index over the last
      ``elo_window`` elo-history points (Elo per match; null with < 2 points or no history
      given); ``elo_current`` (Int64): latest Elo point;
    * ``last_match_at`` (Datetime[us, UTC]).

    Sorted by ``player_id``.
    """
    windows = tuple(int(n) for n in windows)
    lf = _prepare(frame)
    lf = lf.with_columns(pl.int_range(pl.len()).reverse().over("player_id").alias("_back"))
    lifetime = lf.group_by("player_id").agg(
        *_ratio_aggs("lifetime"), pl.col("finished_at").max().alias("last_match_at")
    )
    parts: list[pl.LazyFrame] = [_ratio_finish(lifetime, "lifetime")]
    for n in windows:
        sub = lf.filter(pl.col("_back") < n).group_by("player_id").agg(*_ratio_aggs(f"last{n}"))
        parts.append(_ratio_finish(sub, f"last{n}"))
    parts.append(_form(lf))
    parts.append(_streaks(lf))
    if elo_history is not None:
        parts.append(_elo_trend(elo_history, elo_window))
    out = parts[0]
    for part in parts[1:]:
        out = out.join(part, on="player_id", how="left")
    result = out.collect(engine=ENGINE)
    if elo_history is None:
        result = result.with_columns(
            pl.lit(None, dtype=pl.Float64).alias("elo_trend"),
            pl.lit(None, dtype=pl.Int64).alias("elo_current"),
        )
    schema = summary_schema(windows)
    return result.select([pl.col(c).cast(t) for c, t in schema.items()]).sort("player_id")


# ---- map stats, rolling form, percentiles ---------------------------------------------------

MAP_STATS_SCHEMA: dict[str, pl.DataType] = {
    "player_id": pl.String(),
    "map": pl.String(),
    "matches": pl.Int64(),
    "wins": pl.Int64(),
    "win_rate": pl.Float64(),
    "kd": pl.Float64(),
    "adr": pl.Float64(),
    "rating": pl.Float64(),
}


def map_stats(frame: pl.DataFrame | pl.LazyFrame) -> pl.DataFrame:
    """Per player and map (null map kept as its own group).

    Columns: ``player_id``, ``map`` (str), ``matches``, ``wins`` (Int64), ``win_rate``
    (wins/matches), ``kd`` (sum kills / sum deaths), ``adr`` (sum damage / sum rounds over
    matches with damage), ``rating`` (mean match rating), all Float64, null on a zero
    denominator. Sorted by ``player_id``, then ``matches`` descending, then ``map``.
    """
    lf = _prepare(frame, sort=False)
    masked: list[pl.Expr] = []
    aggs = [pl.len().cast(pl.Int64).alias("matches"), pl.col("win").sum().cast(pl.Int64)]
    for name in ("win_rate", "kd", "adr"):
        num, den, _scale = RATIO_METRICS[name]
        valid = pl.col(num).is_not_null() & pl.col(den).is_not_null()
        masked.append(pl.when(valid).then(pl.col(num)).cast(pl.Float64).alias(f"_n_{name}"))
        masked.append(pl.when(valid).then(pl.col(den)).cast(pl.Float64).alias(f"_d_{name}"))
        aggs += [pl.col(f"_n_{name}").sum(), pl.col(f"_d_{name}").sum()]
    aggs.append(pl.col("rating").mean().alias("rating"))
    lf = lf.with_columns(masked)
    out = lf.group_by("player_id", "map").agg(*aggs).rename({"win": "wins"})
    out = out.with_columns(
        pl.when(pl.col(f"_d_{name}") > 0)
        .then(pl.col(f"_n_{name}") / pl.col(f"_d_{name}"))
        .alias(name)
        for name in ("win_rate", "kd", "adr")
    )
    out = out.sort(["player_id", "matches", "map"], descending=[False, True, False])
    return out.select([pl.col(c).cast(t) for c, t in MAP_STATS_SCHEMA.items()]).collect(
        engine=ENGINE
    )


ROLLING_FORM_SCHEMA: dict[str, pl.DataType] = {
    "player_id": pl.String(),
    "match_id": pl.String(),
    "finished_at": UTC_DATETIME,
    "map": pl.String(),
    "result": pl.Boolean(),
    "rating": pl.Float64(),
    "rating_rolling": pl.Float64(),
    "form": pl.Float64(),
}


def rolling_form(frame: pl.DataFrame | pl.LazyFrame, window: int = 10) -> pl.DataFrame:
    """Per match (for charts): ``player_id``, ``match_id``, ``finished_at``, ``map``,
    ``result``, ``rating`` (:func:`match_ratings`), ``rating_rolling`` (mean rating of the
    last ``window`` matches up to and including this one, ignoring unrated matches; null
    until one rated match) and ``form`` (EWMA of the ratings so far, span :data:`FORM_SPAN`,
    adjust=True, unrated matches skipped; null on an unrated match). Sorted by player, then time.
    """
    lf = _prepare(frame)
    out = lf.with_columns(
        pl.col("rating")
        .rolling_mean(window_size=window, min_samples=1)
        .over("player_id")
        .alias("rating_rolling"),
        pl.col("rating")
        .ewm_mean(span=FORM_SPAN, adjust=True, ignore_nulls=True, min_samples=1)
        .over("player_id")
        .alias("form"),
    )
    # unrated matches (no rounds) get no form point
    out = out.with_columns(
        pl.when(pl.col("rating").is_not_null()).then(pl.col("form")).alias("form")
    )
    return out.select([pl.col(c).cast(t) for c, t in ROLLING_FORM_SCHEMA.items()]).collect(
        engine=ENGINE
    )


# ---- one window per player, per-match rates, percentiles -----------------------------------


def window_stats(frame: pl.DataFrame | pl.LazyFrame, last: int | None = None) -> pl.DataFrame:
    """One row per player over the player's ``last`` most recent matches (every match when
    None): ``player_id``, ``matches`` (Int64), every :data:`RATIO_METRICS` stat (ratio of
    sums, the rules above), ``rating`` and ``consistency``. Sorted by ``player_id``."""
    lf = _prepare(frame)
    if last is not None:
        lf = lf.filter(pl.int_range(pl.len()).reverse().over("player_id") < last)
    out = _ratio_finish(lf.group_by("player_id").agg(*_ratio_aggs("w")), "w")
    names = ["matches", *RATIO_METRICS, "rating", "consistency"]
    return (
        out.select("player_id", *(pl.col(f"{n}_w").alias(n) for n in names))
        .sort("player_id")
        .collect(engine=ENGINE)
    )


def match_rates(frame: pl.DataFrame | pl.LazyFrame, stats: Sequence[str]) -> pl.DataFrame:
    """One row per player-match: ``player_id``, ``match_id``, ``result`` and each of ``stats``
    (names of :data:`RATIO_METRICS`) for that match alone, null where the match did not record
    the stat (or its denominator is 0). Sorted by player, then time."""
    lf = _prepare(frame)
    exprs = []
    for name in stats:
        num, den, scale = RATIO_METRICS[name]
        exprs.append(
            pl.when(pl.col(den).cast(pl.Float64) > 0)
            .then(pl.col(num).cast(pl.Float64) * scale / pl.col(den).cast(pl.Float64))
            .alias(name)
        )
    return lf.select("player_id", "match_id", "result", *exprs).collect(engine=ENGINE)


def percentile(value: float | None, peers: Sequence[float] | np.ndarray) -> float | None:
    """Where ``value`` stands among ``peers`` (0-100): the share of peers below it, ties
    counted half. ``peers`` must not include the player. None without a value or peers."""
    vals = np.asarray(peers, dtype=np.float64)
    vals = vals[np.isfinite(vals)]
    if value is None or not np.isfinite(value) or vals.size == 0:
        return None
    below = float(np.sum(vals < value)) + 0.5 * float(np.sum(vals == value))
    return 100.0 * below / vals.size


def percentile_sorted(
    value: float | None, peers: np.ndarray, *, exclude: float | None = None
) -> tuple[float | None, int]:
    """:func:`percentile` from ``peers`` already sorted ascending (finite values only), in
    O(log n), and how many peers it is over: the same definition (share below, ties half).
    ``exclude`` is the player's own value when ``peers`` holds it: one occurrence is left out
    (when present), so the player is never their own peer."""
    n = int(peers.size)
    below = int(np.searchsorted(peers, value, side="left")) if value is not None else 0
    ties = int(np.searchsorted(peers, value, side="right")) - below if value is not None else 0
    if exclude is not None and np.isfinite(exclude) and n:
        at = int(np.searchsorted(peers, exclude, side="left"))
        if at < n and peers[at] == exclude:
            n -= 1
            if value is not None and exclude < value:
                below -= 1
            elif value is not None and exclude == value:
                ties -= 1
    if value is None or not np.isfinite(value) or n <= 0:
        return None, max(n, 0)
    return 100.0 * (below + 0.5 * ties) / n, n


TREND_STATS: tuple[str, ...] = ("kd", "adr", "hs_pct", "kpr", "entry_success", "utility_dpr")
"""The stats the Overview draws over time (names of :data:`RATIO_METRICS`)."""


def rolling_stats(
    frame: pl.DataFrame | pl.LazyFrame, window: int, stats: Sequence[str] = TREND_STATS
) -> pl.DataFrame:
    """Per player-match (for charts): ``player_id``, ``match_id``, ``finished_at``, and each of
    ``stats`` over the player's last ``window`` matches up to and including this one, as a
    ratio of sums with the rules above (a match that did not record a stat adds nothing to its
    numerator or denominator; null while the denominator sums to 0). On a player's latest
    match it equals :func:`window_stats` with ``last=window``. Sorted by player, then time."""
    if window < 1:
        raise ValueError("window must be at least 1 match")
    lf = _prepare(frame)
    exprs = []
    for name in stats:
        num, den, scale = RATIO_METRICS[name]
        valid = pl.col(num).is_not_null() & pl.col(den).is_not_null()
        sums = [
            pl.when(valid)
            .then(pl.col(c).cast(pl.Float64))
            .otherwise(0.0)
            .rolling_sum(window_size=window, min_samples=1)
            .over("player_id")
            for c in (num, den)
        ]
        exprs.append(pl.when(sums[1] > 0).then(sums[0] * scale / sums[1]).alias(name))
    return lf.select("player_id", "match_id", "finished_at", *exprs).collect(engine=ENGINE)
