"""GET /readyz (database and cache reachable) and GET /metrics (Prometheus text format).

Neither may hang with the database: requests stuck on a frozen database can hold every thread
of the shared worker pool, so the database work of these routes runs on their own thread (one
call at a time, shared by concurrent callers) and is waited for a bounded time. /readyz says
``degraded`` (200) when only the cache is down (the API serves without it: features are computed,
rate limits count in process) and 503 when the database is.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest
from sqlalchemy import text

from api.deps import get_models, get_resources
from api.problems import PROBLEM_MEDIA_TYPE, problem_body
from api.schemas import Readiness
from core.resources import Resources

log = logging.getLogger("api.ops")
router = APIRouter(tags=["ops"])
CHECK_TIMEOUT = 2.0
MODEL_VERSIONS_TIMEOUT = 0.25  # a scrape waits this long for the database at most


class Probe:
    """Blocking checks on a dedicated thread, one call at a time: callers arriving while a call
    is in flight wait for that call (so a hung database holds one thread, not one per scrape)."""

    def __init__(self, name: str) -> None:
        self.executor = ThreadPoolExecutor(1, thread_name_prefix=f"api-probe-{name}")
        self.pending: asyncio.Future[Any] | None = None

    async def run(self, fn: Callable[[], Any], timeout: float) -> Any:
        """``fn()`` (or the call in flight), waited for at most ``timeout`` seconds."""
        if self.pending is None or self.pending.done():
            self.pending = asyncio.wrap_future(self.executor.submit(fn))
        return await asyncio.wait_for(asyncio.shield(self.pending), timeout)

    def close(self) -> None:
        self.executor.shutdown(wait=False, cancel_futures=True)


def probe(request: Request, name: str) -> Probe:
    probes: dict[str, Probe] | None = getattr(request.app.state, "probes", None)
    if probes is None:
        probes = request.app.state.probes = {}
    found = probes.get(name)
    if found is None:
        found = probes[name] = Probe(name)
    return found


def _database(resources: Resources) -> dict[str, Any]:
    with resources.engine.connect() as conn:
        conn.execute(text("SELECT 1"))
    return {"ok": True, "backend": resources.settings.database_kind}


async def _cache(request: Request, resources: Resources) -> dict[str, Any]:
    settings = resources.settings
    url = settings.redis_url
    if not url:
        return {"ok": True, "backend": "memory"}
    client = getattr(request.app.state, "ready_redis", None)
    if client is None:
        import redis.asyncio as aioredis

        client = aioredis.Redis.from_url(
            url,
            socket_timeout=settings.redis_socket_timeout_seconds,
            socket_connect_timeout=settings.redis_connect_timeout_seconds,
        )
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
    summary="Readiness: the database answers SELECT 1 (the cache is reported, not required)",
    responses={
        503: {
            "description": "Not ready (a problem document with the failing checks)",
            "content": {
                PROBLEM_MEDIA_TYPE: {
                    "example": {
                        "type": "https://faceit-ai.invalid/problems/not-ready",
                        "title": "Service unavailable",
                        "status": 503,
                        "detail": "Not ready: database",
                        "checks": {
                            "database": {
                                "ok": False,
                                "detail": "database unreachable (TimeoutError)",
                            },
                            "cache": {"ok": True, "backend": "redis"},
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
        _check(
            "database", probe(request, "database").run(lambda: _database(resources), CHECK_TIMEOUT)
        ),
        _check("cache", _cache(request, resources)),
    )
    checks = {"database": database, "cache": cache}
    if not database["ok"]:
        body = problem_body(
            503,
            "Service unavailable",
            "Not ready: database",
            "not-ready",
            instance="/readyz",
        )
        body["checks"] = checks
        return JSONResponse(body, status_code=503, media_type=PROBLEM_MEDIA_TYPE)
    return {"status": "ready" if cache["ok"] else "degraded", "checks": checks}


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
        versions = await probe(request, "models").run(
            lambda: _model_versions(request), MODEL_VERSIONS_TIMEOUT
        )
    except Exception as exc:  # database down or hung: the other metrics, the last versions
        log.warning(
            "model versions unavailable", extra={"event": "metrics_partial", "error": repr(exc)}
        )
        versions = {}
    for name, version in versions.items():
        gauge.labels(name).set(version)
    return Response(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)
