from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from core.db.schema import (
    EloHistory,
    IngestState,
    Match,
    MatchPlayer,
    Player,
    ProfileFetch,
    Quarantine,
)
from core.demo_league import Faults, League, create_app, generate_league
from core.faceit import FaceitClient
from core.ingest import Ingestor, IngestSummary
from core.sources import DEMO_API_KEY, DEMO_BASE_URL

Job = Callable[[Ingestor], Awaitable[IngestSummary]]


@pytest.fixture(scope="session")
def league() -> League:
    return generate_league(30, 300, seed=11)


def demo_client(
    league: League,
    faults: Faults | None = None,
    *,
    api_key: str = DEMO_API_KEY,
    transport: httpx.AsyncBaseTransport | None = None,
    **options: Any,
) -> FaceitClient:
    options.setdefault("rate_limit", 5000.0)
    options.setdefault("backoff_initial", 0.01)
    options.setdefault("backoff_max", 0.05)
    options.setdefault("max_retries", 8)
    return FaceitClient(
        api_key=api_key,
        base_url=DEMO_BASE_URL,
        transport=transport or httpx.ASGITransport(app=create_app(league, faults=faults)),
        **options,
    )


async def run_job(
    client: FaceitClient, sessions: sessionmaker[Session], job: Job, **kw: Any
) -> IngestSummary:
    async with client:
        summary = await job(Ingestor(client, sessions, **kw))
        summary.requests = client.request_count
        return summary


async def ingest_league(
    league: League, sessions: sessionmaker[Session], faults: Faults | None = None, **kw: Any
) -> IngestSummary:
    nicknames = list(league.players_frame()["nickname"])

    async def job(ingestor: Ingestor) -> IngestSummary:
        total = IngestSummary()
        for nickname in nicknames:
            total.add(await ingestor.ingest_nickname(nickname))
        return total

    return await run_job(demo_client(league, faults), sessions, job, roster_depth=0, **kw)


def snapshot(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    """Every ingested row, without bookkeeping timestamps, in a stable order."""
    tables = {
        "players": (
            Player,
            ["id", "nickname", "country", "avatar", "region", "faceit_elo", "skill_level"],
        ),
        "matches": (Match, [c.name for c in Match.__table__.columns if c.name != "created_at"]),
        "match_players": (MatchPlayer, [c.name for c in MatchPlayer.__table__.columns]),
        "elo_history": (EloHistory, ["player_id", "match_id", "elo", "recorded_at", "estimated"]),
        "profile_fetches": (ProfileFetch, ["player_id", "status", "attempts", "error"]),
        "ingest_state": (IngestState, ["player_id", "tracked", "watermark", "status", "error"]),
    }
    with engine.connect() as conn:
        result = {}
        for name, (model, columns) in tables.items():
            cols = [getattr(model, c) for c in columns]
            result[name] = sorted(tuple(r) for r in conn.execute(select(*cols)).all())
        return result


def count_rows(engine: Engine, model: Any) -> int:
    with engine.connect() as conn:
        return len(conn.execute(select(*model.__table__.primary_key.columns)).all())


def quarantined(engine: Engine) -> int:
    with engine.connect() as conn:
        return len(conn.execute(select(Quarantine.id)).all())


@pytest.fixture
def reference_sessions(tmp_path: Any) -> Any:
    """A second, separate database for an uninterrupted reference run."""
    from core.db.engine import make_engine, make_session_factory
    from core.db.migrate import upgrade

    engine = make_engine(f"sqlite:///{tmp_path / 'reference.db'}")
    upgrade(engine)
    yield make_session_factory(engine)
    engine.dispose()
