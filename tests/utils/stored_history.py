"""A history frame (models.history's) written back into the matches and match_players tables,
for tests that need stored rows without running an ingest."""

from __future__ import annotations

import polars as pl
from sqlalchemy.orm import Session

from core import store
from core.db.schema import MatchPlayer

MATCH_COLUMNS = (
    "map",
    "started_at",
    "finished_at",
    "score",
    "faction1_score",
    "faction2_score",
    "rounds",
    "winner_faction",
)
MP_COLUMNS = [c.name for c in MatchPlayer.__table__.columns]


def matches_of(frame: pl.DataFrame) -> pl.DataFrame:
    """One row per match of ``frame``: its id and the matches table's columns."""
    return frame.group_by("match_id").agg(pl.col(c).first() for c in MATCH_COLUMNS)


def store_matches(session: Session, matches: pl.DataFrame, rows: pl.DataFrame) -> None:
    """Write ``matches`` (as :func:`matches_of` gives them) and the player-match ``rows``
    (the match_players columns they have) in the caller's transaction."""
    store.upsert_matches(
        session, [{"id": r.pop("match_id"), **r} for r in matches.iter_rows(named=True)]
    )
    keep = [c for c in MP_COLUMNS if c in rows.columns]
    store.upsert_match_players(session, rows.select(keep).to_dicts())
