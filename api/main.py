"""The FastAPI service: ``create_app()`` builds it (uvicorn: ``api.main:create_app --factory``).

Nothing is built at import time: the resources (engine, sessions, settings) come from the caller
or, when not given, from the environment at start-up, and are closed at shut-down if built here.
Add routers in ``ROUTERS`` (or ``app.include_router``) to extend the API.

Every request goes through ``RequestContextMiddleware`` (request id, body-size limit, metrics,
JSON access log, catch-all 500) and CORS (``settings.cors_origins``); every error is an RFC 9457
problem document (api.problems).
"""

from __future__ import annotations

import gc
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import APIRouter, FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.openapi.utils import get_openapi
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from api.metrics import api_metrics
from api.middleware import RequestContextMiddleware
from api.problems import PROBLEM_MEDIA_TYPE, install_handlers
from api.routes import analysis, auth, debug, health, models, ops, players, webhooks
from api.services import TTLCache
from core.billing import BillingService
from core.logs import configure_logging
from core.resources import Resources
from core.sentry import init_sentry
from core.settings import get_settings

ROUTERS: list[APIRouter] = [
    health.router,
    ops.router,
    auth.router,
    players.router,
    analysis.router,
    models.router,
    webhooks.router,
]

# the routers with most of the traffic: tried first when a request is matched to a route
BUSIEST: list[APIRouter] = [players.router, analysis.router]

DESCRIPTION = """\
Analytics and paid AI analyses for FACEIT CS2 players.

Log in with `POST /api/auth/login` and send the access token as `Authorization: Bearer <token>`.
Access tokens are short-lived; exchange the refresh token at `POST /api/auth/refresh`.
Premium routes check the subscription in the database on every call.
Errors are RFC 9457 problem documents (`application/problem+json`); every answer carries an
`X-Request-ID` header (send your own to correlate). Rate limits answer 429 with `Retry-After`.
"""


def create_app(
    resources: Resources | None = None,
    *,
    billing: BillingService | None = None,
    routers: list[APIRouter] | None = None,
) -> FastAPI:
    settings = resources.settings if resources is not None else get_settings()
    config = settings.api

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if config.log_json:
            configure_logging("api")
        owned = None
        if getattr(app.state, "resources", None) is None:
            owned = Resources.from_settings(settings)
            app.state.resources = owned
        init_sentry(app.state.resources.settings, "api")
        logging.getLogger("api").info(
            "api started",
            extra={
                "event": "startup",
                "database": app.state.resources.describe_database(),
                "cache": app.state.resources.cache.backend,
            },
        )
        frozen = False
        if config.gc_freeze and gc.isenabled():
            # The start-up heap (FastAPI, pydantic, polars, scikit-learn, XGBoost...: ~300k
            # objects) lives as long as the process. Left in the oldest generation, every full
            # collection walks it: ~150 ms with the event loop stopped, about once a second
            # under load (uvicorn leaves reference cycles behind), which was most of the p99.
            # Frozen, full collections only see what was allocated since (a few ms).
            gc.collect()
            gc.freeze()
            frozen = True
        try:
            yield
        finally:
            if frozen:
                gc.unfreeze()
            await _close_clients(app)
            if owned is not None:
                owned.close()
                app.state.resources = None

    app = FastAPI(
        title="Faceit AI API",
        version="0.1.0",
        description=DESCRIPTION,
        lifespan=lifespan,
        telemetry=None
        if config.otel_telemetry
        else {"tracing": False, "metrics": False, "logs": False, "operation_spans": False},
    )
    app.state.resources = resources
    app.state.billing = billing
    app.state.metrics = api_metrics()
    app.state.player_cache = TTLCache(config.player_cache_seconds)
    app.state.player_pending = {}
    app.state.player_refreshes = set()
    app.state.analysis_cache = TTLCache(config.analysis_cache_seconds, max_entries=1024)
    app.state.analysis_pending = {}
    install_handlers(app)
    for router in ROUTERS + (routers or []):
        app.include_router(router)
    if config.debug_error_route:
        app.include_router(debug.router)
    _busiest_first(app)
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=list(settings.cors_origins),
            allow_methods=["GET", "POST", "OPTIONS"],
            allow_headers=["Authorization", "Content-Type", "X-Request-ID"],
            expose_headers=["X-Request-ID", "Retry-After"],
            max_age=600,
        )
    app.add_middleware(
        RequestContextMiddleware,
        metrics=app.state.metrics,
        max_body_bytes=config.max_body_bytes,
        large_body_paths={
            "/webhooks/stripe": config.webhook_max_body_bytes,
            "/webhooks/faceit": config.webhook_max_body_bytes,
        },
        log_requests=config.log_requests,
    )
    if settings.trusted_proxies:
        # outermost: the client address and scheme are the forwarded ones (for the rate limits,
        # logs and HSTS) only when the TCP peer is one of the configured proxies
        app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=list(settings.trusted_proxies))

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(
                title=app.title,
                version=app.version,
                description=app.description,
                routes=app.routes,
            )
            app.openapi_schema = problem_media_types(schema)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    return app


def _busiest_first(app: FastAPI) -> None:
    """Move the routes of the ``BUSIEST`` routers to the front of the app's route list.

    A request is matched against the routes in order, and trying one is not free (FastAPI's
    included routers and the /docs routes cost a few microseconds each): the player route was
    tried after ten others. No path is matched by two routes, so only the matching time changes
    (and the order of the paths in the OpenAPI document).
    """
    busiest = {id(router) for router in BUSIEST}
    prefixes = tuple(router.prefix for router in BUSIEST if router.prefix)

    def hot(route: Any) -> bool:
        included = getattr(route, "original_router", None)  # an include_router() entry
        if included is not None:
            return id(included) in busiest
        return bool(prefixes) and str(getattr(route, "path", "")).startswith(prefixes)

    routes = app.router.routes
    routes[:] = [r for r in routes if hot(r)] + [r for r in routes if not hot(r)]


async def _close_clients(app: FastAPI) -> None:
    ready = getattr(app.state, "ready_redis", None)
    if ready is not None:
        await ready.aclose()
        app.state.ready_redis = None
    limiter = getattr(app.state, "rate_limiter", None)
    if limiter is not None:
        await limiter.aclose()
    for probe in (getattr(app.state, "probes", None) or {}).values():
        probe.close()


PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}


def problem_media_types(schema: dict[str, Any]) -> dict[str, Any]:
    """Document every 4xx/5xx answer as ``application/problem+json`` with the Problem schema
    (FastAPI puts response models under application/json and its own 422 shape)."""
    used_default_422 = False
    for operations in schema.get("paths", {}).values():
        for operation in operations.values():
            if "requestBody" in operation:  # unparseable (400) or oversized (413) bodies
                answers = operation.setdefault("responses", {})
                for status, title in (("400", "Malformed body"), ("413", "Body too large")):
                    answers.setdefault(status, {"description": title})
            for status, response in operation.get("responses", {}).items():
                if not status.isdigit() or int(status) < 400:
                    continue
                content = response.setdefault("content", {})
                plain = content.pop("application/json", None)
                target = content.setdefault(PROBLEM_MEDIA_TYPE, {})
                if plain and plain.get("schema", {}).get("$ref", "").endswith(
                    "HTTPValidationError"
                ):
                    used_default_422 = True
                if "schema" not in target:
                    target["schema"] = PROBLEM_REF
    components = schema.get("components", {}).get("schemas", {})
    if used_default_422 and "Problem" in components:
        for name in ("HTTPValidationError", "ValidationError"):
            components.pop(name, None)
    return schema
