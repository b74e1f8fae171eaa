"""Batch writes of matches (core.store.upsert_matches): a batch of new matches is COPYed in one
go on PostgreSQL, and the insert still tells which matches were new when some were stored
before (by an earlier batch or a concurrent run), refreshing those without counting them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from core import store
from core.db.schema import Match

T0 = datetime(2025, 5, 1, 12, tzinfo=UTC)


def rows(first: int, count: int, *, score: str = "13 / 7") -> list[dict[str, Any]]:
    return [
        {
            "id": f"m{i:04d}",
            "map": "de_mirage",
            "finished_at": T0 + timedelta(hours=i),
            "started_at": T0 + timedelta(hours=i, minutes=-40),
            "score": score,
            "faction1_score": 13,
            "faction2_score": 7,
            "rounds": 20,
            "winner_faction": "faction1",
        }
        for i in range(first, first + count)
    ]


def stored(sessions: sessionmaker[Session]) -> dict[str, tuple[str | None, datetime | None, bool]]:
    with sessions() as session:
        return {
            m.id: (m.score, m.finished_at, m.created_at is not None)
            for m in session.scalars(select(Match))
        }


def test_new_matches_are_counted_and_known_ones_refreshed_not_counted(
    sessions: sessionmaker[Session],
) -> None:
    batch = rows(0, store.COPY_THRESHOLD + 10)
    with sessions.begin() as session:
        assert store.upsert_matches(session, batch) == {r["id"] for r in batch}
    after_first = stored(sessions)
    assert after_first == {r["id"]: (r["score"], r["finished_at"], True) for r in batch}

    # half of the next batch was stored before (with another score): only the rest is new
    overlap = rows(30, store.COPY_THRESHOLD + 10, score="7 / 13")
    with sessions.begin() as session:
        new = store.upsert_matches(session, overlap)
    assert new == {r["id"] for r in overlap} - set(after_first)
    everything = stored(sessions)
    assert len(everything) == len(set(after_first) | {r["id"] for r in overlap})
    assert {everything[r["id"]][0] for r in overlap} == {"7 / 13"}  # known ones refreshed

    with sessions.begin() as session:  # the same batch again: nothing is new
        assert store.upsert_matches(session, overlap) == set()
