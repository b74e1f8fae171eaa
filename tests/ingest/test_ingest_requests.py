"""Ingest spends requests only on what it needs: each shared match once, nothing stored twice."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

import httpx
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from core.db.schema import ProfileFetch
from core.demo_league import League, create_app
from tests.ingest.conftest import demo_client, run_job, snapshot


class CountingTransport(httpx.AsyncBaseTransport):
    """The demo league, counting requests by path (what the server would see)."""

    def __init__(self, league: League) -> None:
        self.served = httpx.ASGITransport(app=create_app(league))
        self.paths: Counter[str] = Counter()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.paths[request.url.path.removeprefix("/data/v4")] += 1
        return await self.served.handle_async_request(request)

    def count(self, prefix: str, suffix: str = "") -> Counter[str]:
        return Counter(
            {p: n for p, n in self.paths.items() if p.startswith(prefix) and p.endswith(suffix)}
        )


async def test_players_ingested_at_once_fetch_each_shared_match_once(
    league: League, engine: Engine, sessions: sessionmaker[Session]
) -> None:
    nicknames = list(league.players_frame()["nickname"])
    transport = CountingTransport(league)
    summary = await run_job(
        demo_client(league, transport=transport),
        sessions,
        lambda i: i.ingest_nicknames(nicknames),
        roster_depth=10,
        concurrency=8,
        batch_size=5,
    )
    stats = transport.count("/matches/", "/stats")
    assert len(stats) == league.n_matches == summary.new_matches  # each player plays ~100 of 300
    assert set(stats.values()) == {1}
    assert len(snapshot(engine)["matches"]) == league.n_matches
    # one profile per player: by nickname; none fetched again by id as someone's teammate
    assert transport.paths["/players"] == len(nicknames)
    assert not [p for p in transport.paths if p.startswith("/players/") and p.count("/") == 2]

    again = CountingTransport(league)
    await run_job(
        demo_client(league, transport=again),
        sessions,
        lambda i: i.ingest_nicknames(nicknames),
        roster_depth=10,
        concurrency=8,
    )
    assert not again.count("/matches/")  # every match is stored: nothing to fetch
    assert sum(again.paths.values()) == 2 * len(nicknames)  # one profile, one history page each


async def test_a_finished_match_delivered_again_asks_only_what_is_not_stored(
    league: League, sessions: sessionmaker[Session]
) -> None:
    match_id = league.match_ids[-1]
    first = CountingTransport(league)
    batch = await run_job(
        demo_client(league, transport=first), sessions, lambda i: i.ingest_match(match_id)
    )
    assert batch.new_matches == 1
    assert first.paths[f"/matches/{match_id}"] == 1
    assert first.paths[f"/matches/{match_id}/stats"] == 1
    profiles = first.count("/players/")
    assert len(profiles) == 10 and set(profiles.values()) == {1}

    # the same event again (a retry, a second delivery): the match and its ten profiles are
    # stored, and each profile was fetched after the match finished: only the match is asked
    again = CountingTransport(league)
    batch = await run_job(
        demo_client(league, transport=again), sessions, lambda i: i.ingest_match(match_id)
    )
    assert batch.new_matches == 0
    assert dict(again.paths) == {f"/matches/{match_id}": 1}

    # a profile fetched before the match finished does not count its Elo: asked again
    stale = next(iter(profiles)).removeprefix("/players/")
    with sessions.begin() as session:
        row = session.get(ProfileFetch, stale)
        assert row is not None
        finished = datetime.fromtimestamp(int(league.finished_at[-1]), UTC)
        row.updated_at = finished - timedelta(minutes=5)
    third = CountingTransport(league)
    await run_job(
        demo_client(league, transport=third), sessions, lambda i: i.ingest_match(match_id)
    )
    assert dict(third.paths) == {f"/matches/{match_id}": 1, f"/players/{stale}": 1}
