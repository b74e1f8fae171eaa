"""Match-outcome features: per-player prior features, team differences, the training dataset.

1. :func:`normalise_frames` turns a player-match frame (the demo league's
   ``match_players_frame()`` or the database shape of :func:`load_training_frames`) plus a
   matches frame into one canonical long frame (``ts`` = match start in epoch seconds).
2. :func:`player_prior_features` computes, for every player-match row, features from that
   player's matches strictly BEFORE the row (exclusive cumulative sums over the player's
   time-ordered history; rolling windows are differences of those sums). No leakage: a row's
   features never read its own stats or result, nor any later match.
3. :func:`build_dataset` averages the player features per team and emits one row per match:
   faction1-minus-faction2 differences (``d_*``) plus a few symmetric sums (``s_*``), the label
   ``y`` (faction1 won) and both teams' average Elo (for the Elo baseline).
4. :func:`lineup_features` is the same row for a next match between two lineups.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np
import polars as pl

from core.cs2 import ELO_STEP

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

FEATURE_VERSION = "mo-2"
"""Bump whenever the feature code below changes (stored with every registered model)."""

NEXT_MATCH_ID = "__next__"

# stat columns of the canonical frame (null-filled with 0; ``ext`` says whether the extended
# stats of the row are real)
STATS: tuple[str, ...] = (
    "kills",
    "deaths",
    "assists",
    "headshots",
    "damage",
    "first_kills",
    "entry_count",
    "entry_wins",
    "clutch_count",
    "utility_damage",
    "flash_count",
    "enemies_flashed",
    "sniper_kills",
)
_EXTENDED = {
    "first_kills",
    "entry_count",
    "entry_wins",
    "clutch_count",
    "utility_damage",
    "flash_count",
    "enemies_flashed",
    "sniper_kills",
}

# player-level prior features averaged per team: name -> human label
PLAYER_FEATURES: dict[str, str] = {
    "elo": "average Elo",
    "games": "experience",
    "win_rate_20": "recent win rate",
    "kd_10": "recent K/D",
    "kd_all": "career K/D",
    "adr_20": "recent ADR",
    "kpr_20": "recent kills per round",
    "elo_trend": "Elo trend",
    "elo_10": "Elo ten matches ago",
    "premade": "premade party",
    "prev_loss": "share of players coming off a loss",
    "map_win_rate": "{map} win rate",
    "map_kd_rel": "{map} K/D edge",
    "map_kpr_rel": "{map} kills-per-round edge",
    "map_games": "{map} experience",
    "entry_rate": "entry activity",
}
DIFF_FEATURES: tuple[str, ...] = (
    *(f"d_{name}" for name in PLAYER_FEATURES),
    "d_elo_std",
    "d_awpers",
)
SUM_FEATURES: tuple[str, ...] = ("s_elo", "s_games", "s_awpers")
FEATURES: tuple[str, ...] = (*DIFF_FEATURES, *SUM_FEATURES)
LABELS: dict[str, str] = {
    **{f"d_{k}": v for k, v in PLAYER_FEATURES.items()},
    "d_elo_std": "Elo spread",
    "d_awpers": "number of AWPers",
    "s_elo": "lobby Elo level",
    "s_games": "lobby experience",
    "s_awpers": "AWPers in the lobby",
}


# ---- normalisation ------------------------------------------------------------------------


def _epoch_seconds(frame: pl.DataFrame, column: str) -> pl.Expr:
    dtype = frame.schema[column]
    col = pl.col(column)
    if isinstance(dtype, pl.Datetime):
        return col.dt.epoch("s")
    if dtype == pl.Date:
        return col.cast(pl.Datetime("us")).dt.epoch("s")
    if dtype == pl.String:
        return col.str.to_datetime(time_zone="UTC").dt.epoch("s")
    return col.cast(pl.Int64)


def _match_time(matches: pl.DataFrame) -> pl.Expr:
    candidates = [c for c in ("started_at", "finished_at") if c in matches.columns]
    if not candidates:
        raise ValueError("matches frame needs started_at or finished_at")
    exprs = [_epoch_seconds(matches, c) for c in candidates]
    return pl.coalesce(exprs).alias("ts")


def normalise_frames(match_players: pl.DataFrame, matches: pl.DataFrame) -> pl.DataFrame:
    """One canonical row per player-match, sorted by player and time.

    Columns: ``player_id``, ``match_id``, ``ts`` (match start, epoch s), ``map``, ``faction``
    (1/2), ``result`` (1.0/0.0, null for a future match), ``elo_before``, ``elo_after``
    (nullable), ``rounds``, ``ext`` (1.0 when the extended stats are real), ``premade`` (1.0
    when the player's team was one party of five, known before the match) and :data:`STATS`.
    ``match_players`` needs ``player_id``, ``match_id``, ``faction`` (1/2 or "faction1"/...),
    ``result`` and either ``elo_before`` or ``elo_after``; ``matches`` needs ``match_id``, a
    time (``started_at``/``finished_at``) and ``map`` (``rounds`` if the player frame has none).
    """
    mp = match_players
    m_cols: list[pl.Expr] = [pl.col("match_id"), _match_time(matches), pl.col("map")]
    if "rounds" not in mp.columns and "rounds" in matches.columns:
        m_cols.append(pl.col("rounds"))
    mt = matches.select(m_cols)
    drop: list[str] = [c for c in ("map", "ts", "started_at", "finished_at") if c in mp.columns]
    if "rounds" in mp.columns and "rounds" in mt.columns:
        drop.append("rounds")
    joined = mp.drop(drop).join(mt, on="match_id", how="inner")

    faction = joined.schema["faction"]
    faction_expr = (
        pl.col("faction").str.extract(r"(\d+)").cast(pl.Int8)
        if faction == pl.String
        else pl.col("faction").cast(pl.Int8)
    )
    if "elo_before" in joined.columns:
        elo_before = pl.col("elo_before").cast(pl.Float64)
    elif "elo_after" in joined.columns:
        elo_before = pl.lit(None, pl.Float64)
    else:
        raise ValueError("match_players needs an elo_before or elo_after column")
    elo_after = (
        pl.col("elo_after").cast(pl.Float64)
        if "elo_after" in joined.columns
        else pl.lit(None, pl.Float64)
    )

    def col(name: str, *alts: str) -> pl.Expr:
        for c in (name, *alts):
            if c in joined.columns:
                return pl.col(c).cast(pl.Float64)
        return pl.lit(None, pl.Float64)

    clutch = col("clutch_1v1_count", "one_v_one_count").fill_null(0) + col(
        "clutch_1v2_count", "one_v_two_count"
    ).fill_null(0)
    damage = col("damage")
    if "damage" not in joined.columns and "adr" in joined.columns:
        damage = col("adr") * pl.col("rounds")
    ext_source = "entry_count" if "entry_count" in joined.columns else None
    ext = (
        pl.col(ext_source).is_not_null().cast(pl.Float64) if ext_source else pl.lit(0.0, pl.Float64)
    )
    if "extended_stats" in matches.columns:
        ext_flags = matches.select("match_id", pl.col("extended_stats").alias("_ext"))
        joined = joined.join(ext_flags, on="match_id", how="left")
        ext = ext * pl.col("_ext").fill_null(True).cast(pl.Float64)
    joined = joined.with_columns(ext.alias("ext"))
    stat_exprs = {
        "kills": col("kills"),
        "deaths": col("deaths"),
        "assists": col("assists"),
        "headshots": col("headshots"),
        "damage": damage,
        "first_kills": col("first_kills"),
        "entry_count": col("entry_count"),
        "entry_wins": col("entry_wins"),
        "clutch_count": clutch,
        "utility_damage": col("utility_damage"),
        "flash_count": col("flash_count"),
        "enemies_flashed": col("enemies_flashed"),
        "sniper_kills": col("sniper_kills"),
    }
    out = joined.select(
        pl.col("player_id").cast(pl.String),
        pl.col("match_id").cast(pl.String),
        pl.col("ts").cast(pl.Int64),
        pl.col("map").cast(pl.String),
        faction_expr.alias("faction"),
        col("result").alias("result"),
        elo_before.alias("elo_before"),
        elo_after.alias("elo_after"),
        col("rounds").alias("rounds"),
        pl.col("ext"),
        col("premade").fill_null(0.0).alias("premade"),
        *(
            (expr * pl.col("ext") if name in _EXTENDED else expr).fill_null(0.0).alias(name)
            for name, expr in stat_exprs.items()
        ),
    ).sort("player_id", "ts", "match_id")
    if "elo_before" not in joined.columns:
        # Elo before a match = the Elo after the player's previous match (first match: undo a step)
        out = out.with_columns(
            pl.col("elo_after")
            .shift(1)
            .over("player_id")
            .fill_null(pl.col("elo_after") - ELO_STEP * (2 * pl.col("result").fill_null(0.5) - 1))
            .alias("elo_before")
        )
    return out.with_columns(pl.col("rounds").fill_null(0.0), pl.col("elo_before").fill_null(1000.0))


def load_training_frames(
    session: Session, player_ids: Sequence[str] | None = None
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(match_players, matches) frames from the database for :func:`build_dataset`.

    The per-match Elo comes from ``elo_history`` (the Elo after each match, observed or
    estimated at ingest); ``elo_before`` is derived in :func:`normalise_frames`. With
    ``player_ids`` only those players' rows (and their matches) are loaded.
    """
    from sqlalchemy import select

    from core.db.columnar import read_frame, schema_of
    from core.db.schema import EloHistory, Match, MatchPlayer

    ids = None if player_ids is None else list(player_ids)
    mp_cols = [c for c in MatchPlayer.__table__.columns if c.name not in ("map", "finished_at")]
    mp_query = select(*mp_cols)
    if ids is not None:
        mp_query = mp_query.where(MatchPlayer.player_id.in_(ids))
    mp = read_frame(session, mp_query, schema_of(mp_cols))
    e = EloHistory.__table__.c
    elo_query = select(e.player_id, e.match_id, e.elo.label("elo_after")).where(
        e.match_id.is_not(None)
    )
    if ids is not None:
        elo_query = elo_query.where(e.player_id.in_(ids))
    elo = read_frame(
        session,
        elo_query,
        {"player_id": pl.String(), "match_id": pl.String(), "elo_after": pl.Int64()},
    ).unique(["player_id", "match_id"])
    mp = mp.join(elo, on=["player_id", "match_id"], how="left")
    m = Match.__table__.c
    m_cols = [
        m.id.label("match_id"),
        m.started_at,
        m.finished_at,
        m.map,
        m.rounds,
        m.winner_faction,
    ]
    m_query = select(*m_cols)
    if ids is not None:
        m_query = m_query.where(
            m.id.in_(select(MatchPlayer.match_id).where(MatchPlayer.player_id.in_(ids)))
        )
    matches = read_frame(session, m_query, schema_of(m_cols))
    return mp, matches


# ---- features -----------------------------------------------------------------------------


def _excl(column: str, over: str | list[str]) -> pl.Expr:
    """Sum of ``column`` over the group's strictly earlier rows (frame sorted by time)."""
    return (pl.col(column).cum_sum() - pl.col(column)).over(over)


def _window(cum: str, n: int) -> pl.Expr:
    """Sum over the last ``n`` earlier rows, from an exclusive cumulative column."""
    return pl.col(cum) - pl.col(cum).shift(n).over("player_id").fill_null(0.0)


def player_prior_features(canonical: pl.DataFrame) -> pl.DataFrame:
    """Per player-match features from the player's strictly earlier matches only."""
    pid = "player_id"
    pm = ["player_id", "map"]
    f = canonical.sort(pid, "ts", "match_id").with_columns(
        pl.lit(1.0).alias("one"),
        pl.col("result").fill_null(0.0).alias("win"),
        (pl.col("rounds") * pl.col("ext")).alias("rounds_ext"),
        (pl.col("kills") * pl.col("ext")).alias("kills_ext"),
    )
    cum_cols = [
        "one",
        "win",
        "kills",
        "deaths",
        "damage",
        "rounds",
        "rounds_ext",
        "kills_ext",
        "sniper_kills",
        "entry_count",
    ]
    f = f.with_columns(
        *(_excl(c, pid).alias(f"c_{c}") for c in cum_cols),
        _excl("one", pm).alias("cm_one"),
        _excl("win", pm).alias("cm_win"),
        _excl("kills", pm).alias("cm_kills"),
        _excl("deaths", pm).alias("cm_deaths"),
        _excl("rounds", pm).alias("cm_rounds"),
        (1.0 - pl.col("win").shift(1).over(pid)).fill_null(0.0).alias("prev_loss"),
        (pl.col("elo_before") - pl.col("elo_before").shift(10).over(pid))
        .fill_null(0.0)
        .alias("elo_trend"),
        # the Elo ten matches ago (the current one with fewer): the current Elo enters the
        # linear model only through ``elo``, so its effect can be bounded to be monotone
        pl.col("elo_before").shift(10).over(pid).fill_null(pl.col("elo_before")).alias("elo_10"),
    )
    f = f.with_columns(
        _window("c_one", 20).alias("n20"),
        _window("c_win", 20).alias("w20"),
        _window("c_kills", 10).alias("k10"),
        _window("c_deaths", 10).alias("d10"),
        _window("c_kills", 20).alias("k20"),
        _window("c_damage", 20).alias("dmg20"),
        _window("c_rounds", 20).alias("r20"),
    )
    kd_all = (pl.col("c_kills") + 10.0) / (pl.col("c_deaths") + 10.0)
    f = f.with_columns(kd_all.alias("kd_all"))
    map_kd = (pl.col("cm_kills") + 20.0 * pl.col("kd_all")) / (pl.col("cm_deaths") + 20.0)
    kpr_all = (pl.col("c_kills") + 0.68 * 40.0) / (pl.col("c_rounds") + 40.0)
    map_kpr = (pl.col("cm_kills") + 60.0 * kpr_all) / (pl.col("cm_rounds") + 60.0)
    sniper_share = pl.col("c_sniper_kills") / (pl.col("c_kills_ext") + 5.0)
    return f.select(
        "player_id",
        "match_id",
        "ts",
        "map",
        "faction",
        "result",
        pl.col("elo_before").alias("elo"),
        pl.col("c_one").log1p().alias("games"),
        ((pl.col("w20") + 2.5) / (pl.col("n20") + 5.0)).alias("win_rate_20"),
        ((pl.col("k10") + 7.0) / (pl.col("d10") + 7.0)).alias("kd_10"),
        "kd_all",
        ((pl.col("dmg20") + 75.0 * 40.0) / (pl.col("r20") + 40.0)).alias("adr_20"),
        ((pl.col("k20") + 0.68 * 40.0) / (pl.col("r20") + 40.0)).alias("kpr_20"),
        "elo_trend",
        "elo_10",
        "premade",
        "prev_loss",
        ((pl.col("cm_win") + 2.5) / (pl.col("cm_one") + 5.0)).alias("map_win_rate"),
        (map_kd - pl.col("kd_all")).alias("map_kd_rel"),
        (map_kpr - kpr_all).alias("map_kpr_rel"),
        pl.col("cm_one").log1p().alias("map_games"),
        ((pl.col("c_entry_count") + 0.1 * 20.0) / (pl.col("c_rounds_ext") + 20.0)).alias(
            "entry_rate"
        ),
        ((sniper_share > 0.25) & (pl.col("c_kills_ext") >= 20)).cast(pl.Float64).alias("awper"),
    )


def team_features(players: pl.DataFrame) -> pl.DataFrame:
    """One row per match from :func:`player_prior_features`: ``d_*``, ``s_*``, ``y``, Elo."""
    names = list(PLAYER_FEATURES)
    per_team = players.group_by("match_id", "faction").agg(
        pl.col("ts").min(),
        pl.col("map").first(),
        pl.col("result").mean(),
        *(pl.col(n).mean() for n in names),
        pl.col("elo").std(ddof=0).fill_null(0.0).alias("elo_std"),
        pl.col("awper").sum().alias("awpers"),
    )
    cols = [*names, "elo_std", "awpers"]
    a = per_team.filter(pl.col("faction") == 1).drop("faction")
    b = per_team.filter(pl.col("faction") == 2).select(
        "match_id", *(pl.col(c).alias(f"{c}_b") for c in cols)
    )
    both = a.join(b, on="match_id", how="inner")
    return both.select(
        "match_id",
        "ts",
        "map",
        pl.when(pl.col("result").is_null())
        .then(None)
        .otherwise((pl.col("result") > 0.5).cast(pl.Int8))
        .alias("y"),
        pl.col("elo").alias("elo_a"),
        pl.col("elo_b").alias("elo_b"),
        *((pl.col(c) - pl.col(f"{c}_b")).alias(f"d_{c}") for c in cols),
        ((pl.col("elo") + pl.col("elo_b")) / 2.0).alias("s_elo"),
        (pl.col("games") + pl.col("games_b")).alias("s_games"),
        (pl.col("awpers") + pl.col("awpers_b")).alias("s_awpers"),
    ).sort("ts", "match_id")


def build_dataset(match_players: pl.DataFrame, matches: pl.DataFrame) -> pl.DataFrame:
    """One row per match: pre-match team features, label ``y`` (faction1 won), team Elos.

    Columns: ``match_id``, ``ts``, ``map``, ``y``, ``elo_a``, ``elo_b`` and :data:`FEATURES`,
    sorted by time. Every feature uses only the players' matches before the match.
    """
    canonical = normalise_frames(match_players, matches)
    return team_features(player_prior_features(canonical))


def feature_matrix(frame: pl.DataFrame, features: Sequence[str]) -> np.ndarray:
    return frame.select(pl.col(f).cast(pl.Float64) for f in features).to_numpy()


class UnequalLineups(ValueError):
    """Two lineups of different sizes: refused (FACEIT is five against five)."""

    def __init__(self, size_a: int, size_b: int) -> None:
        super().__init__(
            f"Both teams need the same number of players (FACEIT matches are 5 against 5); "
            f"got {size_a} against {size_b}."
        )


def lineup_features(
    lineup_a: Sequence[str],
    lineup_b: Sequence[str],
    map_name: str,
    history: pl.DataFrame,
    *,
    current_elo: Mapping[str, float] | None = None,
) -> pl.DataFrame:
    """The feature row of a next match between two lineups, from the players' histories.

    ``history`` is a :func:`normalise_frames` frame (any superset of the ten players). The
    next match is appended as a row after each player's latest match, so the features are
    exactly the training features of that match ("latest state"). Typed lineups are taken as
    solo players (not a premade party). Lineups of unequal size are refused: FACEIT matches
    are five against five, and the model has never seen anything else.
    """
    if len(lineup_a) != len(lineup_b):
        raise UnequalLineups(len(lineup_a), len(lineup_b))
    players = [*lineup_a, *lineup_b]
    hist = history.filter(pl.col("player_id").is_in(players))
    last = (
        hist.sort("ts")
        .group_by("player_id")
        .agg(pl.col("elo_after").last(), pl.col("elo_before").last(), pl.col("result").last())
    )
    latest: dict[str, float] = {}
    for row in last.iter_rows(named=True):
        if row["elo_after"] is not None:
            latest[row["player_id"]] = float(row["elo_after"])
        else:
            won = row["result"] if row["result"] is not None else 0.5
            latest[row["player_id"]] = float(row["elo_before"]) + ELO_STEP * (2 * won - 1)
    if current_elo:
        latest.update({k: float(v) for k, v in current_elo.items()})
    ts = int(hist.select(pl.col("ts").max()).item()) + 1 if hist.height else 0
    next_rows = pl.DataFrame(
        {
            "player_id": players,
            "match_id": [NEXT_MATCH_ID] * len(players),
            "ts": [ts] * len(players),
            "map": [map_name] * len(players),
            "faction": [1] * len(lineup_a) + [2] * len(lineup_b),
            "result": [None] * len(players),
            "elo_before": [latest.get(p, 1000.0) for p in players],
            "elo_after": [None] * len(players),
        },
        schema_overrides={
            "faction": pl.Int8,
            "result": pl.Float64,
            "elo_after": pl.Float64,
            "elo_before": pl.Float64,
            "ts": pl.Int64,
        },
    )
    next_rows = next_rows.with_columns(
        pl.lit(0.0).alias(c) for c in ("rounds", "ext", "premade", *STATS)
    ).select(hist.columns)
    players_frame = player_prior_features(pl.concat([hist, next_rows], how="vertical_relaxed"))
    return team_features(players_frame.filter(pl.col("match_id") == NEXT_MATCH_ID))
