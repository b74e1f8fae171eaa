"""Rate limits per user and per IP: 429 with Retry-After, recovery after the window."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from apitest_helpers import assert_problem, bearer, build_app, client, login, make_config

from api.ratelimit import ApiRateLimiter


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


async def test_storage_outage_does_not_refuse_requests(seeded, tmp_path) -> None:
    app = build_app(seeded, tmp_path)
    _tiny_limits(app, "1/minute", "1/minute", "redis://127.0.0.1:1/0")
    async with client(app) as http:
        for _ in range(2):
            assert (await http.get("/api/players/x")).status_code == 401
