"""Improvement plan: percentiles against same-level peers, what separates wins from losses,
and an Elo forecast for the next matches (Monte Carlo with FACEIT's Elo rule)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import polars as pl

from core.cs2 import elo_level
from models import features, peers
from models.results import PeerBenchmarks

# the stats ranked against peers and those compared between wins and losses: names of the one
# stats vocabulary (models.features.RATIO_METRICS) with how the plan's sentences say them
HEADLINE: dict[str, str] = {
    "kd": "K/D",
    "kpr": "kills per round",
    "adr": "ADR",
    "hs_pct": "headshot %",
    "win_rate": "win rate",
    "entry_success": "opening duel win rate",
    "utility_dpr": "utility damage per round",
}
MATCH_STATS: dict[str, str] = {
    "kpr": "kills per round",
    "dpr": "deaths per round",
    "adr": "damage per round",
    "hs_pct": "headshot %",
    "apr": "assists per round",
    "entry_success": "opening duels won",
    "utility_dpr": "utility damage per round",
    "flashes_pr": "flashes per round",
}


def ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def _current_elo(history: pl.DataFrame) -> pl.DataFrame:
    """The latest known Elo of each player: the last recorded Elo point, else the Elo the
    source gave before the last match."""
    return (
        history.sort("player_id", "ts", "match_id")
        .group_by("player_id")
        .agg(
            pl.coalesce(
                pl.col("elo_after").drop_nulls().last(),
                pl.col("elo_before").drop_nulls().last(),
            ).alias("elo")
        )
    )


def player_stats(
    history: pl.DataFrame, last: int | None = 50, levels: Mapping[str, int] | None = None
) -> pl.DataFrame:
    """The headline stats of every player over their last ``last`` matches (all when None),
    from the stats vocabulary, with their current Elo and level: ``levels`` (player id ->
    FACEIT level, what the dashboards show) where given, else the level of the history's
    latest Elo."""
    stats = features.window_stats(history, last).select("player_id", "matches", *HEADLINE)
    out = stats.join(_current_elo(history), on="player_id", how="left").with_columns(
        pl.col("elo")
        .map_batches(lambda s: pl.Series(elo_level(s.fill_null(1000).to_numpy())))
        .alias("level")
    )
    if levels is not None:
        known = pl.DataFrame(
            {"player_id": list(levels), "_level": list(levels.values())},
            schema={"player_id": pl.String(), "_level": pl.Int64()},
        )
        out = (
            out.join(known, on="player_id", how="left")
            .with_columns(pl.coalesce("_level", pl.col("level").cast(pl.Int64)).alias("level"))
            .drop("_level")
        )
    return out.sort("player_id")


def roster_of(stats: pl.DataFrame) -> dict[str, tuple[int, str | None]]:
    """Player id -> (level, no region) from :func:`player_stats`: the groups of an in-memory
    peer table (models.peers.build_table) when only levels are known."""
    return {pid: (int(level), None) for pid, level in stats.select("player_id", "level").rows()}


def peer_percentiles(marks: PeerBenchmarks) -> dict[str, Any]:
    """The headline stats' percentiles (:func:`models.features.percentile`) among the peer
    group of models.peers (level and region, else level, else none), with how many peers have
    a value for each and how many the group has."""
    out: dict[str, Any] = {
        "level": marks.level,
        "peers": marks.peers,
        "group": marks.group,
        "region": marks.group_region,
        "fallback": marks.fallback,
        "stats": {},
    }
    for stat, label in HEADLINE.items():
        mark = marks.stats[stat]
        out["stats"][stat] = {
            "label": label,
            "value": mark.value,
            "peer_median": mark.peer_median,
            "percentile": mark.percentile,
            "peers": mark.peers,
        }
    return out


def win_loss_drivers(history: pl.DataFrame, player_id: str, top: int = 3) -> list[dict[str, Any]]:
    """Stats that most separate the player's wins from losses (standardised mean difference
    of the per-match values; a match that did not record a stat is left out of it)."""
    mine = history.filter(pl.col("player_id") == player_id)
    per = features.match_rates(mine, list(MATCH_STATS)).filter(pl.col("result").is_not_null())
    result = per["result"].to_numpy()
    drivers: list[dict[str, Any]] = []
    for stat, label in MATCH_STATS.items():
        values = per[stat].cast(pl.Float64).to_numpy()
        kept = np.isfinite(values)
        won = values[kept & result]
        lost = values[kept & ~result]
        if len(won) < 2 or len(lost) < 2:
            continue
        pooled = np.sqrt((won.var(ddof=1) + lost.var(ddof=1)) / 2.0)
        if not np.isfinite(pooled) or pooled <= 0:
            continue
        smd = float((won.mean() - lost.mean()) / pooled)
        drivers.append(
            {
                "stat": stat,
                "label": label,
                "in_wins": float(won.mean()),
                "in_losses": float(lost.mean()),
                "smd": smd,
            }
        )
    drivers.sort(key=lambda d: (-abs(d["smd"]), d["stat"]))
    return drivers[:top]


def elo_forecast(
    current_elo: float,
    win_probability: float | Sequence[float],
    *,
    matches: int = 20,
    simulations: int = 1000,
    expected: float | Sequence[float] = 0.5,
    k: float = 50.0,
    seed: int = 0,
) -> dict[str, Any]:
    """Monte Carlo Elo paths over the next ``matches``: p10/p50/p90 after each match.

    Each match is won with ``win_probability`` (one value or one per match: from the model or
    the Elo baseline); the Elo moves by FACEIT's rule ``round(k * (result - expected))`` where
    ``expected`` is the Elo expected score against the opponents (0.5 = even lobby: +-25).
    """
    p = np.broadcast_to(np.asarray(win_probability, dtype=np.float64), (matches,))
    e = np.broadcast_to(np.asarray(expected, dtype=np.float64), (matches,))
    rng = np.random.default_rng(seed)
    wins = rng.random((simulations, matches)) < p
    delta = np.round(k * (wins.astype(np.float64) - e))
    paths = np.maximum(current_elo + np.cumsum(delta, axis=1), 100.0)
    q = np.percentile(paths, [10, 50, 90], axis=0)
    return {
        "start": float(current_elo),
        "matches": matches,
        "p10": [float(v) for v in q[0]],
        "p50": [float(v) for v in q[1]],
        "p90": [float(v) for v in q[2]],
        "expected_change": float(np.mean(paths[:, -1]) - current_elo),
    }


RECENT_MATCHES = 20
"""The matches the forecast's default win probability is taken over."""


def plan_inputs(mine: pl.DataFrame, player_id: str) -> dict[str, Any]:
    """What the plan reads from the player's own history ``mine`` (JSON-ready, so the peer
    table can hold it: models.peers stores it with each member): the win/loss drivers, the
    wins (a draw or unknown result half) and matches of the latest :data:`RECENT_MATCHES`, and
    the latest Elo of the history (None without Elo columns or points)."""
    recent = mine.sort("ts").tail(RECENT_MATCHES)
    elo = None
    if {"elo_after", "elo_before"} <= set(mine.columns):
        latest = _current_elo(mine)
        if latest.height and latest["elo"][0] is not None:
            elo = float(latest["elo"][0])
    return {
        "drivers": win_loss_drivers(mine, player_id),
        "recent_wins": float(recent["result"].cast(pl.Float64).fill_null(0.5).sum()),
        "recent_matches": int(recent.height),
        "elo": elo,
    }


def improvement_plan(
    player_id: str,
    history: pl.DataFrame,
    *,
    benchmarks: PeerBenchmarks | None = None,
    win_probability: float | Sequence[float] | None = None,
    levels: Mapping[str, int] | None = None,
    current_elo: float | None = None,
    seed: int = 0,
) -> dict[str, Any]:
    """Peer percentiles, win/loss drivers, weakest stats and a 20-match Elo forecast.

    ``benchmarks`` (models.peers: the peer table's lookup) give the percentiles; without them
    they are computed from ``history`` (every peer's history then) by the same definition,
    the groups by ``levels`` (else each player's latest Elo). ``history`` needs only the
    player's own matches otherwise. ``win_probability`` defaults to the player's recent win
    rate shrunk toward 0.5; ``current_elo`` (the player's Elo now, as the dashboards show it)
    defaults to the latest Elo of the history, and is where the forecast starts.
    """
    mine = history.filter(pl.col("player_id") == player_id)
    if benchmarks is None:
        stats = player_stats(history, last=features.PEER_WINDOW, levels=levels)
        table = peers.build_table(history, roster_of(stats))
        benchmarks = peers.benchmarks(table, player_id)
    return plan_from_inputs(
        player_id,
        plan_inputs(mine, player_id),
        benchmarks,
        win_probability=win_probability,
        current_elo=current_elo,
        seed=seed,
    )


def plan_from_inputs(
    player_id: str,
    inputs: Mapping[str, Any],
    benchmarks: PeerBenchmarks,
    *,
    win_probability: float | Sequence[float] | None = None,
    current_elo: float | None = None,
    seed: int = 0,
) -> dict[str, Any]:
    """:func:`improvement_plan` from the player's :func:`plan_inputs` (as the peer table
    holds them) and benchmarks: no history read."""
    percentiles = peer_percentiles(benchmarks)
    drivers = [dict(d) for d in inputs["drivers"]]
    elo = current_elo if current_elo is not None else inputs["elo"]
    level = benchmarks.level or int(elo_level(elo if elo is not None else 1000))
    percentiles["level"] = level
    if win_probability is None:
        win_probability = (inputs["recent_wins"] + 5.0) / (inputs["recent_matches"] + 10.0)
    ranked = sorted(
        (
            (s, v["percentile"])
            for s, v in percentiles["stats"].items()
            if v["percentile"] is not None and s != "win_rate"
        ),
        key=lambda kv: (kv[1], kv[0]),
    )
    group = benchmarks.group or peers.label(level, None)
    focus = [
        f"{HEADLINE[s][:1].upper()}{HEADLINE[s][1:]} is at the {ordinal(round(pct))} percentile of "
        f"{group} players"
        for s, pct in ranked[:2]
    ]
    for d in drivers[:1]:
        focus.append(
            f"In your wins your {d['label']} is {d['in_wins']:.2f} vs {d['in_losses']:.2f} "
            "in losses: the biggest difference"
        )
    return {
        "player_id": player_id,
        "elo": float(elo) if elo is not None else None,
        "level": level,
        "matches": benchmarks.matches,  # the matches the stats are over: the last PEER_WINDOW
        "percentiles": percentiles,
        "drivers": drivers,
        "focus": focus,
        "forecast": elo_forecast(float(elo or 1000.0), win_probability, seed=seed),
    }
