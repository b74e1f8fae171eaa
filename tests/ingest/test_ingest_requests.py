"""Ingest spends requests only on what it needs: each shared match once, nothing stored twice."""

from __future__ import annotations

import asyncio
import threading
from collections import Counter
from datetime import UTC, datetime, timedelta

import httpx
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from core.db.schema import ProfileFetch
from core.demo_league import League, create_app
from core.ingest import Ingestor, MatchBatch
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


class HeldStats(CountingTransport):
    """The first match's stats are answered only once someone asks for ``release_on``'s
    profile (the first player's batch, and so his claims, stay pending until then)."""

    def __init__(self, league: League, release_on: str) -> None:
        super().__init__(league)
        self.release_on = release_on
        self.released = asyncio.Event()
        self.held: str | None = None

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.params.get("nickname") == self.release_on:
            self.released.set()
        if request.url.path.endswith("/stats") and self.held in (None, request.url.path):
            self.held = request.url.path
            await self.released.wait()
        return await super().handle_async_request(request)


async def test_a_player_waiting_for_matches_another_fetches_lets_the_next_player_start(
    league: League, sessions: sessionmaker[Session]
) -> None:
    """Two slots: the first player fetches his matches; the second (the same player, listed
    twice) has nothing of his own to fetch and only waits for them. The third starts
    meanwhile: before, the waiting player kept his slot, and a run's late players, whose
    matches were all claimed, held every slot waiting while the rate limit went unused."""
    first, third = list(league.players_frame()["nickname"])[:2]
    transport = HeldStats(league, release_on=third)
    summary = await asyncio.wait_for(
        run_job(
            demo_client(league, transport=transport),
            sessions,
            lambda i: i.ingest_nicknames([first, first, third]),
            roster_depth=0,
            concurrency=2,
        ),
        timeout=60,
    )
    assert transport.released.is_set() and not summary.failed
    assert set(transport.count("/matches/", "/stats").values()) == {1}  # still each match once


class Watching(CountingTransport):
    """Sets ``more`` once ``wanted`` requests were asked after ``mark()``."""

    def __init__(self, league: League, wanted: int = 3) -> None:
        super().__init__(league)
        self.sent = 0
        self.wanted = wanted
        self.target: int | None = None
        self.more = threading.Event()

    def mark(self) -> None:
        self.target = self.sent + self.wanted

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.sent += 1
        if self.target is not None and self.sent >= self.target:
            self.more.set()
        return await super().handle_async_request(request)


async def test_writing_a_batch_does_not_hold_up_the_other_players_requests(
    league: League, engine: Engine, sessions: sessionmaker[Session]
) -> None:
    """The first batch write of a run waits until the other player has asked for more: the
    database work runs off the event loop that sends the requests. Before, every batch write
    and every player's finish ran on the loop and stopped all requests while it ran (~10% of
    the rate at 100 requests/s): this write would have waited for nothing."""
    first, other = list(league.players_frame()["nickname"])[:2]
    transport = Watching(league)
    waited: list[bool] = []
    first_write = threading.Lock()  # writes run in threads: only one may be the first

    class SlowFirstWrite(Ingestor):
        def store_batch(self, batch: MatchBatch) -> None:
            if first_write.acquire(blocking=False):
                transport.mark()
                waited.append(transport.more.wait(timeout=15))
            super().store_batch(batch)

    async with demo_client(league, transport=transport) as client:
        ingestor = SlowFirstWrite(client, sessions, roster_depth=0, concurrency=2, batch_size=5)
        summary = await ingestor.ingest_nicknames([first, other])
    assert waited == [True] and not summary.failed
    assert len(snapshot(engine)["matches"]) == summary.new_matches > 0
