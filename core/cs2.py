"""Counter-Strike 2 on FACEIT: the domain constants every layer shares.

The active map pool and its display labels, the skill-level thresholds with :func:`elo_level`,
and the Elo step of an even match. This module imports nothing heavy, so the API schemas and
the app pages can take the map list without loading a model library.
"""

from __future__ import annotations

from typing import Any

import numpy as np

MAP_POOL: tuple[str, ...] = (
    "de_mirage",
    "de_inferno",
    "de_nuke",
    "de_ancient",
    "de_anubis",
    "de_dust2",
    "de_train",
)
"""The active competitive map pool, in FACEIT's order."""

MAP_LABELS: dict[str, str] = {m: m.removeprefix("de_").capitalize() for m in MAP_POOL}
MAP_LABELS["de_dust2"] = "Dust2"
"""Display label of each pool map ("de_dust2" -> "Dust2")."""

LEVEL_THRESHOLDS = np.array([501, 751, 901, 1051, 1201, 1351, 1531, 1751, 2001])
"""Lowest Elo of skill levels 2..10 (level 1 is below 501)."""

ELO_STEP = 25
"""Elo won or lost in an even match (FACEIT's rule ``round(50 * (result - expected))``)."""


TEAM_KILLS_PER_ROUND_WON = 4.6
"""Kills of a team in a round it wins (most of the five opponents die; a save or a bomb ends
some rounds early)."""
TEAM_KILLS_PER_ROUND_LOST = 2.0
"""Kills of a team in a round it loses (the trades before the wipe)."""


def elo_level(elo: Any) -> np.ndarray:
    """FACEIT CS2 skill level 1-10 of an Elo value or array (an array, 0-d for a scalar)."""
    return np.searchsorted(LEVEL_THRESHOLDS, np.asarray(elo, dtype=np.float64), side="right") + 1
