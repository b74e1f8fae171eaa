"""What the free dashboards show, computed once and cached per player and data watermark."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import polars as pl
from sqlalchemy.orm import Session, sessionmaker

from core import crud
from core.cache import FeatureCache
from models import features, history, tilt
from models.elo import LevelBand, elo_changes, level_band, with_elo_changes

LAST_MATCHES = 10


@dataclass
class PlayerOverview:
    player: dict[str, Any]
    summary: dict[str, Any]
    elo: pl.DataFrame
    form: pl.DataFrame
    maps: pl.DataFrame
    last_matches: list[dict[str, Any]]

    @property
    def has_matches(self) -> bool:
        return bool(self.summary) and (self.summary.get("matches_lifetime") or 0) > 0


def player_row(session: Session, player_id: str) -> dict[str, Any]:
    player = crud.get_player(session, player_id)
    if player is None:
        raise LookupError(f"unknown player id {player_id}")
    return {
        "id": player.id,
        "nickname": player.nickname,
        "country": player.country,
        "avatar": player.avatar,
        "faceit_elo": player.faceit_elo,
        "skill_level": player.skill_level,
        "region": player.region,
    }


def cached_features(
    sessions: sessionmaker[Session], cache: FeatureCache, player_id: str
) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """Summary, map stats, rolling form and Elo history of one player (cached per data
    watermark; the player's history is loaded once, and only on a cache miss)."""
    with sessions() as session:
        watermark = history.data_watermark(session, player_id)
        loaded: dict[str, pl.DataFrame] = {}

        def matches() -> pl.DataFrame:
            if "matches" not in loaded:
                loaded["matches"] = history.load(
                    session, [player_id], columns=features.INPUT_COLUMNS
                )
            return loaded["matches"]

        def elo_points() -> pl.DataFrame:
            if "elo" not in loaded:
                loaded["elo"] = history.load_elo(session, [player_id])
            return loaded["elo"]

        def load(name: str, compute: Any) -> pl.DataFrame:
            return cache.get_or_compute(
                name, features.FEATURE_VERSION, player_id, watermark, compute
            )

        summary = load(
            "summary", lambda: features.player_summary(matches(), elo_history=elo_points())
        )
        maps = load("maps", lambda: features.map_stats(matches()))
        form = load("form", lambda: features.rolling_form(matches()))
        elo = load("elo", elo_points)
    return summary, maps, form, elo


def player_overview(
    sessions: sessionmaker[Session], cache: FeatureCache, player_id: str
) -> PlayerOverview:
    summary, maps, form, elo = cached_features(sessions, cache, player_id)
    with sessions() as session:
        player = player_row(session, player_id)
        last = crud.recent_matches(session, player_id, limit=LAST_MATCHES)
    return PlayerOverview(
        player=player,
        summary=summary.row(0, named=True) if summary.height else {},
        elo=elo,
        form=form,
        maps=maps,
        last_matches=with_elo_changes(last, elo),
    )


def compare_players(
    sessions: sessionmaker[Session], cache: FeatureCache, player_ids: list[str]
) -> pl.DataFrame:
    """Headline lifetime and recent stats of several players, one row each."""
    rows = []
    for player_id in player_ids:
        overview = player_overview(sessions, cache, player_id)
        s = overview.summary
        rows.append(
            {
                "Player": overview.player["nickname"],
                "Elo": overview.player["faceit_elo"],
                "Level": overview.player["skill_level"],
                "Matches": s.get("matches_lifetime"),
                "Win rate": s.get("win_rate_lifetime"),
                "K/D": s.get("kd_lifetime"),
                "K/D last 10": s.get("kd_last10"),
                "ADR": s.get("adr_lifetime"),
                "HS %": s.get("hs_pct_lifetime"),
                "Rating": s.get("rating_lifetime"),
                "Form": s.get("form"),
            }
        )
    return pl.DataFrame(rows)


# ---- Elo per match, stats over time, streaks and tilt (issue 18) -----------------------------

TREND_WINDOW = 20
"""Default window (matches) of the stats-over-time series."""


@dataclass
class EloPerMatch:
    points: pl.DataFrame
    """models.elo.ELO_CHANGE_SCHEMA: every Elo point with its change and ``estimated``."""
    band: LevelBand | None
    """The level band of the player's current Elo (None when no Elo is known)."""


def elo_per_match(
    sessions: sessionmaker[Session], cache: FeatureCache, player_id: str
) -> EloPerMatch:
    """The player's Elo points with the change of each match, and the current level band (of
    the profile's Elo, else of the latest point)."""
    _summary, _maps, _form, points = cached_features(sessions, cache, player_id)
    with sessions() as session:
        current = player_row(session, player_id)["faceit_elo"]
    if current is None and points.height:
        current = int(points["elo"][-1])
    return EloPerMatch(elo_changes(points), level_band(current) if current is not None else None)


def matches_with_elo(
    sessions: sessionmaker[Session], player_id: str, rows: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """core.crud.recent_matches rows of one player with ``elo_change`` and ``elo_estimated``."""
    with sessions() as session:
        points = history.load_elo(session, [player_id])
    return with_elo_changes(rows, points)


def stats_over_time(
    sessions: sessionmaker[Session],
    cache: FeatureCache,
    player_id: str,
    window: int = TREND_WINDOW,
) -> pl.DataFrame:
    """models.features.rolling_stats of the player (TREND_STATS over ``window`` matches),
    cached per data watermark and window."""
    with sessions() as session:
        watermark = history.data_watermark(session, player_id)

        def compute() -> pl.DataFrame:
            return features.rolling_stats(history.load(session, [player_id]), window)

        return cache.get_or_compute(
            f"trends{int(window)}", features.FEATURE_VERSION, player_id, watermark, compute
        )


def tilt_for(
    sessions: sessionmaker[Session], player_id: str, session_minutes: int = tilt.SESSION_MINUTES
) -> tilt.TiltReport:
    with sessions() as session:
        frame = history.load(session, [player_id])
    return tilt.tilt_report(frame, session_minutes)
