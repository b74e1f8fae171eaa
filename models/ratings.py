"""0-100 ratings in Leetify's spirit: aim, utility, opening duels, clutching, support.

Every rating is built from stats of the one vocabulary (models.features.RATIO_METRICS), over
each player's last :data:`models.features.PEER_WINDOW` matches, against the player's peer group
from the maintained peer table (models/peers.py: the players of the same FACEIT level and
region, else of the level alone when the region has fewer than :data:`models.peers.MIN_PEERS`,
else none):

* each stat's z-score: ``z = (value - mean) / std`` of the peers' values (the player not among
  them, sample std); a stat is rated only when the player has a value and at least
  ``min_peers`` peers have one (a legacy match without extended stats adds nothing to an
  extended stat, so a player with only legacy matches has no utility rating);
* a rating's z is the mean of its rated stats' z-scores, and the rating is
  ``round(100 * Phi(z))``, Phi the standard normal CDF: 50 is the group average, 84 one
  standard deviation above it, 16 one below, 98 two above;
* its peer count is the fewest peers any of its rated stats was compared with.

FACEIT's API has no flash-assist count in the stored history, so support is assists per round.
"""

from __future__ import annotations

import math

from sqlalchemy.orm import Session, sessionmaker

from models import features, peers
from models.errors import AnalysisError
from models.results import Benchmark, PeerBenchmarks, PlayerRatings, Rating, RatingStat

RATING_WINDOW = features.PEER_WINDOW
SCALE = (
    "rating = round(100 * Phi(z)), Phi the standard normal CDF and z the mean z-score of the "
    "rating's stats against the peer group's players (level and region): 50 = their average, "
    "84 = one standard deviation above, 16 = one below"
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


def _stat(name: str, label: str, mark: Benchmark, min_peers: int) -> RatingStat:
    z = None
    if mark.value is not None and mark.peers >= min_peers and mark.peer_std:
        z = (mark.value - (mark.peer_mean or 0.0)) / mark.peer_std
    return RatingStat(
        stat=name,
        label=label,
        value=mark.value,
        peer_mean=mark.peer_mean,
        peer_std=mark.peer_std,
        z=z,
        peers=mark.peers,
    )


def player_ratings(marks: PeerBenchmarks, *, min_peers: int | None = None) -> PlayerRatings:
    """The five ratings from a player's benchmarks (models.peers.benchmarks: the group, and
    each stat's value and its peers' mean and spread)."""
    if marks.level is None or not marks.matches:
        raise AnalysisError(f"No matches stored yet for {marks.nickname}.")
    least = marks.min_peers if min_peers is None else min_peers
    group = marks.group or peers.label(marks.level, None)
    ratings = []
    for key, (label, measures, parts) in RATINGS.items():
        rated = [
            _stat(name, stat_label, marks.stats[name], least) for name, stat_label in parts.items()
        ]
        zs = [s.z for s in rated if s.z is not None]
        if zs:
            z = sum(zs) / len(zs)
            rating = to_scale(z)
            peer_count = min(s.peers for s in rated if s.z is not None)
            explanation = (
                f"{label} {rating}: your {measures} put you {_standing(rating)} the {group} "
                f"average (50), against {peer_count} players."
            )
        else:
            z, rating, peer_count = None, None, 0
            explanation = (
                f"{label}: not rated, too few {group} players (fewer than {least}) or "
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
        nickname=marks.nickname,
        level=marks.level,
        region=marks.region,
        group=marks.group,
        group_region=marks.group_region,
        peers=marks.peers,
        versus=marks.versus,
        matches=marks.matches,
        window=marks.window,
        scale=SCALE,
        ratings=ratings,
    )


def ratings_for(sessions: sessionmaker[Session], player_id: str) -> PlayerRatings:
    """The ratings of a stored player, from the peer table (a lookup, models.peers)."""
    return player_ratings(peers.peer_benchmarks(sessions, player_id))
