"""Match-outcome features: per-player prior features, team differences, the training dataset.

1. :func:`model_frame` is the model's view of the one match history (models.history, from the
   database or the demo league): numeric columns, extended stats 0 where not recorded with
   ``ext`` saying so, the Elo before each match.
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

import numpy as np
import polars as pl

from core.cs2 import ELO_STEP
from models.features import expected_team_deaths, expected_team_kills

FEATURE_VERSION = "mo-6"
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
    "damage",
    "first_kills",
    "entry_count",
    "entry_wins",
    "clutch_count",
    "utility_damage",
    "flash_count",
    "enemies_flashed",
    "sniper_kills",
}

UNPLAYED_ZEROS: tuple[str, ...] = ("rounds", "rounds_won", "ext", "premade", "mate_gap", *STATS)
"""The :func:`model_frame` columns a next (not yet played) match row carries as 0."""

HISTORY_COLUMNS: tuple[str, ...] = (
    "player_id",
    "match_id",
    "ts",
    "map",
    "team",
    "result",
    "premade",
    "elo_before",
    "elo_after",
    "mates_elo",
    "extended",
    "rounds",
    "faction1_score",
    "faction2_score",
    *(s for s in STATS if s != "clutch_count"),
    "one_v_one_count",
    "one_v_two_count",
)
"""The columns of the match history :func:`model_frame` reads (models.history.load(columns=))."""

SHARE_WINDOWS: tuple[int, ...] = (10, 30, 100)
"""Windows (in earlier matches) of the Elo averages and the kill and death shares."""
SHARE_PRIOR = 100.0
"""Kill (death) shares are shrunk towards a fifth by this many expected team kills (deaths),
about a match and a quarter, so a player's first matches do not read as extremes."""
HALF_LIVES: tuple[int, ...] = (8, 25, 70, 200)
"""Half-lives (in earlier matches) of the recency-weighted Elo and kill and death shares: a
player's hidden skill drifts, and exponential weights follow it better than the fixed windows
(bench/model_quality.py: gap closed +0.008 on seed 9001, +0.023 on 4242, +0.014 on 777)."""
MATE_PRIOR = 3.0
"""The teammates' Elo edge is a weighted mean over earlier matches shrunk towards 0 by this
many matches' weight (a first match says little)."""

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
    **{f"elo_avg_{n}": f"average Elo over {n} matches" for n in SHARE_WINDOWS},
    **{f"kill_share_{n}": f"kill share over {n} matches" for n in SHARE_WINDOWS},
    "kill_share_all": "career kill share",
    **{f"death_share_{n}": f"death share over {n} matches" for n in SHARE_WINDOWS},
    "death_share_all": "career death share",
    **{f"elo_e{h}": f"recent Elo (half-life {h} matches)" for h in HALF_LIVES},
    **{f"kill_share_e{h}": f"recent kill share (half-life {h} matches)" for h in HALF_LIVES},
    **{f"death_share_e{h}": f"recent death share (half-life {h} matches)" for h in HALF_LIVES},
    **{f"mate_gap_e{h}": f"past teammates' Elo edge (half-life {h} matches)" for h in HALF_LIVES},
    "map_kill_share_rel": "{map} kill-share edge",
    "map_death_share_rel": "{map} death-share edge",
    "sniper_share": "share of sniper kills",
    "assists_pr": "assists per round",
    "utility_dpr": "utility damage per round",
    "flashes_pr": "flashes per round",
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


# ---- the model's view of the history ------------------------------------------------------


def model_frame(history: pl.DataFrame) -> pl.DataFrame:
    """One row per player-match of a models.history frame, sorted by player and time.

    Columns: ``player_id``, ``match_id``, ``ts`` (match start, epoch s), ``map``, ``faction``
    (1/2), ``result`` (1.0/0.0, null for a future match), ``elo_before``, ``elo_after``
    (nullable), ``rounds``, ``rounds_won`` (the player's team's score), ``ext`` (1.0 when the
    match has extended stats), ``premade`` (1.0 when the player's team was one party, known
    before the match), ``mate_gap`` (the teammates' mean Elo before the match minus the
    player's, 0 when unknown: a kill share won among stronger teammates is worth more) and
    :data:`STATS`, where an
    extended stat of a match without extended stats is 0 (every feature that uses one divides
    by the rounds or kills of extended matches only, ``rounds_ext``/``kills_ext``).
    """
    ext = pl.col("extended").fill_null(False).cast(pl.Float64)

    def stat(name: str) -> pl.Expr:
        value = pl.col(name).cast(pl.Float64)
        return (value * ext if name in _EXTENDED else value).fill_null(0.0)

    clutch = pl.col("one_v_one_count").cast(pl.Float64).fill_null(0.0) + pl.col(
        "one_v_two_count"
    ).cast(pl.Float64).fill_null(0.0)
    out = history.select(
        "player_id",
        "match_id",
        "ts",
        "map",
        pl.col("team").alias("faction"),
        pl.col("result").cast(pl.Float64),
        pl.col("elo_before").cast(pl.Float64),
        pl.col("elo_after").cast(pl.Float64),
        pl.col("rounds").cast(pl.Float64).fill_null(0.0),
        pl.when(pl.col("team") == 1)
        .then(pl.col("faction1_score"))
        .otherwise(pl.col("faction2_score"))
        .cast(pl.Float64)
        .fill_null(0.0)
        .alias("rounds_won"),
        ext.alias("ext"),
        pl.col("premade").cast(pl.Float64).fill_null(0.0),
        pl.col("mates_elo").cast(pl.Float64),
        *(stat(name).alias(name) for name in STATS if name != "clutch_count"),
        (clutch * ext).alias("clutch_count"),
    ).sort("player_id", "ts", "match_id")
    # Elo before a match, where the source does not say: the Elo after the player's previous
    # match (first match: undo one step)
    undo = pl.col("elo_after") - ELO_STEP * (2 * pl.col("result").fill_null(0.5) - 1)
    out = out.with_columns(
        pl.coalesce(pl.col("elo_before"), pl.col("elo_after").shift(1).over("player_id"), undo)
        .fill_null(1000.0)
        .alias("elo_before")
    )
    return out.with_columns(
        (pl.col("mates_elo") - pl.col("elo_before")).fill_null(0.0).alias("mate_gap")
    ).select(
        "player_id",
        "match_id",
        "ts",
        "map",
        "faction",
        "result",
        "elo_before",
        "elo_after",
        "rounds",
        "rounds_won",
        "ext",
        "premade",
        "mate_gap",
        *STATS,
    )


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
        expected_team_kills(pl.col("rounds_won"), pl.col("rounds")).alias("team_kills"),
        expected_team_deaths(pl.col("rounds_won"), pl.col("rounds")).alias("team_deaths"),
    )
    cum_cols = [
        "elo_before",
        "team_kills",
        "team_deaths",
        "assists",
        "utility_damage",
        "flash_count",
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
        _excl("team_kills", pm).alias("cm_team_kills"),
        _excl("team_deaths", pm).alias("cm_team_deaths"),
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
        _window("c_rounds_ext", 20).alias("r20_ext"),
        *(
            _window(f"c_{c}", n).alias(f"{c}_{n}")
            for n in SHARE_WINDOWS
            for c in ("one", "elo_before", "kills", "deaths", "team_kills", "team_deaths")
        ),
    )
    kd_all = (pl.col("c_kills") + 10.0) / (pl.col("c_deaths") + 10.0)
    f = f.with_columns(kd_all.alias("kd_all"))
    map_kd = (pl.col("cm_kills") + 20.0 * pl.col("kd_all")) / (pl.col("cm_deaths") + 20.0)
    kpr_all = (pl.col("c_kills") + 0.68 * 40.0) / (pl.col("c_rounds") + 40.0)
    map_kpr = (pl.col("cm_kills") + 60.0 * kpr_all) / (pl.col("cm_rounds") + 60.0)
    sniper_share = pl.col("c_sniper_kills") / (pl.col("c_kills_ext") + 5.0)

    def share(num: str, den: str) -> pl.Expr:
        # log of the shrunk share: a kill share is a ratio of team-relative strengths
        return ((pl.col(num) + 0.2 * SHARE_PRIOR) / (pl.col(den) + SHARE_PRIOR)).log()

    def map_share_rel(num: str, den: str, career: pl.Expr) -> pl.Expr:
        # the share on this map, shrunk towards the career one, over the career one (log): a
        # map affinity moves a player's kill share against his own teammates on that map
        on_map = (pl.col(num) + SHARE_PRIOR * career) / (pl.col(den) + SHARE_PRIOR)
        return (on_map / career).log()

    ks_all = (pl.col("c_kills") + 0.2 * SHARE_PRIOR) / (pl.col("c_team_kills") + SHARE_PRIOR)
    ds_all = (pl.col("c_deaths") + 0.2 * SHARE_PRIOR) / (pl.col("c_team_deaths") + SHARE_PRIOR)

    def recent(h: int) -> list[pl.Expr]:
        # exponentially weighted means of the earlier matches (the row's own left out), as
        # weighted sums (mean x total weight) so the shares shrink like the windowed ones
        a = 1.0 - 0.5 ** (1.0 / h)
        total = (1.0 - (1.0 - a) ** pl.col("c_one")) / a

        def ewm(column: str) -> pl.Expr:
            return pl.col(column).ewm_mean(half_life=h).shift(1).over(pid).fill_null(0.0) * total

        def ewm_share(num: str, den: str) -> pl.Expr:
            return ((ewm(num) + 0.2 * SHARE_PRIOR) / (ewm(den) + SHARE_PRIOR)).log()

        # the teammates' Elo edge: kill and death shares are shares among the teammates, so
        # the same share against stronger teammates means a stronger player (bench/
        # model_quality.py: gap closed 0.809 -> 0.858 on seed 9001, 0.794 -> 0.827 on 4242)
        mate_gap = (ewm("mate_gap") / (total + MATE_PRIOR)).alias(f"mate_gap_e{h}")

        return [
            # the current Elo counts once, as in ``elo_avg_*`` (its weight is bounded >= 0)
            ((ewm("elo_before") + pl.col("elo_before")) / (total + 1.0)).alias(f"elo_e{h}"),
            ewm_share("kills", "team_kills").alias(f"kill_share_e{h}"),
            ewm_share("deaths", "team_deaths").alias(f"death_share_e{h}"),
            mate_gap,
        ]

    windows = [
        expr
        for n in SHARE_WINDOWS
        for expr in (
            # the current Elo counts once (with the player's earlier ones): its weight is
            # bounded >= 0 like ``elo``'s, so the probability stays monotone in it
            ((pl.col(f"elo_before_{n}") + pl.col("elo_before")) / (pl.col(f"one_{n}") + 1.0)).alias(
                f"elo_avg_{n}"
            ),
            share(f"kills_{n}", f"team_kills_{n}").alias(f"kill_share_{n}"),
            share(f"deaths_{n}", f"team_deaths_{n}").alias(f"death_share_{n}"),
        )
    ]
    return f.select(
        *windows,
        share("c_kills", "c_team_kills").alias("kill_share_all"),
        share("c_deaths", "c_team_deaths").alias("death_share_all"),
        *(expr for h in HALF_LIVES for expr in recent(h)),
        map_share_rel("cm_kills", "cm_team_kills", ks_all).alias("map_kill_share_rel"),
        map_share_rel("cm_deaths", "cm_team_deaths", ds_all).alias("map_death_share_rel"),
        sniper_share.alias("sniper_share"),
        ((pl.col("c_assists") + 0.15 * 20.0) / (pl.col("c_rounds") + 20.0)).alias("assists_pr"),
        ((pl.col("c_utility_damage") + 5.0 * 20.0) / (pl.col("c_rounds_ext") + 20.0)).alias(
            "utility_dpr"
        ),
        ((pl.col("c_flash_count") + 0.4 * 20.0) / (pl.col("c_rounds_ext") + 20.0)).alias(
            "flashes_pr"
        ),
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
        ((pl.col("dmg20") + 75.0 * 40.0) / (pl.col("r20_ext") + 40.0)).alias("adr_20"),
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


TEAM_INPUTS: tuple[str, ...] = (*PLAYER_FEATURES, "awper")
"""The per-player columns :func:`team_features` reads (besides ids, map, time, result)."""


def team_feature_arrays(team_a: np.ndarray, team_b: np.ndarray) -> dict[str, np.ndarray]:
    """:func:`team_features` of next matches from arrays, without a frame: ``team_a`` and
    ``team_b`` are (matches, players, len(TEAM_INPUTS)) player inputs in :data:`TEAM_INPUTS`
    order (one match per row, e.g. one per map); returns every :data:`FEATURES` column and
    ``elo_a``/``elo_b``, one value per match. The same definitions as :func:`team_features`
    (a test holds them equal): means per team, the population spread of Elo, AWPers counted.
    """
    names = list(PLAYER_FEATURES)
    elo, awper = TEAM_INPUTS.index("elo"), TEAM_INPUTS.index("awper")

    def side(team: np.ndarray) -> dict[str, np.ndarray]:
        means = team[:, :, : len(names)].mean(axis=1)
        out = {n: means[:, i] for i, n in enumerate(names)}
        out["elo_std"] = team[:, :, elo].std(axis=1)
        out["awpers"] = team[:, :, awper].sum(axis=1)
        return out

    a, b = side(np.asarray(team_a, dtype=np.float64)), side(np.asarray(team_b, dtype=np.float64))
    columns = {f"d_{c}": a[c] - b[c] for c in (*names, "elo_std", "awpers")}
    columns.update(
        elo_a=a["elo"],
        elo_b=b["elo"],
        s_elo=(a["elo"] + b["elo"]) / 2.0,
        s_games=a["games"] + b["games"],
        s_awpers=a["awpers"] + b["awpers"],
    )
    return columns


def build_dataset(history: pl.DataFrame) -> pl.DataFrame:
    """One row per match of a models.history frame: pre-match team features, label ``y``
    (faction1 won), team Elos.

    Columns: ``match_id``, ``ts``, ``map``, ``y``, ``elo_a``, ``elo_b`` and :data:`FEATURES`,
    sorted by time. Every feature uses only the players' matches before the match.
    """
    return team_features(player_prior_features(model_frame(history)))


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

    ``history`` is a :func:`model_frame` frame (any superset of the ten players). The
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
    next_rows = next_rows.with_columns(pl.lit(0.0).alias(c) for c in UNPLAYED_ZEROS).select(
        hist.columns
    )
    players_frame = player_prior_features(pl.concat([hist, next_rows], how="vertical_relaxed"))
    return team_features(players_frame.filter(pl.col("match_id") == NEXT_MATCH_ID))
