"""The FastAPI service: ``create_app()`` builds it (uvicorn: ``api.main:create_app --factory``).

Nothing is built at import time: the resources (engine, sessions, settings) come from the caller
or, when not given, from the environment at start-up, and are closed at shut-down if built here.
Add routers in ``ROUTERS`` (or ``app.include_router``) to extend the API.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import APIRouter, FastAPI

from api.routes import health, webhooks
from core.billing import BillingService
from core.resources import Resources
from core.settings import get_settings

ROUTERS: list[APIRouter] = [health.router, webhooks.router]


def create_app(
    resources: Resources | None = None,
    *,
    billing: BillingService | None = None,
    routers: list[APIRouter] | None = None,
) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        owned = None
        if getattr(app.state, "resources", None) is None:
            owned = Resources.from_settings(get_settings())
            app.state.resources = owned
        if getattr(app.state, "billing", None) is None:
            app.state.billing = BillingService.from_settings(app.state.resources.settings)
        try:
            yield
        finally:
            if owned is not None:
                owned.close()
                app.state.resources = None

    app = FastAPI(title="Faceit AI API", version="0.1.0", lifespan=lifespan)
    app.state.resources = resources
    app.state.billing = billing
    for router in ROUTERS + (routers or []):
        app.include_router(router)
    return app
