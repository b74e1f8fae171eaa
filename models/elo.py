"""Elo per match and the level band: what FACEIT's own match list and level bar show.

The Elo history (:func:`models.history.load_elo`, one point per recorded match, ``estimated``
when it was back-filled from the current Elo rather than observed at a sync) becomes one
*change* per match: the point's Elo minus the previous point's. A change is estimated when
either of its two points is. The level band comes from core.cs2's thresholds.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import polars as pl

from core.cs2 import LEVEL_THRESHOLDS, elo_level

ELO_CHANGE_SCHEMA: dict[str, pl.DataType] = {
    "player_id": pl.String(),
    "match_id": pl.String(),
    "recorded_at": pl.Datetime("us", "UTC"),
    "elo": pl.Int32(),
    "change": pl.Int32(),
    "estimated": pl.Boolean(),
    "change_estimated": pl.Boolean(),
}


def elo_changes(points: pl.DataFrame) -> pl.DataFrame:
    """Every Elo point (:data:`models.history.ELO_SCHEMA`) with ``change`` (Int32: this
    point's Elo minus the player's previous point's; null on a player's first point) and
    ``change_estimated`` (True when this point or the previous one is estimated; ``estimated``
    stays the point's own flag, what the Elo chart draws). Oldest first per
    player (the input's order within a player is kept: ``load_elo`` orders by time)."""
    if points.is_empty():
        return pl.DataFrame(schema=ELO_CHANGE_SCHEMA)
    previous_estimated = pl.col("estimated").shift(1).over("player_id")
    out = points.with_columns(
        (pl.col("elo").cast(pl.Int32) - pl.col("elo").cast(pl.Int32).shift(1).over("player_id"))
        .cast(pl.Int32)
        .alias("change"),
        pl.col("estimated").fill_null(False),
        (pl.col("estimated").fill_null(False) | previous_estimated.fill_null(False)).alias(
            "change_estimated"
        ),
    )
    return out.select([pl.col(c).cast(t) for c, t in ELO_CHANGE_SCHEMA.items()])


def changes_by_match(
    points: pl.DataFrame, match_ids: Sequence[str] | None = None
) -> dict[str, tuple[int | None, bool]]:
    """Match id -> (Elo change, estimated) for the points that name a match (of ``match_ids``
    only when given: a list of 10 matches builds 10 entries, not one per point)."""
    changes = elo_changes(points).filter(pl.col("match_id").is_not_null())
    if match_ids is not None:
        changes = changes.filter(pl.col("match_id").is_in(list(match_ids)))
    return {
        row["match_id"]: (row["change"], bool(row["change_estimated"]))
        for row in changes.iter_rows(named=True)
    }


def with_elo_changes(rows: list[dict[str, Any]], points: pl.DataFrame) -> list[dict[str, Any]]:
    """core.crud.recent_matches rows plus ``elo_change`` (int or None: no point recorded for
    the match, or the player's first point) and ``elo_estimated`` (bool)."""
    ids = [row["match_id"] for row in rows]
    changes = changes_by_match(points, ids)
    out = []
    for row in rows:
        change, estimated = changes.get(row["match_id"], (None, False))
        out.append({**row, "elo_change": change, "elo_estimated": estimated and change is not None})
    return out


@dataclass(frozen=True)
class LevelBand:
    """Where an Elo stands in FACEIT's skill levels."""

    elo: int
    level: int
    low: int
    """Lowest Elo of the level."""
    high: int | None
    """Highest Elo of the level (None at level 10, which has no top)."""
    to_next: int | None
    """Elo to gain to reach the next level (None at level 10)."""
    to_previous: int | None
    """Elo to lose to drop to the previous level (None at level 1)."""

    @property
    def progress(self) -> float | None:
        """Share of the band already climbed, 0-1 (None at level 10)."""
        if self.high is None:
            return None
        return (self.elo - self.low) / (self.high + 1 - self.low)


def level_band(elo: int) -> LevelBand:
    """The level of ``elo`` (core.cs2.elo_level), its band, and the Elo to the next level and
    to the previous one: at 1,200 (level 5, 1,051-1,200) it is 1 to level 6 and 150 to level 4."""
    elo = int(elo)
    level = int(elo_level(elo))
    low = 0 if level == 1 else int(LEVEL_THRESHOLDS[level - 2])
    high = None if level == 10 else int(LEVEL_THRESHOLDS[level - 1]) - 1
    to_next = None if high is None else high + 1 - elo
    to_previous = None if level == 1 else elo - low + 1
    return LevelBand(elo, level, low, high, to_next, to_previous)
