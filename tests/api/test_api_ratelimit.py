"""Rate limits per user and per IP: 429 with Retry-After, recovery after the window."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from apitest_helpers import assert_problem, bearer, build_app, client, login, make_config

from api.ratelimit import ApiRateLimiter
from tests.utils.ports import free_port
from tests.utils.redis_server import start_redis, stop_redis


def _tiny_limits(app, user: str, ip: str, redis_url: str | None = None) -> None:
    app.state.rate_limiter = ApiRateLimiter(
        user_limit=user,
        ip_limit=ip,
        redis_url=redis_url,
        key_prefix=f"faceit-ai-api-test-{uuid.uuid4().hex[:8]}",
    )


@pytest.mark.parametrize("storage", ["memory", "redis"])
async def test_user_limit_429_then_recovers(seeded, tmp_path, redis_url, storage) -> None:
    app = build_app(seeded, tmp_path)
    async with client(app) as http:
        free = await login(http, seeded.users["free"])
        premium = await login(http, seeded.users["premium"])
        _tiny_limits(
            app, "3 per 2 seconds", "1000/minute", redis_url if storage == "redis" else None
        )
        assert app.state.rate_limiter.backend == storage
        url = f"/api/players/{seeded.nicknames[0]}"
        for _ in range(3):
            ok = await http.get(url, headers=bearer(free["access_token"]))
            assert ok.status_code == 200, ok.text
        limited = await http.get(url, headers=bearer(free["access_token"]))
        problem = assert_problem(limited, 429)
        retry = int(limited.headers["retry-after"])
        assert 1 <= retry <= 2 and "account" in problem["detail"]
        # another user is not affected
        assert (await http.get(url, headers=bearer(premium["access_token"]))).status_code == 200
        await asyncio.sleep(retry + 0.1)
        assert (await http.get(url, headers=bearer(free["access_token"]))).status_code == 200
        metrics = (await http.get("/metrics")).text
        assert 'faceit_ai_api_rate_limited_total{scope="user"}' in metrics


async def test_ip_limit_covers_login(seeded, tmp_path) -> None:
    app = build_app(
        seeded,
        tmp_path,
    )
    _tiny_limits(app, "1000/minute", "2 per 2 seconds")
    async with client(app) as http:
        body = {"username": "nobody-ip", "password": "Whatever-123"}
        assert (await http.post("/api/auth/login", json=body)).status_code == 401
        assert (await http.post("/api/auth/login", json=body)).status_code == 401
        limited = await http.post("/api/auth/login", json=body)
        assert "address" in assert_problem(limited, 429)["detail"]
        assert int(limited.headers["retry-after"]) >= 1
        # health and metrics are not rate limited
        assert (await http.get("/healthz")).status_code == 200


async def test_limits_from_config_and_disabled(seeded, tmp_path) -> None:
    app = build_app(
        seeded, tmp_path, config=make_config(rate_limit_ip="1/minute", rate_limit_enabled=False)
    )
    async with client(app) as http:
        for _ in range(3):
            r = await http.post("/api/auth/login", json={"username": "x-y-z", "password": "p"})
            assert r.status_code == 401
    app = build_app(seeded, tmp_path, config=make_config(rate_limit_ip="1/minute"))
    async with client(app) as http:
        assert (await http.post("/api/auth/login", json={})).status_code == 422
        assert_problem(await http.post("/api/auth/login", json={}), 429)


async def test_storage_outage_neither_refuses_nor_lifts_the_limits(seeded, tmp_path) -> None:
    """Redis unreachable: requests are served and the limits still count, in process."""
    app = build_app(seeded, tmp_path)
    _tiny_limits(app, "1/minute", "1/minute", "redis://127.0.0.1:1/0")
    async with client(app) as http:
        assert (await http.get("/api/players/x")).status_code == 401
        assert_problem(await http.get("/api/players/x"), 429)


def test_redis_keys_are_those_of_limits() -> None:
    """The batched Redis path counts under the keys ``limits`` uses (same counters, same reset)."""
    limiter = ApiRateLimiter(
        user_limit="5/second;1000/hour", ip_limit="7 per 3 minutes", key_prefix="pfx"
    )
    for scope, items in (("user", limiter.user_items), ("ip", limiter.ip_items)):
        for index, item in enumerate(items):
            assert limiter.redis_key(scope, "id-1", index) == f"pfx:{item.key_for(scope, 'id-1')}"


async def test_redis_counts_are_exact_under_concurrency_and_shared(redis_url) -> None:
    """Concurrent hits are batched into one script call, yet every hit is counted: exactly the
    limit is allowed, across two limiters (two API processes) sharing the counters, and the
    counters are the ones ``limits`` reads."""
    from limits.aio.strategies import FixedWindowRateLimiter

    prefix = f"faceit-ai-api-test-{uuid.uuid4().hex[:8]}"
    first, second = (
        ApiRateLimiter(
            user_limit="30/minute", ip_limit="1000/minute", redis_url=redis_url, key_prefix=prefix
        )
        for _ in range(2)
    )
    try:
        verdicts = await asyncio.gather(
            *(limiter.hit("user", "42") for limiter in (first, second) for _ in range(25))
        )
        allowed = [v for v in verdicts if v.allowed]
        refused = [v for v in verdicts if not v.allowed]
        assert len(allowed) == 30 and len(refused) == 20
        assert all(v.scope == "user" and 1 <= v.retry_after <= 60 for v in refused)
        stats = await FixedWindowRateLimiter(first.storage).get_window_stats(
            first.user_items[0], "user", "42"
        )
        assert stats.remaining == 0
        assert (await first.hit("user", "43")).allowed  # another identity is not affected
    finally:
        await first.reset()
        await first.aclose()
        await second.aclose()


@pytest.mark.parametrize("storage", ["memory", "redis"])
async def test_ip_refusal_does_not_count_the_user(redis_url, storage) -> None:
    """``hit_many``: limits in order, the first exceeded stops the count (as separate hits)."""
    limiter = ApiRateLimiter(
        user_limit="100/minute",
        ip_limit="2/minute",
        redis_url=redis_url if storage == "redis" else None,
        key_prefix=f"faceit-ai-api-test-{uuid.uuid4().hex[:8]}",
    )
    try:
        hits = (("ip", "10.0.0.1"), ("user", "7"))
        assert (await limiter.hit_many(hits)).allowed
        assert (await limiter.hit_many(hits)).allowed
        refused = await limiter.hit_many(hits)
        assert not refused.allowed and refused.scope == "ip" and refused.retry_after >= 1
        assert refused.limit == str(limiter.ip_items[0])
        stats = await limiter.limiter.get_window_stats(limiter.user_items[0], "user", "7")
        assert stats.remaining == 98  # two counted, not the refused third
    finally:
        await limiter.reset()
        await limiter.aclose()


async def test_ip_limit_on_authenticated_routes(seeded, tmp_path, redis_url) -> None:
    """The bearer gate counts the per-IP limit too (with or without a valid token)."""
    app = build_app(seeded, tmp_path)
    async with client(app) as http:
        free = await login(http, seeded.users["free"])
        _tiny_limits(app, "1000/minute", "2 per 2 seconds", redis_url)
        url = f"/api/players/{seeded.nicknames[0]}"
        assert (await http.get(url, headers=bearer(free["access_token"]))).status_code == 200
        assert (await http.get(url)).status_code == 401  # no token: counted all the same
        limited = await http.get(url, headers=bearer(free["access_token"]))
        assert "address" in assert_problem(limited, 429)["detail"]
        assert_problem(await http.get(url), 429)  # the IP limit comes before the token check
        body = {"lineup_a": seeded.nicknames[:1], "lineup_b": seeded.nicknames[1:2]}
        assert_problem(await http.post("/api/analysis/analyze", json=body), 429)
        metrics = (await http.get("/metrics")).text
        assert 'faceit_ai_api_rate_limited_total{scope="ip"}' in metrics


def test_every_api_route_counts_the_ip_limit() -> None:
    """Each /api route has the per-IP limit in its dependencies: ``limit_by_ip`` or the bearer
    gate (``current_claims``, which counts it with the per-user limit)."""
    from fastapi.routing import APIRoute

    from api.deps import current_claims, limit_by_ip
    from api.main import ROUTERS

    def calls(dependant) -> set:
        found = {dependant.call}
        for sub in dependant.dependencies:
            found |= calls(sub)
        return found

    routes = [
        route
        for router in ROUTERS
        for route in router.routes
        if isinstance(route, APIRoute) and route.path.startswith("/api/")
    ]
    assert len(routes) >= 8
    for route in routes:
        assert calls(route.dependant) & {limit_by_ip, current_claims}, route.path


async def test_storage_outage_backs_off_and_recovers(redis_url) -> None:
    limiter = ApiRateLimiter(
        user_limit="1/minute",
        ip_limit="1/minute",
        redis_url="redis://127.0.0.1:1/0",
        key_prefix=f"faceit-ai-api-test-{uuid.uuid4().hex[:8]}",
    )
    assert limiter._batched is not None
    # down: the in-process fallback counts (one allowed, then refused)
    assert [(await limiter.hit("user", "1")).allowed for _ in range(3)] == [True, False, False]
    # Redis comes back (here: the URL is fixed) after the back-off: limits apply again
    limiter._batched.redis_url = redis_url
    limiter._batched._loop = None
    limiter._batched._down_until = 0.0
    assert (await limiter.hit("user", "1")).allowed
    assert not (await limiter.hit("user", "1")).allowed  # (the keys expire within a minute)
    await limiter.aclose()


async def test_per_user_limit_holds_while_redis_is_stopped(seeded_sqlite, tmp_path) -> None:
    """A private redis-server is stopped mid-traffic: the per-user limit keeps holding from the
    in-process fallback, and counting returns to Redis when it is back (issue 16 item 9: 3,874
    requests from one user in 25 s against 120/min while Redis was down)."""
    port = free_port()
    server = start_redis(port)
    app = build_app(seeded_sqlite, tmp_path)
    try:
        async with client(app) as http:
            free = await login(http, seeded_sqlite.users["free"])
            headers = bearer(free["access_token"])
            _tiny_limits(app, "5/minute", "1000/minute", f"redis://127.0.0.1:{port}/0")
            url = f"/api/players/{seeded_sqlite.nicknames[0]}"
            assert (await http.get(url, headers=headers)).status_code == 200  # counted in Redis
            stop_redis(server)
            codes = [(await http.get(url, headers=headers)).status_code for _ in range(12)]
            assert codes == [200] * 5 + [429] * 7, codes
            burst = await asyncio.gather(*(http.get(url, headers=headers) for _ in range(20)))
            assert {r.status_code for r in burst} == {429}
            other = await login(http, seeded_sqlite.users["premium"])
            ok = await http.get(url, headers=bearer(other["access_token"]))
            assert ok.status_code == 200  # another user has their own count
            server = start_redis(port)
            app.state.rate_limiter._batched._down_until = 0.0  # skip the back-off wait
            # back on Redis (restarted empty: a new count there, not the fallback's)
            codes = [(await http.get(url, headers=headers)).status_code for _ in range(6)]
            assert codes == [200] * 5 + [429], codes
    finally:
        stop_redis(server)
