"""What the free dashboards show, computed once and cached per player and data watermark."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import polars as pl
from sqlalchemy.orm import Session, sessionmaker

from core import crud
from core.cache import FeatureCache
from models import features, filters, history, tilt
from models.elo import LevelBand, elo_changes, level_band, with_elo_changes
from models.filters import MatchFilter

LAST_MATCHES = 10
HISTORY_COLUMNS = tuple(dict.fromkeys((*features.INPUT_COLUMNS, *filters.COLUMNS)))
"""What the dashboards read of the history: the vocabulary's columns and the filter's."""
EVERY_MATCH = MatchFilter()


@dataclass
class PlayerOverview:
    player: dict[str, Any]
    summary: dict[str, Any]
    elo: pl.DataFrame
    form: pl.DataFrame
    maps: pl.DataFrame
    last_matches: list[dict[str, Any]]
    filter: MatchFilter = EVERY_MATCH
    """The filter these numbers are computed under (every match by default)."""

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


def player_history(
    sessions: sessionmaker[Session], player_id: str, flt: MatchFilter = EVERY_MATCH
) -> pl.DataFrame:
    """The player's history (:data:`HISTORY_COLUMNS`), only the matches ``flt`` keeps."""
    with sessions() as session:
        return history.load(session, [player_id], columns=HISTORY_COLUMNS, flt=flt)


def cached_features(
    sessions: sessionmaker[Session],
    cache: FeatureCache,
    player_id: str,
    flt: MatchFilter = EVERY_MATCH,
) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """Summary, map stats, rolling form and Elo history of one player over the matches ``flt``
    keeps (cached per data watermark and filter; the player's history is loaded once, and only
    on a cache miss), but the summary's streaks, which are the whole history's. The Elo
    history is every point whatever the filter: a match's Elo change is from the point before
    it, kept or not (:func:`elo_per_match` filters the changes)."""
    suffix = f":{flt.key()}" if flt.active else ""
    with sessions() as session:
        watermark = history.data_watermark(session, player_id)
        loaded: dict[str, pl.DataFrame] = {}

        def matches() -> pl.DataFrame:
            if "matches" not in loaded:
                loaded["matches"] = history.load(
                    session, [player_id], columns=HISTORY_COLUMNS, flt=flt
                )
            return loaded["matches"]

        def elo_points() -> pl.DataFrame:
            if "elo" not in loaded:
                loaded["elo"] = history.load_elo(session, [player_id])
            return loaded["elo"]

        def load(name: str, compute: Any, *, filtered: bool = True) -> pl.DataFrame:
            """The cached ``name`` of the filtered view (of every match when not ``filtered``)."""
            key = name + suffix if filtered else name
            return cache.get_or_compute(
                key, features.FEATURE_VERSION, player_id, watermark, compute
            )

        summary = load(
            "summary", lambda: features.player_summary(matches(), elo_history=elo_points())
        )
        if flt.active and summary.height:
            # streaks are runs of matches as played: the whole history's, whatever the filter
            whole = load(
                "summary",
                lambda: features.player_summary(
                    history.load(session, [player_id], columns=HISTORY_COLUMNS),
                    elo_history=elo_points(),
                ),
                filtered=False,
            )
            if whole.height:
                summary = summary.with_columns(whole[c] for c in features.STREAK_COLUMNS)
        maps = load("maps", lambda: features.map_stats(matches()))
        form = load("form", lambda: features.rolling_form(matches()))
        elo = load("elo", elo_points, filtered=False)
    return summary, maps, form, elo


def player_overview(
    sessions: sessionmaker[Session],
    cache: FeatureCache,
    player_id: str,
    flt: MatchFilter = EVERY_MATCH,
) -> PlayerOverview:
    summary, maps, form, elo = cached_features(sessions, cache, player_id, flt)
    with sessions() as session:
        player = player_row(session, player_id)
    last = match_list(sessions, player_id, flt, limit=LAST_MATCHES, elo=elo)
    return PlayerOverview(
        player=player,
        summary=summary.row(0, named=True) if summary.height else {},
        elo=elo,
        form=form,
        maps=maps,
        last_matches=last,
        filter=flt,
    )


def match_list(
    sessions: sessionmaker[Session],
    player_id: str,
    flt: MatchFilter = EVERY_MATCH,
    *,
    limit: int = 20,
    before: datetime | None = None,
    elo: pl.DataFrame | None = None,
) -> list[dict[str, Any]]:
    """The player's matches that ``flt`` keeps, newest first (finished strictly before
    ``before``), at most ``limit``: core.crud.recent_matches rows with ``elo_change`` and
    ``elo_estimated``. The filter picks the matches from the history frame (models.filters,
    the one definition); the query only fetches their lines."""
    with sessions() as session:
        if flt.active:  # the kept matches' ids and times only
            frame = history.load(session, [player_id], columns=("finished_at",), flt=flt)
            if before is not None:
                frame = frame.filter(pl.col("finished_at") < before)
            ids = frame.sort(["finished_at", "match_id"], descending=True).head(limit)["match_id"]
            rows = crud.recent_matches(session, player_id, limit=limit, match_ids=list(ids))
        else:
            rows = crud.recent_matches(session, player_id, limit=limit, before=before)
        points = history.load_elo(session, [player_id]) if elo is None else elo
    return with_elo_changes(rows, points)


def compare_players(
    sessions: sessionmaker[Session],
    cache: FeatureCache,
    player_ids: list[str],
    flt: MatchFilter = EVERY_MATCH,
) -> pl.DataFrame:
    """Headline stats of several players over the matches ``flt`` keeps, one row each
    ("lifetime" is every kept match, "last 10" the 10 latest of them)."""
    rows = []
    for player_id in player_ids:
        overview = player_overview(sessions, cache, player_id, flt)
        s = overview.summary
        rows.append(
            {
                "Player": overview.player["nickname"],
                "Elo": overview.player["faceit_elo"],
                "Level": overview.player["skill_level"],
                "Matches": s.get("matches_lifetime") or 0,
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
    sessions: sessionmaker[Session],
    cache: FeatureCache,
    player_id: str,
    flt: MatchFilter = EVERY_MATCH,
) -> EloPerMatch:
    """The player's Elo points with the change of each match (of the matches ``flt`` keeps:
    each change still from the point before it), and the current level band (of the profile's
    Elo, else of the latest point; the filter does not change a player's level)."""
    _summary, _maps, _form, points = cached_features(sessions, cache, player_id)
    with sessions() as session:
        current = player_row(session, player_id)["faceit_elo"]
    if current is None and points.height:
        current = int(points["elo"][-1])
    changes = elo_changes(points)
    if flt.active:
        with sessions() as session:
            kept = history.load(session, [player_id], columns=(), flt=flt)["match_id"]
        changes = changes.filter(pl.col("match_id").is_in(kept.implode()))
    return EloPerMatch(changes, level_band(current) if current is not None else None)


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
    flt: MatchFilter = EVERY_MATCH,
) -> pl.DataFrame:
    """models.features.rolling_stats of the player (TREND_STATS over ``window`` of the
    matches ``flt`` keeps), cached per data watermark, window and filter."""
    suffix = f":{flt.key()}" if flt.active else ""
    with sessions() as session:
        watermark = history.data_watermark(session, player_id)

        def compute() -> pl.DataFrame:
            frame = history.load(session, [player_id], columns=HISTORY_COLUMNS, flt=flt)
            return features.rolling_stats(frame, window)

        return cache.get_or_compute(
            f"trends{int(window)}{suffix}", features.FEATURE_VERSION, player_id, watermark, compute
        )


def tilt_for(
    sessions: sessionmaker[Session],
    player_id: str,
    session_minutes: int = tilt.SESSION_MINUTES,
    flt: MatchFilter = EVERY_MATCH,
) -> tilt.TiltReport:
    """Tilt of the matches ``flt`` keeps: each kept match is grouped by the losses and the
    session before it in the whole history (a loss on another map still counts); the streaks
    are the whole history's."""
    with sessions() as session:  # the rating's inputs, the times and the filter's columns
        frame = history.load(session, [player_id], columns=HISTORY_COLUMNS)
    keep = filters.apply(frame, flt)["match_id"] if flt.active else None
    return tilt.tilt_report(frame, session_minutes, keep=keep)
