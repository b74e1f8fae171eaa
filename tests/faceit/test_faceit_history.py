"""iter_history walks a deep history past the 1000-offset cap, each match exactly once."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import httpx
import pytest
from faceit_fakes import PLAYER_ID, HistoryServer, synthetic_history

from core.faceit import FaceitClient, HistoryPage

MakeClient = Callable[..., FaceitClient]


async def collect(client: FaceitClient, since: datetime | None = None) -> list[HistoryPage]:
    return [page async for page in client.iter_history(PLAYER_ID, since=since)]


@pytest.mark.parametrize("to_inclusive", [True, False], ids=["to-inclusive", "to-exclusive"])
async def test_walks_2350_matches_exactly_once(make_client: MakeClient, to_inclusive: bool) -> None:
    matches = synthetic_history(2350)
    server = HistoryServer(matches, to_inclusive=to_inclusive)
    client = make_client(server)

    pages = await collect(client)

    ids = [m.match_id for page in pages for m in page.items]
    assert server.violations == []  # never offset > 1000 nor limit > 100
    assert len(ids) == len(set(ids)) == 2350
    assert ids == [m["match_id"] for m in matches]  # newest first, in order
    finished = [m.finished_at for page in pages for m in page.items]
    assert finished == sorted(finished, key=lambda t: t.timestamp() if t else 0, reverse=True)
    assert all(page.items for page in pages)
    # 24 pages of content plus the re-read boundary pages of the two extra windows
    assert client.request_count <= 30


async def test_walk_uses_time_windows(make_client: MakeClient) -> None:
    seen_urls: list[dict[str, str]] = []
    server = HistoryServer(synthetic_history(2350))

    def handler(request: httpx.Request) -> httpx.Response:
        seen_urls.append(dict(request.url.params))
        return server(request)

    client = make_client(handler)
    pages = await collect(client)
    assert sum(len(p.items) for p in pages) == 2350
    windows = {params.get("to") for params in seen_urls}
    assert len(windows) >= 3  # no bound, then two windows ending at the oldest match seen
    assert all(int(p["offset"]) <= 1000 and int(p["limit"]) <= 100 for p in seen_urls)
    assert all(p["game"] == "cs2" for p in seen_urls)


async def test_stops_at_since(make_client: MakeClient) -> None:
    matches = synthetic_history(2350)
    since_ts = matches[150]["finished_at"]  # group of three: indices 150..152
    server = HistoryServer(matches, honor_from=False)  # the client must stop by itself
    client = make_client(server)

    pages = await collect(client, since=datetime.fromtimestamp(since_ts, UTC))

    ids = [m.match_id for page in pages for m in page.items]
    expected = [m["match_id"] for m in matches if m["finished_at"] >= since_ts]
    assert ids == expected and len(ids) == 153
    assert client.request_count == 2  # pages 0-99 and 100-199, then stop


async def test_since_is_sent_as_from(make_client: MakeClient) -> None:
    matches = synthetic_history(500)
    since = datetime.fromtimestamp(matches[42]["finished_at"], UTC)
    sent: list[dict[str, str]] = []
    server = HistoryServer(matches)

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(dict(request.url.params))
        return server(request)

    client = make_client(handler)
    pages = await collect(client, since=since)
    assert sent[0]["from"] == str(int(since.timestamp()))
    assert sum(len(p.items) for p in pages) == 45  # indices 0..44 share or follow the watermark
    assert client.request_count == 1


async def test_since_newer_than_everything_yields_nothing(make_client: MakeClient) -> None:
    matches = synthetic_history(300)
    server = HistoryServer(matches, honor_from=False)
    client = make_client(server)
    since = datetime.fromtimestamp(matches[0]["finished_at"] + 60, UTC)
    assert await collect(client, since=since) == []
    assert client.request_count == 1


@pytest.mark.parametrize("count", [0, 1, 99, 100, 101, 1000, 1001])
async def test_small_histories(make_client: MakeClient, count: int) -> None:
    matches = synthetic_history(count, per_second=1)
    server = HistoryServer(matches)
    client = make_client(server)
    pages = await collect(client)
    ids = [m.match_id for page in pages for m in page.items]
    assert ids == [m["match_id"] for m in matches]
    assert server.violations == []


async def test_pathological_same_second_history_terminates(make_client: MakeClient) -> None:
    # 1500 matches all finishing in the same second cannot be paged past offset 1000
    matches = synthetic_history(1500, per_second=1500)
    server = HistoryServer(matches)
    client = make_client(server)
    pages = await collect(client)
    ids = [m.match_id for page in pages for m in page.items]
    assert len(ids) == len(set(ids)) >= 1000
    assert server.violations == []
