"""Improvement plan: percentiles against same-level peers, what separates wins from losses,
and an Elo forecast for the next matches (Monte Carlo with FACEIT's Elo rule)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import polars as pl

from core.cs2 import elo_level
from models.match_outcome import normalise_frames

HEADLINE: dict[str, str] = {
    "kd": "K/D",
    "kpr": "kills per round",
    "adr": "ADR",
    "hs_pct": "headshot %",
    "win_rate": "win rate",
    "entry_success": "opening duel win rate",
    "utility_dpr": "utility damage per round",
}

# per-match stats compared between a player's wins and losses
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


def _current_elo(c: pl.DataFrame) -> pl.DataFrame:
    return (
        c.sort("ts")
        .group_by("player_id")
        .agg(
            pl.coalesce(
                pl.col("elo_after").last(),
                pl.col("elo_before").last(),
            ).alias("elo")
        )
    )


def player_stats(canonical: pl.DataFrame, last: int | None = 50) -> pl.DataFrame:
    """Headline stats per player over the last ``last`` matches (all when None) + level."""
    c = canonical.sort("player_id", "ts")
    if last:
        c = c.group_by("player_id", maintain_order=True).tail(last)
    re = (pl.col("rounds") * pl.col("ext")).sum().clip(lower_bound=1)
    agg = c.group_by("player_id").agg(
        pl.len().alias("matches"),
        (pl.col("kills").sum() / pl.col("deaths").sum().clip(lower_bound=1)).alias("kd"),
        (pl.col("kills").sum() / pl.col("rounds").sum().clip(lower_bound=1)).alias("kpr"),
        (pl.col("damage").sum() / pl.col("rounds").sum().clip(lower_bound=1)).alias("adr"),
        (100.0 * pl.col("headshots").sum() / pl.col("kills").sum().clip(lower_bound=1)).alias(
            "hs_pct"
        ),
        pl.col("result").mean().alias("win_rate"),
        (pl.col("entry_wins").sum() / pl.col("entry_count").sum().clip(lower_bound=1)).alias(
            "entry_success"
        ),
        (pl.col("utility_damage").sum() / re).alias("utility_dpr"),
    )
    elo = _current_elo(canonical)
    return (
        agg.join(elo, on="player_id", how="left")
        .with_columns(
            pl.col("elo")
            .map_batches(lambda s: pl.Series(elo_level(s.fill_null(1000).to_numpy())))
            .alias("level")
        )
        .sort("player_id")
    )


def peer_percentiles(stats: pl.DataFrame, player_id: str) -> dict[str, Any]:
    """Percentile (0-100, share of same-level peers below, ties half) of each headline stat."""
    me = stats.filter(pl.col("player_id") == player_id)
    if me.height == 0:
        raise KeyError(player_id)
    level = int(me["level"][0])
    peers = stats.filter((pl.col("level") == level) & (pl.col("player_id") != player_id))
    out: dict[str, Any] = {"level": level, "peers": peers.height, "stats": {}}
    for stat, label in HEADLINE.items():
        value = me[stat][0]
        vals = peers[stat].drop_nulls().to_numpy()
        if value is None or len(vals) == 0:
            pct = None
        else:
            pct = 100.0 * (np.sum(vals < value) + 0.5 * np.sum(vals == value)) / len(vals)
        out["stats"][stat] = {
            "label": label,
            "value": None if value is None else float(value),
            "peer_median": float(np.median(vals)) if len(vals) else None,
            "percentile": None if pct is None else float(pct),
        }
    return out


def win_loss_drivers(canonical: pl.DataFrame, player_id: str, top: int = 3) -> list[dict[str, Any]]:
    """Stats that most separate the player's wins from losses (standardised mean difference)."""
    c = canonical.filter((pl.col("player_id") == player_id) & pl.col("result").is_not_null())
    r = pl.col("rounds").clip(lower_bound=1)
    per = c.select(
        pl.col("result"),
        pl.col("ext"),
        (pl.col("kills") / r).alias("kpr"),
        (pl.col("deaths") / r).alias("dpr"),
        (pl.col("damage") / r).alias("adr"),
        (100.0 * pl.col("headshots") / pl.col("kills").clip(lower_bound=1)).alias("hs_pct"),
        (pl.col("assists") / r).alias("apr"),
        (pl.col("entry_wins") / pl.col("entry_count").clip(lower_bound=1)).alias("entry_success"),
        (pl.col("utility_damage") / r).alias("utility_dpr"),
        (pl.col("flash_count") / r).alias("flashes_pr"),
    )
    extended = {"entry_success", "utility_dpr", "flashes_pr"}
    drivers: list[dict[str, Any]] = []
    for stat, label in MATCH_STATS.items():
        rows = per.filter(pl.col("ext") > 0) if stat in extended else per
        won = rows.filter(pl.col("result") > 0.5)[stat].to_numpy()
        lost = rows.filter(pl.col("result") <= 0.5)[stat].to_numpy()
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


def improvement_plan(
    player_id: str,
    match_players: pl.DataFrame,
    matches: pl.DataFrame,
    *,
    win_probability: float | Sequence[float] | None = None,
    last: int | None = 50,
    seed: int = 0,
) -> dict[str, Any]:
    """Peer percentiles, win/loss drivers, weakest stats and a 20-match Elo forecast.

    ``win_probability`` defaults to the player's recent win rate shrunk toward 0.5.
    """
    canonical = normalise_frames(match_players, matches)
    stats = player_stats(canonical, last=last)
    percentiles = peer_percentiles(stats, player_id)
    drivers = win_loss_drivers(canonical, player_id)
    me = stats.filter(pl.col("player_id") == player_id).row(0, named=True)
    if win_probability is None:
        recent = canonical.filter(pl.col("player_id") == player_id).sort("ts").tail(20)
        wins = float(recent["result"].fill_null(0.5).sum())
        win_probability = (wins + 5.0) / (recent.height + 10.0)
    ranked = sorted(
        (
            (s, v["percentile"])
            for s, v in percentiles["stats"].items()
            if v["percentile"] is not None and s != "win_rate"
        ),
        key=lambda kv: (kv[1], kv[0]),
    )
    focus = [
        f"{HEADLINE[s].capitalize()} is at the {ordinal(round(pct))} percentile of "
        f"level {percentiles['level']} players"
        for s, pct in ranked[:2]
    ]
    for d in drivers[:1]:
        focus.append(
            f"In your wins your {d['label']} is {d['in_wins']:.2f} vs {d['in_losses']:.2f} "
            "in losses: the biggest difference"
        )
    return {
        "player_id": player_id,
        "elo": float(me["elo"]) if me["elo"] is not None else None,
        "level": percentiles["level"],
        "percentiles": percentiles,
        "drivers": drivers,
        "focus": focus,
        "forecast": elo_forecast(float(me["elo"] or 1000.0), win_probability, seed=seed),
    }
