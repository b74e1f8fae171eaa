"""The API's edge: bounded metric labels, security headers, trusted proxies."""

from __future__ import annotations

import asyncio
import random
import re
import socket
import threading
import time
from pathlib import Path

import httpx
import pytest
from apitest_helpers import build_app, client, make_config

# the methods a metric label may name; any other method is counted as OTHER
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
OTHER_METHOD = "OTHER"
SERIES = re.compile(r'^faceit_ai_api_requests_total\{method="([^"]*)",route="([^"]*)"', re.M)


def _random_method(rng: random.Random) -> str:
    if rng.random() < 0.2:
        return rng.choice(sorted(METHODS))
    return "".join(rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ") for _ in range(rng.randint(3, 12)))


def _random_path(rng: random.Random) -> str:
    return rng.choice(
        [
            "/healthz",
            "/api/auth/login",
            f"/api/players/p{rng.randrange(10**9)}",
            f"/nothing/{rng.randrange(10**9)}",
            f"/api/{rng.randrange(10**9)}/x",
        ]
    )


async def test_random_methods_leave_metrics_bounded(seeded_sqlite, tmp_path) -> None:
    """5,000 requests with made-up methods and paths add no series beyond a closed set: the
    /metrics answer stays the size it was (issue 16 item 5: it grew from 290 KB to 11 MB)."""
    app = build_app(seeded_sqlite, tmp_path)
    rng = random.Random(16)
    async with client(app) as http:
        # one request of each kind first, so the closed set of series exists before measuring
        for method in [*sorted(METHODS), "MADEUP"]:
            for path in ("/healthz", "/api/auth/login", "/api/players/p1", "/nothing/1"):
                await http.request(method, path)
        before = len((await http.get("/metrics")).content)
        for _ in range(50):
            answers = await asyncio.gather(
                *(http.request(_random_method(rng), _random_path(rng)) for _ in range(100))
            )
            assert all(a.status_code < 500 for a in answers)
        text = (await http.get("/metrics")).text
    grown = len(text.encode()) - before
    assert grown < 4096, f"/metrics grew by {grown} bytes"
    labels = SERIES.findall(text)
    assert {method for method, _ in labels} <= METHODS | {OTHER_METHOD}
    assert not [route for _, route in labels if re.search(r"\d{6,}", route)]  # no raw paths


async def test_security_headers_on_every_answer(seeded_sqlite, tmp_path) -> None:
    app = build_app(seeded_sqlite, tmp_path)
    async with client(app) as http:
        answers = [
            await http.get("/healthz"),
            await http.get("/api/players/nobody"),  # 401
            await http.get("/nothing"),  # 404
            await http.request("BREW", "/healthz"),  # 405
            await http.post("/api/auth/login", json={}),  # 422
            await http.get("/openapi.json"),
        ]
        docs = await http.get("/docs")
        tls = await http.get("https://testserver/healthz")
    for answer in [*answers, docs]:
        assert answer.headers["x-content-type-options"] == "nosniff"
        assert answer.headers["x-frame-options"] == "DENY"
        assert answer.headers["referrer-policy"] == "no-referrer"
        assert "frame-ancestors 'none'" in answer.headers["content-security-policy"]
        assert "strict-transport-security" not in answer.headers  # plain HTTP: no HSTS
    for answer in answers:
        assert answer.headers["content-security-policy"].startswith("default-src 'none'")
        assert "script-src" not in answer.headers["content-security-policy"]
    assert "https://cdn.jsdelivr.net" in docs.headers["content-security-policy"]
    assert tls.headers["strict-transport-security"].startswith("max-age=")


async def test_forwarded_for_only_from_configured_proxies(seeded_sqlite, tmp_path) -> None:
    """X-Forwarded-For picks the client address (and so the per-IP limit) only when the TCP
    peer is in TRUSTED_PROXIES; the test client's peer is 127.0.0.1."""

    async def refused_after_two(app) -> bool:
        async with client(app) as http:
            codes = [
                (
                    await http.get("/api/players/x", headers={"X-Forwarded-For": f"203.0.113.{i}"})
                ).status_code
                for i in range(3)
            ]
        return codes[-1] == 429

    config = make_config(rate_limit_ip="2/minute")
    assert await refused_after_two(build_app(seeded_sqlite, tmp_path, config=config))
    trusting = build_app(seeded_sqlite, tmp_path, config=config, trusted_proxies=["127.0.0.0/8"])
    assert not await refused_after_two(trusting)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_served_api_does_not_trust_loopback_by_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`faceit-ai api` (uvicorn, run here in a thread with the options the command passes): a
    request from 127.0.0.1 cannot pick its address with X-Forwarded-For unless TRUSTED_PROXIES
    says so (uvicorn's own proxy handling trusts loopback)."""
    import uvicorn

    from core.settings import get_settings
    from pipelines import cli_api

    for name, value in {
        "DATABASE_URL": f"sqlite:///{tmp_path / 'api.db'}",
        "DATA_DIR": str(tmp_path),
        "API_RATE_LIMIT_IP": "2/minute",
        "API_GC_FREEZE": "0",
        "API_LOG_JSON": "0",
        "API_LOG_REQUESTS": "0",
    }.items():
        monkeypatch.setenv(name, value)
    for name in ("REDIS_URL", "TRUSTED_PROXIES", "FORWARDED_ALLOW_IPS"):
        monkeypatch.delenv(name, raising=False)
    get_settings.cache_clear()
    options: dict = {}
    monkeypatch.setattr(uvicorn, "run", lambda app, **kwargs: options.update(app=app, **kwargs))
    port = _free_port()
    cli_api.api(host="127.0.0.1", port=port)
    server = uvicorn.Server(uvicorn.Config(options.pop("app"), **options))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 60
        while not server.started:
            assert thread.is_alive() and time.monotonic() < deadline, "the API did not start"
            time.sleep(0.05)
        codes = [
            httpx.get(
                f"http://127.0.0.1:{port}/api/players/x",
                headers={"X-Forwarded-For": f"203.0.113.{i}"},
            ).status_code
            for i in range(3)
        ]
    finally:
        server.should_exit = True
        thread.join(10)
        get_settings.cache_clear()
    assert codes == [401, 401, 429]
