"""One FACEIT key, several clients (workers): the rate limit holds for all of them together."""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import Any

import httpx
import pytest
from redis import asyncio as aioredis

from core.faceit import FaceitClient
from core.faceit.ratelimit import budget_key
from tests.utils.ports import free_port
from tests.utils.redis_server import start_redis, stop_redis

pytestmark = pytest.mark.redis

RATE = 20.0
PER_CLIENT = 16


def most_in_one_second(times: list[float]) -> int:
    times = sorted(times)
    best = 0
    start = 0
    for end, moment in enumerate(times):
        while moment - times[start] >= 1.0:
            start += 1
        best = max(best, end - start + 1)
    return best


async def burst_from_two_clients(shared_limit_url: str | None, *, with_keys: bool = False) -> Any:
    """Two clients with one API key each send PER_CLIENT requests at once; the send times
    (and, ``with_keys``, the Redis schedule keys the clients used)."""
    sent: list[float] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(time.monotonic())
        return httpx.Response(200, json={"player_id": "p1", "nickname": "x"})

    key = f"key-{uuid.uuid4().hex}"  # a fresh budget per test run
    clients = [
        FaceitClient(
            api_key=key,
            base_url="https://open.faceit.com/data/v4",
            rate_limit=RATE,
            burst=1,
            transport=httpx.MockTransport(handler),
            shared_limit_url=shared_limit_url,
        )
        for _ in range(2)
    ]
    keys = {budget_key(key, c.base_url) for c in clients}
    try:
        sends = [c._send_once("players/p1", None, "p") for c in clients for _ in range(PER_CLIENT)]
        await asyncio.gather(*sends)
    finally:
        for c in clients:
            await c.aclose()
    return (sent, keys) if with_keys else sent


async def test_two_clients_share_one_budget_through_redis(redis_url: str) -> None:
    """Both clients reserve their slots on ONE schedule in Redis: the 32 requests take 32
    consecutive slots 1/RATE apart (GCRA, burst 1), so FACEIT never sees more than RATE in a
    second. Asserted on the schedule the limiter keeps, not on when a loaded machine happened
    to run each send (a starved event loop can run two sends of consecutive slots together)."""
    conn = aioredis.Redis.from_url(redis_url)
    try:
        seconds, micros = await conn.time()
        sent, keys = await burst_from_two_clients(redis_url, with_keys=True)
        (schedule,) = keys
        tat = float(await conn.get(schedule))
    finally:
        await conn.aclose()
    assert len(sent) == 2 * PER_CLIENT
    # the schedule moved one interval per request of either client: 32 slots, none shared
    assert tat - (seconds + micros / 1e6) >= 2 * PER_CLIENT / RATE - 0.01


async def test_without_redis_each_client_has_its_own_budget() -> None:
    # the control: the same burst with per-process limiters goes over the key's limit
    sent = await burst_from_two_clients(None)
    assert most_in_one_second(sent) > RATE + 1


async def test_redis_outage_falls_back_to_a_local_limit() -> None:
    port = free_port()
    server = start_redis(port)
    url = f"redis://127.0.0.1:{port}/0"
    stop_redis(server)  # Redis is gone before the first request
    sent = await burst_from_two_clients(url)
    # every request still went out (no crash), each client limited in process
    assert len(sent) == 2 * PER_CLIENT


async def test_the_api_key_is_not_stored_in_redis(redis_url: str) -> None:
    import redis.asyncio as aioredis

    client = FaceitClient(
        api_key="secret-key-123",
        rate_limit=RATE,
        transport=httpx.MockTransport(lambda r: httpx.Response(200, json={})),
        shared_limit_url=redis_url,
    )
    try:
        await client._send_once("players/p1", None, "player")
    finally:
        await client.aclose()
    conn = aioredis.Redis.from_url(redis_url)
    try:
        keys = [k.decode() async for k in conn.scan_iter("faceit-ai:faceit-rate:*")]
    finally:
        await conn.aclose()
    assert keys and not any("secret-key-123" in k for k in keys)
