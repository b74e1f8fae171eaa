"""GET /readyz (database and cache reachable) and GET /metrics (Prometheus text format)."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest
from sqlalchemy import text
from starlette.concurrency import run_in_threadpool

from api.deps import get_models, get_resources
from api.problems import PROBLEM_MEDIA_TYPE, problem_body
from api.schemas import Readiness
from core.resources import Resources

log = logging.getLogger("api.ops")
router = APIRouter(tags=["ops"])
CHECK_TIMEOUT = 2.0


def _database(resources: Resources) -> dict[str, Any]:
    with resources.engine.connect() as conn:
        conn.execute(text("SELECT 1"))
    return {"ok": True, "backend": resources.settings.database_kind}


async def _cache(request: Request, resources: Resources) -> dict[str, Any]:
    url = resources.settings.redis_url
    if not url:
        return {"ok": True, "backend": "memory"}
    client = getattr(request.app.state, "ready_redis", None)
    if client is None:
        import redis.asyncio as aioredis

        client = aioredis.Redis.from_url(url, socket_timeout=1.0, socket_connect_timeout=1.0)
        request.app.state.ready_redis = client
    await client.ping()
    return {"ok": True, "backend": "redis"}


async def _check(name: str, coro: Any) -> dict[str, Any]:
    try:
        return dict(await asyncio.wait_for(coro, CHECK_TIMEOUT))
    except Exception as exc:
        log.warning(
            "readiness check failed",
            extra={"event": "not_ready", "check": name, "error": repr(exc)},
        )
        return {"ok": False, "detail": f"{name} unreachable ({type(exc).__name__})"}


@router.get(
    "/readyz",
    response_model=Readiness,
    summary="Readiness: the database answers SELECT 1 and the cache is reachable",
    responses={
        503: {
            "description": "Not ready (a problem document with the failing checks)",
            "content": {
                PROBLEM_MEDIA_TYPE: {
                    "example": {
                        "type": "https://faceit-ai.invalid/problems/not-ready",
                        "title": "Service unavailable",
                        "status": 503,
                        "detail": "Not ready: cache",
                        "checks": {
                            "database": {"ok": True, "backend": "PostgreSQL"},
                            "cache": {"ok": False, "detail": "cache unreachable (TimeoutError)"},
                        },
                    }
                }
            },
        }
    },
)
async def readyz(request: Request) -> Any:
    resources = get_resources(request)
    database, cache = await asyncio.gather(
        _check("database", run_in_threadpool(_database, resources)),
        _check("cache", _cache(request, resources)),
    )
    checks = {"database": database, "cache": cache}
    failing = [name for name, check in checks.items() if not check["ok"]]
    if failing:
        body = problem_body(
            503,
            "Service unavailable",
            "Not ready: " + ", ".join(failing),
            "not-ready",
            instance="/readyz",
        )
        body["checks"] = checks
        return JSONResponse(body, status_code=503, media_type=PROBLEM_MEDIA_TYPE)
    return {"status": "ready", "checks": checks}


def _model_versions(request: Request) -> dict[str, int]:
    models = get_models(request)
    out = {}
    for name, cache in (("match_outcome", models.match_outcome), ("playstyle", models.playstyle)):
        try:
            cache.get()
        except Exception as exc:  # an unreadable artifact must not break the scrape
            log.warning(
                "model load failed",
                extra={"event": "model_load_failed", "model": name, "error": repr(exc)},
            )
        out[name] = cache.version or 0
    return out


@router.get(
    "/metrics",
    summary="Prometheus metrics: requests, latencies, cache hits/misses, model versions",
    response_class=Response,
    responses={
        200: {
            "description": "Prometheus text exposition format",
            "content": {
                "text/plain": {
                    "schema": {"type": "string"},
                    "example": 'faceit_ai_model_version{model="match_outcome"} 3.0\n',
                }
            },
        }
    },
)
async def metrics(request: Request) -> Response:
    gauge = request.app.state.metrics.model_version
    try:
        versions = await run_in_threadpool(_model_versions, request)
    except Exception as exc:  # database down: still serve the other metrics
        log.warning(
            "model versions unavailable", extra={"event": "metrics_partial", "error": repr(exc)}
        )
        versions = {}
    for name, version in versions.items():
        gauge.labels(name).set(version)
    return Response(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)
