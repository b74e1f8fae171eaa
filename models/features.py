"""Player feature sets for FACEIT CS2 analytics (vectorised polars).

Every entry point takes a *player-match frame* (one row per player per match, the shape
returned by :func:`load_player_matches`) and returns a new frame. Only a few columns are
required (``player_id``, ``match_id``, ``finished_at``, ``rounds``, ``result``, ``kills``,
``deaths``); every other stat column is optional: a missing column is treated as all-null, so
frames from the demo league or from older API payloads work unchanged.

Conventions shared by all feature sets
--------------------------------------
* Aggregates over several matches are **ratios of sums**, never means of per-match ratios:
  K/D over a window is ``sum(kills) / sum(deaths)``, ADR is ``sum(damage) / sum(rounds)``.
  The one exception is the performance rating (``rating_*``, ``form``, ``consistency``),
  which is a per-match composite and is averaged over matches.
* For a ratio ``num / den`` only the matches where *both* ``num`` and ``den`` are non-null
  contribute (so ADR over a window that mixes matches with and without extended stats uses
  only the matches that have damage, in numerator and denominator alike).
* ``rounds <= 0`` is treated as missing (null), so those matches never count in per-round
  stats and get a null rating.
* A division whose denominator sums to 0 (or has no contributing match) is null, never
  ``inf``/``NaN``.
* Windows: ``lifetime`` is every match; ``lastN`` is the player's N most recent matches by
  ``finished_at`` (ties broken by ``match_id``), fewer if the player has fewer.
* Rates are fractions in ``[0, 1]``, except ``hs_pct_*`` which is a percentage (0-100), the
  way FACEIT shows it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import polars as pl

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

FEATURE_VERSION = "1"
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

UTC_DATETIME = pl.Datetime("us", "UTC")
ENGINE: Any = "in-memory"
"""Polars engine for feature queries: in-memory beats the streaming default on these plans."""

# ---- the player-match frame schema (output of load_player_matches) ---------------------------
_BASE_INT = (
    "kills",
    "deaths",
    "assists",
    "headshots",
    "mvps",
    "double_kills",
    "triple_kills",
    "quadro_kills",
    "penta_kills",
)
_EXT_INT = (
    "damage",
    "first_kills",
    "entry_count",
    "entry_wins",
    "one_v_one_count",
    "one_v_one_wins",
    "one_v_two_count",
    "one_v_two_wins",
    "clutch_kills",
    "utility_count",
    "utility_successes",
    "utility_damage",
    "utility_enemies",
    "flash_count",
    "flash_successes",
    "enemies_flashed",
    "sniper_kills",
    "pistol_kills",
    "knife_kills",
    "zeus_kills",
)
_BASE_FLOAT = ("headshots_pct", "kd_ratio", "kr_ratio")
_EXT_FLOAT = (
    "adr",
    "match_entry_rate",
    "match_entry_success_rate",
    "match_1v1_win_rate",
    "match_1v2_win_rate",
    "utility_usage_per_round",
    "utility_success_rate",
    "utility_damage_per_round",
    "utility_damage_success_rate",
    "flash_success_rate",
    "flashes_per_round",
    "enemies_flashed_per_round",
    "sniper_kill_rate_per_match",
    "sniper_kill_rate_per_round",
)

PLAYER_MATCH_SCHEMA: dict[str, pl.DataType] = {
    "player_id": pl.String(),
    "match_id": pl.String(),
    "finished_at": UTC_DATETIME,
    "map": pl.String(),
    "rounds": pl.Int32(),
    "score": pl.String(),
    "faction1_score": pl.Int32(),
    "faction2_score": pl.Int32(),
    "winner_faction": pl.String(),
    "faction": pl.String(),
    "team_name": pl.String(),
    "nickname": pl.String(),
    "result": pl.Boolean(),
    **{c: pl.Int32() for c in _BASE_INT},
    **{c: pl.Float64() for c in _BASE_FLOAT},
    **{c: pl.Int32() for c in _EXT_INT},
    **{c: pl.Float64() for c in _EXT_FLOAT},
}
"""Columns and dtypes of :func:`load_player_matches` (extended stats are nullable)."""

ELO_HISTORY_SCHEMA: dict[str, pl.DataType] = {
    "player_id": pl.String(),
    "match_id": pl.String(),
    "elo": pl.Int32(),
    "recorded_at": UTC_DATETIME,
    "estimated": pl.Boolean(),
}
"""Columns and dtypes of :func:`load_elo_history`."""

_REQUIRED = ("player_id", "match_id", "finished_at", "rounds", "result", "kills", "deaths")
_FEATURE_INPUTS = (
    *_REQUIRED,
    "map",
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

# Ratio metrics: name -> (numerator column, denominator column, scale). Columns refer to the
# prepared frame (see _prepare): ``rounds_v`` is rounds with rounds <= 0 nulled, ``damage_v``
# is damage (or adr * rounds when only ADR is known), ``win`` is result as 0/1, ``one`` is 1.
RATIO_METRICS: dict[str, tuple[str, str, float]] = {
    "kd": ("kills", "deaths", 1.0),
    "kr": ("kills", "rounds_v", 1.0),
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
    "clutch_1v1_win_rate": ("one_v_one_wins", "one_v_one_count", 1.0),
    "clutch_1v2_win_rate": ("one_v_two_wins", "one_v_two_count", 1.0),
    "utility_damage_per_round": ("utility_damage", "rounds_v", 1.0),
    "utility_success_rate": ("utility_successes", "utility_count", 1.0),
    "flash_success_rate": ("flash_successes", "flash_count", 1.0),
    "enemies_flashed_per_round": ("enemies_flashed", "rounds_v", 1.0),
    "sniper_kill_share": ("sniper_kills", "kills", 1.0),
}

HEADLINE_STATS: tuple[str, ...] = (
    "rating_lifetime",
    "kd_lifetime",
    "kr_lifetime",
    "adr_lifetime",
    "hs_pct_lifetime",
    "win_rate_lifetime",
    "entry_success_lifetime",
    "clutch_1v1_win_rate_lifetime",
    "utility_damage_per_round_lifetime",
    "form",
)
"""Summary columns ranked by :func:`level_percentiles`."""


def window_names(windows: Sequence[int]) -> list[str]:
    """``["lifetime", "last10", ...]`` for the given windows."""
    return ["lifetime", *(f"last{n}" for n in windows)]


# ---- loading ------------------------------------------------------------------------------


def load_player_matches(session: Session, player_ids: Sequence[str]) -> pl.DataFrame:
    """Every stored match of the given players, oldest first per player.

    Rows of ``match_players`` joined with ``matches``. Output columns and dtypes are
    :data:`PLAYER_MATCH_SCHEMA`: ``player_id``, ``match_id`` (str), ``finished_at``
    (Datetime[us, UTC]; the match's time when the player row has none), ``map`` (str),
    ``rounds`` (Int32, from matches), ``score`` (str), ``faction1_score``/``faction2_score``
    (Int32), ``winner_faction``, ``faction``, ``team_name``, ``nickname`` (str), ``result``
    (Boolean, won), every basic stat (Int32 counts; Float64 ``headshots_pct``, ``kd_ratio``,
    ``kr_ratio``) and every extended stat (nullable Int32 counts, nullable Float64 rates).
    Sorted by ``player_id``, ``finished_at``, ``match_id``.
    """
    from sqlalchemy import func, select

    from core.db.schema import Match, MatchPlayer

    ids = list(dict.fromkeys(player_ids))
    if not ids:
        return pl.DataFrame(schema=PLAYER_MATCH_SCHEMA)
    mp = MatchPlayer.__table__.c
    m = Match.__table__.c
    finished = func.coalesce(mp.finished_at, m.finished_at)
    columns: list[Any] = []
    for name in PLAYER_MATCH_SCHEMA:
        if name == "finished_at":
            columns.append(finished.label(name))
        elif name == "map":
            columns.append(func.coalesce(mp.map, m.map).label(name))
        elif name in ("rounds", "score", "faction1_score", "faction2_score", "winner_faction"):
            columns.append(m[name])
        else:
            columns.append(mp[name])
    query = (
        select(*columns)
        .select_from(MatchPlayer.__table__.join(Match.__table__, mp.match_id == m.id))
        .where(mp.player_id.in_(ids))
        .order_by(mp.player_id, finished, mp.match_id)
    )
    rows = session.execute(query).all()
    # coalesce() loses the UTCDateTime result processor: normalise to aware UTC here.
    data = [tuple(r) for r in rows]
    frame = pl.DataFrame(data, schema=_object_schema(PLAYER_MATCH_SCHEMA), orient="row")
    return _cast_frame(frame, PLAYER_MATCH_SCHEMA)


def load_elo_history(session: Session, player_ids: Sequence[str]) -> pl.DataFrame:
    """Elo history points of the given players, oldest first per player.

    Columns: ``player_id`` (str), ``match_id`` (str, nullable), ``elo`` (Int32),
    ``recorded_at`` (Datetime[us, UTC]), ``estimated`` (Boolean). Sorted by ``player_id``,
    ``recorded_at``.
    """
    from sqlalchemy import select

    from core.db.schema import EloHistory

    ids = list(dict.fromkeys(player_ids))
    if not ids:
        return pl.DataFrame(schema=ELO_HISTORY_SCHEMA)
    e = EloHistory.__table__.c
    query = (
        select(e.player_id, e.match_id, e.elo, e.recorded_at, e.estimated)
        .where(e.player_id.in_(ids))
        .order_by(e.player_id, e.recorded_at, e.id)
    )
    rows = [tuple(r) for r in session.execute(query).all()]
    frame = pl.DataFrame(rows, schema=_object_schema(ELO_HISTORY_SCHEMA), orient="row")
    return _cast_frame(frame, ELO_HISTORY_SCHEMA)


def data_watermark(session: Session, player_id: str) -> datetime | None:
    """The newest ``finished_at`` among the player's stored matches (a cache-key watermark)."""
    from sqlalchemy import func, select

    from core.db.schema import Match, MatchPlayer

    mp = MatchPlayer.__table__.c
    m = Match.__table__.c
    query = (
        select(func.max(func.coalesce(mp.finished_at, m.finished_at)), func.count())
        .select_from(MatchPlayer.__table__.join(Match.__table__, mp.match_id == m.id))
        .where(mp.player_id == player_id)
    )
    newest, count = session.execute(query).one()
    return None if newest is None or not count else _to_utc(newest)


def _to_utc(value: Any) -> datetime:
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def _object_schema(schema: Mapping[str, pl.DataType]) -> dict[str, pl.DataType]:
    # Datetimes go through python objects first (SQLite returns naive or str values).
    return {k: (pl.Object() if v == UTC_DATETIME else v) for k, v in schema.items()}


def _cast_frame(frame: pl.DataFrame, schema: Mapping[str, pl.DataType]) -> pl.DataFrame:
    cols = []
    for name, dtype in schema.items():
        if dtype == UTC_DATETIME:
            values = [None if v is None else _to_utc(v) for v in frame[name].to_list()]
            cols.append(pl.Series(name, values, dtype=UTC_DATETIME))
        else:
            cols.append(frame[name])
    return pl.DataFrame(cols)


# ---- preparation and rating ----------------------------------------------------------------


def _ensure_columns(frame: pl.DataFrame | pl.LazyFrame) -> pl.LazyFrame:
    lf = frame.lazy()
    names = lf.collect_schema().names()
    missing = [c for c in _REQUIRED if c not in names]
    if missing:
        raise ValueError(f"player-match frame lacks required columns: {missing}")
    add = [
        pl.lit(None, dtype=PLAYER_MATCH_SCHEMA.get(c, pl.Float64())).alias(c)
        for c in ("map", *_BASE_INT, *_EXT_INT, "adr")
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
    lf = _ensure_columns(frame).select(_FEATURE_INPUTS)
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
    * Float64 ratios of sums (:data:`RATIO_METRICS`): ``kd_w`` kills/deaths, ``kr_w``
      kills/rounds, ``adr_w`` damage/rounds, ``hs_pct_w`` 100*headshots/kills, ``win_rate_w``
      wins/matches, ``mk2_per_round_w`` .. ``mk5_per_round_w`` and ``multikill_per_round_w``
      (2K+3K+4K+5K rounds per round), ``entry_rate_w`` entry_count/rounds,
      ``entry_success_w`` entry_wins/entry_count, ``clutch_1v1_win_rate_w`` and
      ``clutch_1v2_win_rate_w`` wins/attempts, ``utility_damage_per_round_w``,
      ``utility_success_rate_w`` utility_successes/utility_count, ``flash_success_rate_w``
      flash_successes/flash_count, ``enemies_flashed_per_round_w``,
      ``sniper_kill_share_w`` sniper_kills/kills;
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


LEVEL_PERCENTILES_SCHEMA: dict[str, pl.DataType] = {
    "stat": pl.String(),
    "value": pl.Float64(),
    "percentile": pl.Float64(),
    "peers": pl.Int64(),
    "skill_level": pl.Int64(),
}


def level_percentiles(
    summary_frame: pl.DataFrame,
    player_id: str,
    skill_levels: pl.DataFrame | Mapping[str, int],
    stats: Sequence[str] = HEADLINE_STATS,
) -> pl.DataFrame:
    """Where the player stands among players of the same skill level.

    ``summary_frame`` is :func:`player_summary` output for many players; ``skill_levels`` maps
    player id to FACEIT level (a frame with ``player_id`` and ``skill_level``, or a dict).
    One row per stat in ``stats`` (present in the summary): ``stat`` (str), ``value``
    (Float64, the player's value), ``percentile`` (Float64, 0-100: share of peers with a
    non-null value that is <= the player's, the player included; null if the player's value
    is null), ``peers`` (Int64, peers with a non-null value), ``skill_level`` (Int64).
    Empty (with that schema) if the player or their level is unknown.
    """
    if isinstance(skill_levels, Mapping):
        levels = pl.DataFrame(
            {"player_id": list(skill_levels), "skill_level": list(skill_levels.values())},
            schema={"player_id": pl.String(), "skill_level": pl.Int64()},
        )
    else:
        levels = skill_levels.select(
            pl.col("player_id").cast(pl.String), pl.col("skill_level").cast(pl.Int64)
        )
    empty = pl.DataFrame(schema=LEVEL_PERCENTILES_SCHEMA)
    mine = levels.filter(pl.col("player_id") == player_id)["skill_level"].drop_nulls()
    if mine.is_empty():
        return empty
    level = int(mine[0])
    stat_cols = [s for s in stats if s in summary_frame.columns]
    peers = summary_frame.join(
        levels.filter(pl.col("skill_level") == level), on="player_id", how="inner"
    ).select("player_id", *[pl.col(s).cast(pl.Float64) for s in stat_cols])
    me = peers.filter(pl.col("player_id") == player_id)
    if me.is_empty() or not stat_cols:
        return empty
    rows = []
    for s in stat_cols:
        value = me[s][0]
        col = peers[s].drop_nulls().drop_nans()
        n = col.len()
        pct = None if value is None or n == 0 else 100.0 * int((col <= value).sum()) / n
        rows.append((s, value, pct, n, level))
    return pl.DataFrame(rows, schema=LEVEL_PERCENTILES_SCHEMA, orient="row")


# ---- thin session helpers --------------------------------------------------------------------


def player_summary_for_player(
    session: Session, player_id: str, windows: Sequence[int] = DEFAULT_WINDOWS
) -> pl.DataFrame:
    """:func:`player_summary` (with Elo trend) of one player, loaded from the database."""
    return player_summary(
        load_player_matches(session, [player_id]),
        windows,
        elo_history=load_elo_history(session, [player_id]),
    )


def map_stats_for_player(session: Session, player_id: str) -> pl.DataFrame:
    """:func:`map_stats` of one player, loaded from the database."""
    return map_stats(load_player_matches(session, [player_id]))


def rolling_form_for_player(session: Session, player_id: str, window: int = 10) -> pl.DataFrame:
    """:func:`rolling_form` of one player, loaded from the database."""
    return rolling_form(load_player_matches(session, [player_id]), window)


def demo_player_matches(league: Any) -> pl.DataFrame:
    """A :func:`load_player_matches`-shaped frame from a ``core.demo_league`` League.

    Uses ``league.match_players_frame()`` and ``league.matches_frame()``; extended stats are
    null on matches the league marks as without extended stats.
    """
    mp = league.match_players_frame()
    matches = league.matches_frame().select(
        "match_id",
        "map",
        pl.from_epoch("finished_at", time_unit="s")
        .dt.replace_time_zone("UTC")
        .alias("finished_at"),
        "winner",
        "score1",
        "score2",
        "extended_stats",
    )
    renames = {
        "clutch_1v1_count": "one_v_one_count",
        "clutch_1v1_wins": "one_v_one_wins",
        "clutch_1v2_count": "one_v_two_count",
        "clutch_1v2_wins": "one_v_two_wins",
    }
    frame = mp.rename({k: v for k, v in renames.items() if k in mp.columns}).join(
        matches, on="match_id", how="left"
    )
    ext = pl.col("extended_stats")
    exprs: list[pl.Expr] = [
        pl.format("faction{}", pl.col("faction"))
        if frame.schema.get("faction") != pl.String
        else pl.col("faction"),
        pl.col("result").cast(pl.Boolean),
        pl.col("winner").alias("winner_faction"),
        pl.col("score1").alias("faction1_score"),
        pl.col("score2").alias("faction2_score"),
        pl.format("{} / {}", "score1", "score2").alias("score"),
    ]
    for c in _EXT_INT:
        if c in frame.columns:
            exprs.append(pl.when(ext).then(pl.col(c)).alias(c))
    frame = frame.with_columns(exprs)
    if "damage" in frame.columns and "rounds" in frame.columns:
        frame = frame.with_columns(
            pl.when(pl.col("rounds") > 0)
            .then(pl.col("damage") / pl.col("rounds"))
            .round(1)
            .alias("adr")
        )
    kills = pl.col("kills").cast(pl.Float64)
    frame = frame.with_columns(
        pl.when(kills > 0)
        .then(100.0 * pl.col("headshots") / kills)
        .otherwise(0.0)
        .round(0)
        .alias("headshots_pct"),
        (kills / pl.col("deaths").clip(lower_bound=1)).round(2).alias("kd_ratio"),
        pl.when(pl.col("rounds") > 0).then(kills / pl.col("rounds")).round(2).alias("kr_ratio"),
    )
    cols = [
        pl.col(c).cast(t) if c in frame.columns else pl.lit(None, dtype=t).alias(c)
        for c, t in PLAYER_MATCH_SCHEMA.items()
    ]
    return frame.select(cols).sort("player_id", "finished_at", "match_id")
