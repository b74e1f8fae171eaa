"""Data access in one place: the queries the app, the API and the flows share."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.db.schema import Match, Player


def count_players(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(Player)) or 0


def count_matches(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(Match)) or 0
