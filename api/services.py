"""What the player routes answer, assembled from core.crud and models.dashboard (cached),
each under the match filter of the request (models.filters; every match by default)."""

from __future__ import annotations

import math
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import asdict
from datetime import date, datetime
from typing import Any

from core import crud
from core.db.schema import Player
from core.resources import Resources
from models import dashboard, features
from models.filters import MatchFilter

EVERY_MATCH = MatchFilter()

HEADLINE = {
    "matches": "matches_lifetime",
    "win_rate": "win_rate_lifetime",
    "kd": "kd_lifetime",
    "adr": "adr_lifetime",
    "hs_pct": "hs_pct_lifetime",
    "rating": "rating_lifetime",
    "kd_last10": "kd_last10",
    "win_rate_last10": "win_rate_last10",
    "form": "form",
    "consistency": "consistency_lifetime",
    "current_streak": "current_streak",
    "longest_win_streak": "longest_win_streak",
    "elo_trend": "elo_trend",
    "last_match_at": "last_match_at",
}


class UnknownPlayer(LookupError):
    def __init__(self, nickname: str) -> None:
        self.nickname = nickname
        super().__init__(f"No player with the nickname {nickname!r} is stored.")


def json_safe(value: Any) -> Any:
    """Plain JSON values: NaN/inf -> None, numpy scalars -> Python, datetimes -> ISO."""
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(v) for v in value]
    if isinstance(value, bool | str) or value is None:
        return value
    if hasattr(value, "item") and callable(value.item):  # numpy scalar
        value = value.item()
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


class TTLCache:
    """A tiny bounded in-process cache of finished answers (the player routes' hot path)."""

    def __init__(
        self, ttl: float, max_entries: int = 4096, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.ttl = ttl
        self.max_entries = max_entries
        self.clock = clock
        self._data: OrderedDict[tuple[Any, ...], tuple[float, Any]] = OrderedDict()

    def get(self, key: tuple[Any, ...]) -> Any | None:
        if self.ttl <= 0:
            return None
        found = self._data.get(key)
        if found is None:
            return None
        if found[0] < self.clock():
            self._data.pop(key, None)
            return None
        return found[1]

    def lookup(self, key: tuple[Any, ...]) -> tuple[Any | None, bool]:
        """(value, fresh): a fresh value; or one expired less than ``ttl`` ago, not fresh (for
        stale-while-revalidate); or (None, False)."""
        if self.ttl <= 0:
            return None, False
        found = self._data.get(key)
        if found is None:
            return None, False
        late = self.clock() - found[0]
        if late <= 0:
            return found[1], True
        if late < self.ttl:
            return found[1], False
        self._data.pop(key, None)
        return None, False

    def discard(self, key: tuple[Any, ...]) -> None:
        self._data.pop(key, None)

    def set(self, key: tuple[Any, ...], value: Any) -> None:
        if self.ttl <= 0:
            return
        self._data[key] = (self.clock() + self.ttl, value)
        self._data.move_to_end(key)
        while len(self._data) > self.max_entries:
            self._data.popitem(last=False)

    def clear(self) -> None:
        self._data.clear()


def _player(resources: Resources, nickname: str) -> Player:
    with resources.sessions() as session:
        player = crud.find_player(session, nickname)
        if player is None:
            raise UnknownPlayer(nickname)
        session.expunge(player)
        return player


def profile(resources: Resources, nickname: str, flt: MatchFilter = EVERY_MATCH) -> dict[str, Any]:
    player = _player(resources, nickname)
    overview = dashboard.player_overview(resources.sessions, resources.cache, player.id, flt)
    summary = json_safe(overview.summary)
    summary.pop("player_id", None)
    headline = {name: summary.get(column) for name, column in HEADLINE.items()}
    return {
        "player": overview.player,
        "headline": headline,
        "features": summary,
        "filters": flt.query(),
    }


def maps(resources: Resources, nickname: str, flt: MatchFilter = EVERY_MATCH) -> dict[str, Any]:
    player = _player(resources, nickname)
    overview = dashboard.player_overview(resources.sessions, resources.cache, player.id, flt)
    rows = json_safe(overview.maps.drop("player_id", strict=False).to_dicts())
    return {"nickname": player.nickname, "maps": rows, "filters": flt.query()}


def matches_page(
    resources: Resources,
    nickname: str,
    limit: int,
    before: datetime | None,
    flt: MatchFilter = EVERY_MATCH,
) -> dict[str, Any]:
    """A page of a player's matches that ``flt`` keeps, newest first, strictly older than
    ``before``."""
    player = _player(resources, nickname)
    nickname_out, player_id = player.nickname, player.id
    rows = dashboard.match_list(resources.sessions, player_id, flt, limit=limit + 1, before=before)
    more = len(rows) > limit
    rows = rows[:limit]
    next_before = rows[-1]["finished_at"] if more and rows else None
    return {
        "nickname": nickname_out,
        "matches": json_safe(rows),
        "next_before": next_before.isoformat() if next_before else None,
        "filters": flt.query(),
    }


def elo(resources: Resources, nickname: str, flt: MatchFilter = EVERY_MATCH) -> dict[str, Any]:
    """Every Elo point (of the matches ``flt`` keeps) with its per-match change, and the
    current level band."""
    player = _player(resources, nickname)
    found = dashboard.elo_per_match(resources.sessions, resources.cache, player.id, flt)
    points = found.points.drop("player_id").to_dicts()
    band = None
    if found.band is not None:
        band = {**asdict(found.band), "progress": found.band.progress}
    return {
        "nickname": player.nickname,
        "level": band,
        "points": json_safe(points),
        "filters": flt.query(),
    }


def trends(
    resources: Resources, nickname: str, window: int, flt: MatchFilter = EVERY_MATCH
) -> dict[str, Any]:
    """models.features.rolling_stats of the player over ``window`` of the kept matches."""
    player = _player(resources, nickname)
    frame = dashboard.stats_over_time(resources.sessions, resources.cache, player.id, window, flt)
    return {
        "nickname": player.nickname,
        "window": window,
        "stats": list(features.TREND_STATS),
        "points": json_safe(frame.drop("player_id").to_dicts()),
        "filters": flt.query(),
    }


def tilt(
    resources: Resources, nickname: str, session_minutes: int, flt: MatchFilter = EVERY_MATCH
) -> dict[str, Any]:
    """Streaks and the tilt groups (models.tilt) of the player's kept matches."""
    player = _player(resources, nickname)
    report = dashboard.tilt_for(resources.sessions, player.id, session_minutes, flt)
    return {"nickname": player.nickname, **json_safe(asdict(report)), "filters": flt.query()}


Loader = Callable[[Resources, str], dict[str, Any]]
