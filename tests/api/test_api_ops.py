"""Health, readiness, metrics, request ids and JSON logs, CORS, body limit, error shape."""

from __future__ import annotations

import io
import json
import logging
import re

from apitest_helpers import assert_problem, bearer, build_app, client
from fastapi import APIRouter

from core.logs import JsonFormatter


async def test_healthz(http) -> None:
    response = await http.get("/healthz")
    assert response.status_code == 200 and response.json() == {"status": "ok"}
    assert re.fullmatch(r"[0-9a-f]{32}", response.headers["x-request-id"])


async def test_readyz_ok_with_memory_and_redis_cache(http, seeded, tmp_path, redis_url) -> None:
    response = await http.get("/readyz")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "ready" and body["checks"]["database"]["ok"]
    assert body["checks"]["cache"]["backend"] == "memory"
    app = build_app(seeded, tmp_path, redis_url=redis_url)
    async with client(app) as http2:
        ready = await http2.get("/readyz")
        assert ready.status_code == 200 and ready.json()["checks"]["cache"]["backend"] == "redis"


async def test_readyz_degraded_not_down_when_cache_unreachable(seeded, tmp_path) -> None:
    """The API serves without Redis (features computed, rate limits in process): a cache
    outage is "degraded" (200), not a reason to take the instance out of the load balancer."""
    app = build_app(seeded, tmp_path, redis_url="redis://127.0.0.1:1/0")
    async with client(app) as http:
        response = await http.get("/readyz")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "degraded"
    assert body["checks"]["database"]["ok"] is True
    assert body["checks"]["cache"]["ok"] is False
    assert "cache" in body["checks"]["cache"]["detail"]


async def test_metrics(http, tokens, seeded) -> None:
    nickname = seeded.nicknames[0]
    headers = bearer(tokens["free"]["access_token"])
    for _ in range(2):
        assert (await http.get(f"/api/players/{nickname}", headers=headers)).status_code == 200
    await http.get("/api/players/nobody-at-all", headers=headers)
    response = await http.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    text = response.text
    assert (
        'faceit_ai_api_requests_total{method="GET",route="/api/players/{nickname}",status="200"}'
        in text
    )
    assert 'route="/api/players/{nickname}",status="404"' in text
    assert "faceit_ai_api_request_duration_seconds_bucket" in text
    assert nickname not in text  # templates, never raw paths
    assert "faceit_ai_cache_hits_total" in text and "faceit_ai_cache_misses_total" in text
    version = re.search(r'faceit_ai_model_version\{model="match_outcome"\} (\S+)', text)
    assert version is not None and float(version.group(1)) >= 1


async def test_request_id_is_echoed_and_logged_as_json(http) -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("api.access")
    logger.addHandler(handler)
    old_level = logger.level
    logger.setLevel(logging.INFO)
    try:
        response = await http.get("/healthz", headers={"X-Request-ID": "client-id-123"})
        unsafe = await http.get("/healthz", headers={"X-Request-ID": "bad id\twith spaces"})
    finally:
        logger.removeHandler(handler)
        logger.setLevel(old_level)
    assert response.headers["x-request-id"] == "client-id-123"
    assert unsafe.headers["x-request-id"] != "bad id\twith spaces"
    events = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert len(events) == 2
    first = events[0]
    assert first["request_id"] == "client-id-123"
    assert first["route"] == "/healthz" and first["status"] == 200 and first["method"] == "GET"
    assert first["level"] == "info" and "duration_ms" in first


async def test_cors_allowlist(http) -> None:
    allowed = await http.options(
        "/api/auth/login",
        headers={"Origin": "https://app.example.com", "Access-Control-Request-Method": "POST"},
    )
    assert allowed.status_code == 200
    assert allowed.headers["access-control-allow-origin"] == "https://app.example.com"
    denied = await http.options(
        "/api/auth/login",
        headers={"Origin": "https://evil.example.net", "Access-Control-Request-Method": "POST"},
    )
    assert "access-control-allow-origin" not in denied.headers
    simple = await http.get("/healthz", headers={"Origin": "https://evil.example.net"})
    assert "access-control-allow-origin" not in simple.headers


async def test_body_too_large_is_413(http, tokens) -> None:
    headers = bearer(tokens["premium"]["access_token"])
    big = {"lineup_a": ["a" * 60] * 5, "lineup_b": ["b"], "padding": "x" * 70_000}
    response = await http.post("/api/analysis/analyze", json=big, headers=headers)
    assert_problem(response, 413)

    async def chunks():
        for _ in range(20):
            yield b"x" * 8192

    chunked = await http.post(
        "/api/auth/login", content=chunks(), headers={"content-type": "application/json"}
    )
    assert_problem(chunked, 413)

    async def small():
        yield b'{"username": "nobody-x", '
        yield b'"password": "Whatever-123"}'

    ok = await http.post(
        "/api/auth/login", content=small(), headers={"content-type": "application/json"}
    )
    assert_problem(ok, 401)  # a chunked body under the limit reaches the route


async def test_unknown_route_and_method_are_problems(http) -> None:
    assert_problem(await http.get("/api/nothing-here"), 404)
    assert_problem(await http.delete("/api/auth/login"), 405)


async def test_unexpected_errors_are_a_500_problem_without_internals(seeded, tmp_path) -> None:
    boom = APIRouter()

    @boom.get("/boom")
    def explode() -> None:
        raise RuntimeError("secret internals: password=hunter2")

    app = build_app(seeded, tmp_path)
    app.include_router(boom)
    async with client(app) as http:
        response = await http.get("/boom", headers={"X-Request-ID": "trace-me"})
    problem = assert_problem(response, 500)
    assert problem["request_id"] == "trace-me"
    assert "hunter2" not in response.text and "RuntimeError" not in response.text


async def test_openapi_documents_every_route(http) -> None:
    schema = (await http.get("/openapi.json")).json()
    assert schema["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
    expected = {
        ("post", "/api/auth/login"),
        ("post", "/api/auth/refresh"),
        ("get", "/api/players/{nickname}"),
        ("get", "/api/players/{nickname}/matches"),
        ("get", "/api/players/{nickname}/maps"),
        ("get", "/api/players/{nickname}/playstyle"),
        ("get", "/api/players/{nickname}/improvement"),
        ("get", "/api/players/{nickname}/ratings"),
        ("get", "/api/players/{nickname}/head-to-head/{other}"),
        ("get", "/api/players/{nickname}/teammates"),
        ("get", "/api/players/{nickname}/tilt"),
        ("post", "/api/analysis/analyze"),
        ("get", "/healthz"),
        ("get", "/readyz"),
        ("get", "/metrics"),
        ("post", "/webhooks/stripe"),
    }
    found = {(m, p) for p, ops in schema["paths"].items() for m in ops}
    assert expected <= found
    protected = [p for p in schema["paths"] if p.startswith(("/api/players", "/api/analysis"))]
    for path in protected:
        for op in schema["paths"][path].values():
            assert op["security"] == [{"bearer": []}]
            assert "401" in op["responses"] and "429" in op["responses"]
            problem = op["responses"]["401"]["content"]["application/problem+json"]
            assert problem["schema"]["$ref"].endswith("/Problem")
    analyze = schema["paths"]["/api/analysis/analyze"]["post"]
    assert len(analyze["requestBody"]["content"]["application/json"]["examples"]) >= 2
    assert "HTTPValidationError" not in schema["components"]["schemas"]
