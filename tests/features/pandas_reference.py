"""Straightforward pandas reference of :func:`models.features.player_summary` and
:func:`models.features.map_stats`.

Written for clarity with plain ``groupby`` idioms; the tests use it as the oracle for the
polars implementation and ``bench/features.py`` uses it as the baseline. Same definitions,
same output columns (see models.features); missing values are NaN here instead of null.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from models.features import (
    ADR_AVG,
    DEFAULT_WINDOWS,
    ELO_TREND_WINDOW,
    FORM_SPAN,
    KILLS_PER_ROUND_AVG,
    MULTIKILL_PER_ROUND_AVG,
    RATIO_METRICS,
    SURVIVED_PER_ROUND_AVG,
)

_OPTIONAL = (
    "map",
    "assists",
    "headshots",
    "mvps",
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


def prepare(df: pd.DataFrame) -> pd.DataFrame:
    """Sorted copy with the helper columns and the per-match ``rating``."""
    df = df.copy()
    for col in _OPTIONAL:
        if col not in df.columns:
            df[col] = np.nan
    numeric = [c for c in _OPTIONAL if c != "map"] + ["kills", "deaths", "rounds"]
    for col in numeric:
        df[col] = pd.to_numeric(df[col], errors="coerce").astype("float64")
    df["rounds_v"] = df["rounds"].where(df["rounds"] > 0)
    df["damage_v"] = df["damage"].fillna(df["adr"] * df["rounds_v"])
    df["win"] = df["result"].astype("float64")
    df["one"] = 1.0
    df["multikills"] = (
        df["double_kills"] + df["triple_kills"] + df["quadro_kills"] + df["penta_kills"]
    )
    df["clutches"] = df["one_v_one_count"] + df["one_v_two_count"]
    r = df["rounds_v"]
    k2 = df["double_kills"].fillna(0)
    k3 = df["triple_kills"].fillna(0)
    k4 = df["quadro_kills"].fillna(0)
    k5 = df["penta_kills"].fillna(0)
    k1 = (df["kills"] - 2 * k2 - 3 * k3 - 4 * k4 - 5 * k5).clip(lower=0)
    base = (
        df["kills"] / r / KILLS_PER_ROUND_AVG
        + 0.7 * (r - df["deaths"]) / r / SURVIVED_PER_ROUND_AVG
        + (k1 + 4 * k2 + 9 * k3 + 16 * k4 + 25 * k5) / r / MULTIKILL_PER_ROUND_AVG
    )
    with_adr = (base + df["damage_v"] / r / ADR_AVG) / 3.7
    df["rating"] = np.where(df["damage_v"].isna(), base / 2.7, with_adr)
    df.loc[r.isna(), "rating"] = np.nan
    return df.sort_values(["player_id", "finished_at", "match_id"], kind="stable").reset_index(
        drop=True
    )


def _window_stats(df: pd.DataFrame, suffix: str) -> pd.DataFrame:
    g = df.groupby("player_id", sort=True)
    out = pd.DataFrame({f"matches_{suffix}": g.size()})
    for name, (num, den, scale) in RATIO_METRICS.items():
        valid = df[num].notna() & df[den].notna()
        parts = pd.DataFrame(
            {
                "player_id": df["player_id"],
                "n": df[num].where(valid),
                "d": df[den].where(valid),
            }
        )
        sums = parts.groupby("player_id", sort=True)[["n", "d"]].sum()
        out[f"{name}_{suffix}"] = (sums["n"] * scale / sums["d"]).where(sums["d"] > 0)
    out[f"rating_{suffix}"] = g["rating"].mean()
    out[f"consistency_{suffix}"] = g["rating"].std(ddof=1)
    return out


def _streaks(results: pd.Series) -> pd.Series:
    values = results.fillna(False).astype(bool).tolist()
    longest = run = 0
    for won in values:
        run = run + 1 if won else 0
        longest = max(longest, run)
    current = 0
    if values:
        last = values[-1]
        for won in reversed(values):
            if won != last:
                break
            current += 1
        current = current if last else -current
    return pd.Series({"current_streak": current, "longest_win_streak": longest})


def _slope(elo: pd.Series) -> float:
    if len(elo) < 2:
        return float("nan")
    x = np.arange(len(elo), dtype=np.float64)
    return float(np.polyfit(x, elo.to_numpy(dtype=np.float64), 1)[0])


def player_summary(
    df: pd.DataFrame,
    windows: Sequence[int] = DEFAULT_WINDOWS,
    *,
    elo_history: pd.DataFrame | None = None,
    elo_window: int = ELO_TREND_WINDOW,
) -> pd.DataFrame:
    """Reference :func:`models.features.player_summary`, indexed 0..n, sorted by player."""
    df = prepare(df)
    parts = [_window_stats(df, "lifetime")]
    for n in windows:
        parts.append(_window_stats(df.groupby("player_id").tail(n), f"last{n}"))
    out = pd.concat(parts, axis=1)
    rated = df[df["rating"].notna()]
    out["form"] = rated.groupby("player_id")["rating"].apply(
        lambda s: s.ewm(span=FORM_SPAN, adjust=True).mean().iloc[-1]
    )
    streaks = df.groupby("player_id")["result"].apply(_streaks).unstack()
    out["current_streak"] = streaks["current_streak"].astype("int64")
    out["longest_win_streak"] = streaks["longest_win_streak"].astype("int64")
    if elo_history is not None and len(elo_history):
        elo = elo_history.sort_values(["player_id", "recorded_at"], kind="stable")
        last = elo.groupby("player_id").tail(elo_window)
        out["elo_trend"] = last.groupby("player_id")["elo"].apply(_slope)
        out["elo_current"] = last.groupby("player_id")["elo"].last()
    else:
        out["elo_trend"] = np.nan
        out["elo_current"] = np.nan
    out["last_match_at"] = df.groupby("player_id")["finished_at"].max()
    out.index.name = "player_id"
    return out.reset_index()


def map_stats(df: pd.DataFrame) -> pd.DataFrame:
    """Reference :func:`models.features.map_stats`."""
    df = prepare(df)
    keys = ["player_id", "map"]
    g = df.groupby(keys, dropna=False, sort=True)
    out = pd.DataFrame({"matches": g.size(), "wins": g["win"].sum().astype("int64")})
    for name in ("win_rate", "kd", "adr"):
        num, den, _scale = RATIO_METRICS[name]
        valid = df[num].notna() & df[den].notna()
        parts = df[keys].assign(n=df[num].where(valid), d=df[den].where(valid))
        sums = parts.groupby(keys, dropna=False, sort=True)[["n", "d"]].sum()
        out[name] = (sums["n"] / sums["d"]).where(sums["d"] > 0)
    out["rating"] = g["rating"].mean()
    out = out.reset_index()
    return out.sort_values(
        ["player_id", "matches", "map"], ascending=[True, False, True], kind="stable"
    ).reset_index(drop=True)
