"""FaceitClient against httpx.MockTransport: endpoints, errors, retries, rate limit, concurrency."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime

import httpx
import pytest
from faceit_fakes import API_KEY, MATCH_ID, PLAYER_ID, FakeFaceit, payload_text

from core.faceit import (
    DEFAULT_USER_AGENT,
    FaceitClient,
    FaceitError,
    FaceitUnavailable,
    InvalidIdentifier,
    InvalidNickname,
    InvalidPayload,
    NotFound,
    PlayerNotFound,
    Unauthorized,
)
from core.faceit.errors import BadRequest

MakeClient = Callable[..., FaceitClient]


# -- happy paths -----------------------------------------------------------------------------------


async def test_every_endpoint_returns_models(client: FaceitClient, fake: FakeFaceit) -> None:
    player = await client.get_player_by_nickname("Darwin")
    assert player.nickname == "Darwin" and player.elo == 2014
    assert (await client.get_player(PLAYER_ID)).player_id == PLAYER_ID
    stats = await client.get_player_stats(PLAYER_ID)
    assert stats.lifetime.average_kd_ratio == pytest.approx(0.95)
    history = await client.get_history(PLAYER_ID, limit=20)
    assert len(history.items) == 20
    games = await client.get_games_stats(PLAYER_ID, 0, 20)
    assert games.items[0].kills == 19
    match = await client.get_match(MATCH_ID)
    assert match.map == "de_inferno"
    match_stats = await client.get_match_stats(MATCH_ID)
    assert match_stats.rounds[0].teams[0].players[0].stats.kd_ratio == 1.46
    search = await client.search_players("ZywOo", 0, 20)
    assert search.items[0].cs2_skill_level == 10
    assert client.request_count == len(fake.requests) == 8
    assert client.status_counts[200] == 8
    paths = [r.url.path for r in fake.requests]
    assert paths == [
        "/data/v4/players",
        f"/data/v4/players/{PLAYER_ID}",
        f"/data/v4/players/{PLAYER_ID}/stats/cs2",
        f"/data/v4/players/{PLAYER_ID}/history",
        f"/data/v4/players/{PLAYER_ID}/games/cs2/stats",
        f"/data/v4/matches/{MATCH_ID}",
        f"/data/v4/matches/{MATCH_ID}/stats",
        "/data/v4/search/players",
    ]


async def test_headers_and_query_params(client: FaceitClient, fake: FakeFaceit) -> None:
    await client.get_player_by_nickname("  Dar-win_1 ")
    await client.get_history(
        PLAYER_ID,
        since=datetime(2026, 1, 1, tzinfo=UTC),
        until=datetime(2026, 2, 1, tzinfo=UTC),
        offset=100,
        limit=50,
    )
    by_nick, history = fake.requests
    assert by_nick.headers["authorization"] == f"Bearer {API_KEY}"
    assert by_nick.headers["user-agent"] == DEFAULT_USER_AGENT == "faceit-ai/0.1 (+analytics)"
    assert by_nick.headers["accept"] == "application/json"
    assert by_nick.url.params["nickname"] == "Dar-win_1"  # stripped, sent as a query parameter
    assert dict(history.url.params) == {
        "game": "cs2",
        "from": str(int(datetime(2026, 1, 1, tzinfo=UTC).timestamp())),
        "to": str(int(datetime(2026, 2, 1, tzinfo=UTC).timestamp())),
        "offset": "100",
        "limit": "50",
    }


async def test_history_always_sends_from(client: FaceitClient, fake: FakeFaceit) -> None:
    await client.get_history(PLAYER_ID)
    assert fake.requests[0].url.params["from"] == "0"  # the API would default to one month


async def test_no_key_sends_no_authorization(make_client: MakeClient, fake: FakeFaceit) -> None:
    client = make_client(fake, api_key=None)
    await client.get_match(MATCH_ID)
    assert "authorization" not in fake.requests[0].headers


async def test_context_manager_and_callback(fake: FakeFaceit) -> None:
    seen: list[int] = []
    fake.fail_next(503)
    async with FaceitClient(
        api_key=API_KEY, transport=fake.transport(), backoff_initial=0.01, on_request=seen.append
    ) as client:
        await client.get_match(MATCH_ID)
        assert "test-key" not in repr(client)
    assert seen == [503, 200]
    assert client.status_counts == {503: 1, 200: 1}


async def test_async_callback(make_client: MakeClient, fake: FakeFaceit) -> None:
    seen: list[int] = []

    async def on_request(status: int) -> None:
        seen.append(status)

    client = make_client(fake, on_request=on_request)
    await client.get_match(MATCH_ID)
    assert seen == [200]


def test_construction_needs_no_event_loop_and_sends_nothing() -> None:
    fake = FakeFaceit()
    client = FaceitClient(api_key=API_KEY, transport=fake.transport())
    asyncio.run(client.aclose())
    assert fake.requests == [] and client.request_count == 0


# -- errors without retry --------------------------------------------------------------------------


@pytest.mark.parametrize("status", [401, 403])
async def test_unauthorized_is_not_retried_and_hides_key(
    client: FaceitClient, fake: FakeFaceit, status: int
) -> None:
    fake.fail_next(status)
    with pytest.raises(Unauthorized) as info:
        await client.get_player(PLAYER_ID)
    message = str(info.value)
    assert "API key is missing, revoked or wrong" in message
    assert API_KEY not in message and API_KEY not in repr(info.value)
    assert client.request_count == 1


async def test_404_player_not_found_without_retry(client: FaceitClient, fake: FakeFaceit) -> None:
    fake.fail_next(httpx.Response(404, text=payload_text("error_404.json")))
    with pytest.raises(PlayerNotFound) as info:
        await client.get_player_by_nickname("nobody")
    assert "The resource was not found." in str(info.value)
    assert client.request_count == 1


async def test_404_match_not_found(client: FaceitClient, fake: FakeFaceit) -> None:
    fake.fail_next(404)
    with pytest.raises(NotFound) as info:
        await client.get_match(MATCH_ID)
    assert not isinstance(info.value, PlayerNotFound)
    assert client.request_count == 1


async def test_other_4xx_is_bad_request(client: FaceitClient, fake: FakeFaceit) -> None:
    fake.fail_next(400)
    with pytest.raises(BadRequest):
        await client.get_match(MATCH_ID)
    assert client.request_count == 1


# -- retries ---------------------------------------------------------------------------------------


async def test_5xx_burst_then_success(
    client: FaceitClient, fake: FakeFaceit, caplog: pytest.LogCaptureFixture
) -> None:
    fake.fail_next(500, 502, 503)
    with caplog.at_level(logging.INFO, logger="core.faceit"):
        match = await client.get_match(MATCH_ID)
    assert match.match_id == MATCH_ID
    assert client.request_count == 4
    assert client.retry_count == 3
    assert client.status_counts == {500: 1, 502: 1, 503: 1, 200: 1}
    assert "after 4 attempt(s)" in caplog.text


async def test_429_retry_after_pauses_then_succeeds(client: FaceitClient, fake: FakeFaceit) -> None:
    fake.fail_next((429, {"Retry-After": "1"}))
    started = time.monotonic()
    match = await client.get_match(MATCH_ID)
    elapsed = time.monotonic() - started
    assert match.match_id == MATCH_ID
    assert client.request_count == 2
    assert elapsed >= 0.9


async def test_retry_after_pauses_every_request_of_the_client(
    make_client: MakeClient, fake: FakeFaceit
) -> None:
    fake.fail_next((429, {"Retry-After": "0.4"}))
    client = make_client(fake, max_concurrency=1)
    started = time.monotonic()
    finished: list[float] = []

    async def one(match_id: str) -> None:
        await client.get_match(match_id)
        finished.append(time.monotonic() - started)

    await asyncio.gather(one(MATCH_ID), one("1-other"), one("1-third"))
    # the 429 hit the first request; the others had to wait for the pause as well
    assert min(finished) >= 0.35
    assert client.request_count == 4


async def test_ratelimit_remaining_zero_waits_for_reset(
    client: FaceitClient, fake: FakeFaceit
) -> None:
    fake.fail_next(
        httpx.Response(
            200,
            text=payload_text("match.json"),
            headers={
                "ratelimit-limit": "10, 10;w=1",
                "ratelimit-remaining": "0",
                "ratelimit-reset": "0.3",
            },
        )
    )
    started = time.monotonic()
    await client.get_match(MATCH_ID)
    first = time.monotonic() - started
    await client.get_match(MATCH_ID)
    assert first < 0.25
    assert time.monotonic() - started >= 0.28


@pytest.mark.parametrize(
    "error",
    [httpx.ConnectError("refused"), httpx.ReadTimeout("slow"), httpx.RemoteProtocolError("cut")],
    ids=["connect", "timeout", "protocol"],
)
async def test_transport_errors_are_retried(
    client: FaceitClient, fake: FakeFaceit, error: Exception
) -> None:
    fake.fail_next(error)
    match = await client.get_match(MATCH_ID)
    assert match.match_id == MATCH_ID
    assert client.request_count == 2
    assert client.status_counts == {0: 1, 200: 1}


async def test_retries_exhausted(make_client: MakeClient, fake: FakeFaceit) -> None:
    fake.fail_next(*([503] * 10))
    client = make_client(fake, max_retries=3)
    with pytest.raises(FaceitUnavailable) as info:
        await client.get_match(MATCH_ID)
    assert info.value.attempts == 3 and info.value.last_status == 503
    assert client.request_count == 3


async def test_connection_errors_exhausted(make_client: MakeClient, fake: FakeFaceit) -> None:
    fake.fail_next(*[httpx.ConnectError("down") for _ in range(5)])
    client = make_client(fake)
    with pytest.raises(FaceitUnavailable) as info:
        await client.get_player(PLAYER_ID)
    assert info.value.attempts == 5 and info.value.last_status is None
    assert client.request_count == 5
    assert isinstance(info.value, FaceitError)


async def test_real_timeout_is_retried(make_client: MakeClient) -> None:
    calls = 0

    async def slow_then_fast(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        if calls == 1:
            await asyncio.sleep(1)
        return httpx.Response(200, text=payload_text("match.json"))

    # MockTransport does not enforce httpx timeouts, so emulate one with wait_for in the handler
    async def handler(request: httpx.Request) -> httpx.Response:
        try:
            return await asyncio.wait_for(slow_then_fast(request), 0.05)
        except TimeoutError as exc:
            raise httpx.ReadTimeout("timed out", request=request) from exc

    client = make_client(handler, timeout=0.05)
    assert (await client.get_match(MATCH_ID)).match_id == MATCH_ID
    assert client.request_count == 2


# -- bad payloads ----------------------------------------------------------------------------------


async def test_truncated_body_is_invalid_payload(client: FaceitClient, fake: FakeFaceit) -> None:
    truncated = payload_text("match_stats.json")[:500]
    fake.fail_next(httpx.Response(200, text=truncated))
    with pytest.raises(InvalidPayload) as info:
        await client.get_match_stats(MATCH_ID)
    assert info.value.raw_text == truncated
    assert info.value.endpoint == f"GET /matches/{MATCH_ID}/stats"
    assert "json" in info.value.error.lower()
    assert client.request_count == 1


async def test_wrong_typed_body_is_invalid_payload(client: FaceitClient, fake: FakeFaceit) -> None:
    body = payload_text("match_stats.json").replace('"Kills":"19"', '"Kills":"nineteen"', 1)
    assert '"nineteen"' in body
    fake.fail_next(httpx.Response(200, text=body))
    with pytest.raises(InvalidPayload) as info:
        await client.get_match_stats(MATCH_ID)
    assert info.value.raw_text == body
    assert "Kills" in info.value.error


@pytest.mark.parametrize(
    "body",
    ["<html>Bad gateway</html>", "", "[]", '{"items": "nope"}'],
    ids=["html", "empty", "list", "items"],
)
async def test_other_bad_bodies(client: FaceitClient, fake: FakeFaceit, body: str) -> None:
    fake.fail_next(httpx.Response(200, text=body))
    with pytest.raises(InvalidPayload) as info:
        await client.search_players("ZywOo")
    assert info.value.raw_text == body


# -- rate limit and concurrency --------------------------------------------------------------------


async def test_rate_limiter_spaces_requests(make_client: MakeClient, fake: FakeFaceit) -> None:
    rate, burst, count = 50.0, 5, 30
    client = make_client(fake, rate_limit=rate, burst=burst, max_concurrency=30)
    started = time.monotonic()
    await asyncio.gather(*(client.get_match(MATCH_ID) for _ in range(count)))
    elapsed = time.monotonic() - started
    assert client.request_count == count
    assert elapsed >= (count - burst) / rate * 0.9  # lower bound only


async def test_default_rate_limit_is_ten_per_second(
    make_client: MakeClient, fake: FakeFaceit
) -> None:
    client = make_client(fake, rate_limit=10.0)
    started = time.monotonic()
    await asyncio.gather(*(client.get_match(MATCH_ID) for _ in range(15)))
    assert time.monotonic() - started >= (15 - 10) / 10 * 0.9


async def test_concurrency_is_bounded(make_client: MakeClient) -> None:
    fake = FakeFaceit(delay=0.02)
    client = make_client(fake, max_concurrency=3)
    await asyncio.gather(*(client.get_match(MATCH_ID) for _ in range(20)))
    assert fake.max_in_flight <= 3
    assert fake.max_in_flight >= 2  # but requests do overlap
    assert client.request_count == 20


# -- input validation ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "nickname",
    [
        "",
        "   ",
        "x" * 200,
        "'; DROP TABLE players;--",
        "<script>",
        "a b",
        'quo"te',
        "semi;colon",
        "../x",
    ],
)
async def test_bad_nicknames_send_nothing(
    client: FaceitClient, fake: FakeFaceit, nickname: str
) -> None:
    with pytest.raises(InvalidNickname) as info:
        await client.get_player_by_nickname(nickname)
    assert isinstance(info.value, ValueError)
    assert str(info.value)
    with pytest.raises(InvalidNickname):
        await client.search_players(nickname)
    assert fake.requests == [] and client.request_count == 0


@pytest.mark.parametrize(
    "nickname", ["Darwin", "s1mple", "-Hitmachine", "ZywOo--_", "mecap-", "Zoë"]
)
async def test_real_nicknames_are_accepted(client: FaceitClient, nickname: str) -> None:
    await client.get_player_by_nickname(nickname)


@pytest.mark.parametrize("bad_id", ["", "../matches", "a/b", "id?x=1", "x" * 300, "<id>"])
async def test_bad_ids_send_nothing(client: FaceitClient, fake: FakeFaceit, bad_id: str) -> None:
    with pytest.raises(InvalidIdentifier):
        await client.get_player(bad_id)
    with pytest.raises(InvalidIdentifier):
        await client.get_match_stats(bad_id)
    assert fake.requests == []


async def test_paging_limits_are_checked(client: FaceitClient, fake: FakeFaceit) -> None:
    with pytest.raises(ValueError, match="limit"):
        await client.get_history(PLAYER_ID, limit=101)
    with pytest.raises(ValueError, match="offset"):
        await client.get_history(PLAYER_ID, offset=1001)
    with pytest.raises(ValueError, match="limit"):
        await client.get_games_stats(PLAYER_ID, 0, 0)
    assert fake.requests == []


def test_constructor_rejects_nonsense() -> None:
    with pytest.raises(ValueError):
        FaceitClient(rate_limit=0)
    with pytest.raises(ValueError):
        FaceitClient(max_concurrency=0)
    with pytest.raises(ValueError):
        FaceitClient(max_retries=0)
