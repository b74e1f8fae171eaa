"""The live track record: a prediction served before a match is stored once per model version
and scored by the match's result once that is stored (both databases, and a PostgreSQL race)."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from core.db.engine import make_session_factory
from core.db.schema import Match, ServedPrediction
from models import registry


def test_stored_once_per_match_and_version_then_scored(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as s:
        s.add(Match(id="m-live", map="de_nuke", started_at=datetime(2026, 12, 1, tzinfo=UTC)))
    with sessions.begin() as s:
        assert registry.record_prediction(s, "m-live", registry.MATCH_OUTCOME, 3, 0.62, "de_nuke")
        assert not registry.record_prediction(s, "m-live", registry.MATCH_OUTCOME, 3, 0.10)
        assert registry.record_prediction(s, "m-live", registry.MATCH_OUTCOME, 4, 0.58, "de_nuke")
    with sessions() as s:
        record = registry.track_record(s, registry.MATCH_OUTCOME)
        assert sorted((r.model_version, r.p_faction1) for r in record) == [(3, 0.62), (4, 0.58)]
        assert all(r.faction1_won is None for r in record)  # not finished yet
    with sessions.begin() as s:
        match = s.get(Match, "m-live")
        assert match is not None
        match.winner_faction = "faction2"
    with sessions() as s:
        record = registry.track_record(s, registry.MATCH_OUTCOME)
        assert [r.faction1_won for r in record] == [False, False]
        assert registry.track_record(s, registry.PLAYSTYLE) == []


def test_concurrent_records_keep_one_row(pg_engine) -> None:  # type: ignore[no-untyped-def]
    sessions = make_session_factory(pg_engine)
    barrier = threading.Barrier(8)
    results: list[bool] = []

    def serve() -> None:
        barrier.wait()
        with sessions.begin() as s:
            results.append(
                registry.record_prediction(s, "m-race", registry.MATCH_OUTCOME, 1, 0.5, "de_dust2")
            )

    threads = [threading.Thread(target=serve) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    with sessions() as s:
        rows = s.scalar(select(func.count()).select_from(ServedPrediction))
    assert rows == 1 and results.count(True) == 1
