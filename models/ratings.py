"""0-100 ratings in Leetify's spirit: aim, utility, opening duels, clutching, support.

Every rating is built from stats of the one vocabulary (models.features.RATIO_METRICS), over
each player's last :data:`RATING_WINDOW` matches, against the players of the same FACEIT level
(the level the dashboards show):

* each stat's z-score: ``z = (value - mean) / std`` of the same-level peers' values (the
  player not among them, sample std); a stat is rated only when the player has a value and at
  least :data:`MIN_PEERS` peers have one (a legacy match without extended stats adds nothing to
  an extended stat, so a player with only legacy matches has no utility rating);
* a rating's z is the mean of its rated stats' z-scores, and the rating is
  ``round(100 * Phi(z))``, Phi the standard normal CDF: 50 is the level average, 84 one
  standard deviation above it, 16 one below, 98 two above;
* its peer count is the fewest peers any of its rated stats was compared with;
* when the level has fewer than :data:`MIN_PEERS` other players, the group widens to the
  levels one away, then two away (:data:`MAX_SPREAD`), and says so (``peer_levels``).

FACEIT's API has no flash-assist count in the stored history, so support is assists per round.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np
import polars as pl
from sqlalchemy.orm import Session, sessionmaker

from core import crud
from core.db.schema import Player
from models import features, history
from models.errors import AnalysisError, UnknownSubject
from models.improvement import player_stats
from models.results import PlayerRatings, Rating, RatingStat

RATING_WINDOW = 50
MIN_PEERS = 5
MAX_SPREAD = 2
"""Levels away from the player's the peer group may widen to when the level has too few."""
SCALE = (
    "rating = round(100 * Phi(z)), Phi the standard normal CDF and z the mean z-score of the "
    "rating's stats against the same level's players: 50 = the level average, 84 = one "
    "standard deviation above, 16 = one below"
)

# rating -> (label, what it measures, its stats with their labels)
RATINGS: dict[str, tuple[str, str, dict[str, str]]] = {
    "aim": (
        "Aim",
        "headshot %, kills per round and ADR",
        {"hs_pct": "Headshot %", "kpr": "Kills per round", "adr": "ADR"},
    ),
    "utility": (
        "Utility",
        "utility damage, successful flashes and enemies flashed per round",
        {
            "utility_dpr": "Utility damage per round",
            "flash_successes_pr": "Successful flashes per round",
            "enemies_flashed_pr": "Enemies flashed per round",
        },
    ),
    "opening": (
        "Opening duels",
        "opening duels taken per round and won",
        {"entry_rate": "Opening duels per round", "entry_success": "Opening duels won"},
    ),
    "clutching": (
        "Clutching",
        "1v1 and 1v2 clutches won per attempt",
        {"clutch_1v1_win_rate": "1v1 clutches won", "clutch_1v2_win_rate": "1v2 clutches won"},
    ),
    "support": ("Support", "assists per round", {"apr": "Assists per round"}),
}


def to_scale(z: float) -> int:
    """``round(100 * Phi(z))``: 0 -> 50, 1 -> 84, -1 -> 16."""
    return round(100 * 0.5 * (1 + math.erf(z / math.sqrt(2))))


def _standing(rating: int) -> str:
    if rating >= 75:
        return "well above"
    if rating >= 60:
        return "above"
    if rating > 40:
        return "about at"
    if rating > 25:
        return "below"
    return "well below"


def _stat(
    name: str, label: str, value: float | None, peers: np.ndarray, min_peers: int
) -> RatingStat:
    peers = peers[np.isfinite(peers)]
    mean = float(peers.mean()) if peers.size else None
    std = float(peers.std(ddof=1)) if peers.size >= 2 else None
    z = None
    if value is not None and math.isfinite(value) and peers.size >= min_peers and std:
        z = (value - float(peers.mean())) / std
    return RatingStat(
        stat=name, label=label, value=value, peer_mean=mean, peer_std=std, z=z, peers=peers.size
    )


def player_ratings(
    player_id: str,
    frame: pl.DataFrame,
    levels: Mapping[str, int] | None = None,
    *,
    nickname: str | None = None,
    last: int = RATING_WINDOW,
    min_peers: int = MIN_PEERS,
) -> PlayerRatings:
    """The five ratings of ``player_id`` from ``frame`` (the player's and the peers' history;
    ``levels`` as in :func:`models.improvement.player_stats`)."""
    stats = features.window_stats(frame, last).join(
        player_stats(frame, last, levels).select("player_id", "level"), on="player_id"
    )
    me = stats.filter(pl.col("player_id") == player_id)
    if me.height == 0:
        raise KeyError(player_id)
    level = int(me["level"][0])
    others = stats.filter(pl.col("player_id") != player_id)
    # the level's players; when they are too few, the nearest levels too (one, then two away)
    for spread in range(MAX_SPREAD + 1):
        peers = others.filter((pl.col("level") - level).abs() <= spread)
        if peers.height >= min_peers:
            break
    peer_levels = sorted({int(v) for v in peers["level"]}) or [level]
    group = (
        f"level-{level}" if peer_levels == [level] else f"level {peer_levels[0]}-{peer_levels[-1]}"
    )
    ratings = []
    for key, (label, measures, parts) in RATINGS.items():
        rated = [
            _stat(
                name,
                stat_label,
                me[name][0],
                peers[name].drop_nulls().cast(pl.Float64).to_numpy(),
                min_peers,
            )
            for name, stat_label in parts.items()
        ]
        zs = [s.z for s in rated if s.z is not None]
        if zs:
            z = float(np.mean(zs))
            rating = to_scale(z)
            peer_count = min(s.peers for s in rated if s.z is not None)
            explanation = (
                f"{label} {rating}: your {measures} put you {_standing(rating)} the {group} "
                f"average (50), against {peer_count} players."
            )
        else:
            z, rating, peer_count = None, None, 0
            explanation = (
                f"{label}: not rated, too few {group} players (fewer than {min_peers}) or "
                f"none of your matches recorded {measures}."
            )
        ratings.append(
            Rating(
                key=key,
                label=label,
                rating=rating,
                z=z,
                peers=peer_count,
                explanation=explanation,
                stats=rated,
            )
        )
    return PlayerRatings(
        nickname=nickname or player_id,
        level=level,
        peer_levels=peer_levels,
        matches=int(me["matches"][0]),
        window=last,
        scale=SCALE,
        ratings=ratings,
    )


def ratings_for(sessions: sessionmaker[Session], player_id: str) -> PlayerRatings:
    """The ratings of a stored player; only the player's and the peers' histories (levels up to
    :data:`MAX_SPREAD` away) are loaded."""
    with sessions() as session:
        player = session.get(Player, player_id)
        if player is None:
            raise UnknownSubject("Unknown player.")
        levels = crud.skill_levels(session)
        level = levels.get(player_id)
        near = [p for p, lv in levels.items() if level and abs(lv - level) <= MAX_SPREAD]
        peers = near if level else None
        frame = history.load(session, None if peers is None else [player_id, *peers])
    if not frame.filter(pl.col("player_id") == player_id).height:
        raise AnalysisError(f"No matches stored yet for {player.nickname}.")
    return player_ratings(player_id, frame, levels or None, nickname=player.nickname)
