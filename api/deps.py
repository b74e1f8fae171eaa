"""FastAPI dependencies: resources built at start-up, a database session, billing, the API
config, rate limits, the bearer-token user (``CurrentUser``) and the premium gate (``PremiumUser``).

``CurrentUser`` checks the signature, expiry, algorithm and purpose of the access token (no
database round trip). ``PremiumUser`` additionally reads the user's role and entitlement from the
database on every call, so a downgrade or a cancelled subscription takes effect immediately.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.config import ApiConfig
from api.problems import ApiProblem
from api.ratelimit import ApiRateLimiter
from core import auth
from core.billing import BillingService
from core.db.schema import User
from core.resources import Resources

if TYPE_CHECKING:
    from models.analysis import AnalysisModels

_INIT_LOCK = threading.Lock()
bearer_scheme = HTTPBearer(
    auto_error=False,
    scheme_name="bearer",
    bearerFormat="JWT",
    description="An access token from POST /api/auth/login or POST /api/auth/refresh.",
)


def get_resources(request: Request) -> Resources:
    resources: Resources | None = getattr(request.app.state, "resources", None)
    if resources is None:
        raise RuntimeError("the API resources are not initialised (app started without lifespan?)")
    return resources


def get_session(request: Request) -> Iterator[Session]:
    """One session per request; services commit their own work, anything left is rolled back."""
    session = get_resources(request).sessions()
    try:
        yield session
    finally:
        session.close()


def get_billing(request: Request) -> BillingService:
    billing: BillingService | None = getattr(request.app.state, "billing", None)
    if billing is None:
        billing = BillingService.from_settings(get_resources(request).settings)
        request.app.state.billing = billing
    return billing


def get_config(request: Request) -> ApiConfig:
    config: ApiConfig | None = getattr(request.app.state, "api_config", None)
    if config is None:
        config = ApiConfig()
        request.app.state.api_config = config
    return config


def get_secret_key(request: Request) -> str:
    """SECRET_KEY (resolved once per app: in development it is read from or written to data/)."""
    key: str | None = getattr(request.app.state, "secret_key", None)
    if key is None:
        with _INIT_LOCK:
            key = getattr(request.app.state, "secret_key", None)
            if key is None:
                key = get_resources(request).settings.resolved_secret_key()
                request.app.state.secret_key = key
    return key


def get_limiter(request: Request) -> ApiRateLimiter:
    limiter: ApiRateLimiter | None = getattr(request.app.state, "rate_limiter", None)
    if limiter is None:
        config = get_config(request)
        limiter = ApiRateLimiter(
            user_limit=config.rate_limit_user,
            ip_limit=config.rate_limit_ip,
            redis_url=get_resources(request).settings.redis_url,
            strategy=config.rate_limit_strategy,
            enabled=config.rate_limit_enabled,
        )
        request.app.state.rate_limiter = limiter
    return limiter


def get_models(request: Request) -> AnalysisModels:
    """The process-wide champion caches of the analysis models (built on first use)."""
    models: AnalysisModels | None = getattr(request.app.state, "analysis_models", None)
    if models is None:
        from models.analysis import AnalysisModels

        with _INIT_LOCK:
            models = getattr(request.app.state, "analysis_models", None)
            if models is None:
                models = AnalysisModels.for_sessions(get_resources(request).sessions)
                request.app.state.analysis_models = models
    return models


def _too_many(retry_after: int, what: str) -> ApiProblem:
    return ApiProblem(
        429,
        f"Too many requests {what}; retry in {retry_after} s.",
        "rate-limited",
        headers={"Retry-After": str(retry_after)},
    )


async def limit_by_ip(request: Request) -> None:
    """The per-client-IP rate limit (every /api route, logged in or not)."""
    client = request.client.host if request.client else "unknown"
    verdict = await get_limiter(request).hit("ip", client)
    if not verdict.allowed:
        request.app.state.metrics.rate_limited.labels("ip").inc()
        raise _too_many(verdict.retry_after, "from this address")


def unauthorized(detail: str, reason: str = "invalid") -> ApiProblem:
    return ApiProblem(
        401,
        detail,
        "not-authenticated" if reason == "missing" else "invalid-token",
        headers={"WWW-Authenticate": 'Bearer error="invalid_token"'}
        if reason != "missing"
        else {"WWW-Authenticate": "Bearer"},
    )


async def current_claims(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)],
) -> auth.TokenClaims:
    """The claims of a valid access token, after the per-user rate limit."""
    if credentials is None or credentials.scheme.lower() != "bearer" or not credentials.credentials:
        raise unauthorized("Send an access token: `Authorization: Bearer <token>`.", "missing")
    try:
        claims = auth.verify_token(get_secret_key(request), credentials.credentials, "access")
    except auth.InvalidToken as exc:
        raise unauthorized(str(exc), exc.reason) from None
    request.scope.setdefault("state", {})["user_id"] = claims.user_id
    verdict = await get_limiter(request).hit("user", str(claims.user_id))
    if not verdict.allowed:
        request.app.state.metrics.rate_limited.labels("user").inc()
        raise _too_many(verdict.retry_after, "for this account")
    return claims


@dataclass(frozen=True)
class ApiUser:
    id: int
    username: str
    role: str
    premium: bool


def premium_user(
    request: Request, claims: Annotated[auth.TokenClaims, Depends(current_claims)]
) -> ApiUser:
    """The user, if premium NOW: role and subscription are read from the database.

    Uses its own short session (not the request's): a premium request may then wait for an
    analysis slot without holding a pooled connection, so queued requests cannot starve the pool.
    """
    with get_resources(request).sessions() as session:
        row = session.execute(
            select(User.username, User.role).where(User.id == claims.user_id)
        ).first()
        if row is None:
            raise unauthorized("This account no longer exists; please log in again.")
        premium = auth.is_premium(session, claims.user_id)
    if not premium:
        raise ApiProblem(
            403,
            "This analysis needs a premium subscription; upgrade in the app to unlock it.",
            "premium-required",
        )
    return ApiUser(id=claims.user_id, username=row.username, role=row.role, premium=True)


SessionDep = Annotated[Session, Depends(get_session)]
CurrentUser = Annotated[auth.TokenClaims, Depends(current_claims)]
PremiumUser = Annotated[ApiUser, Depends(premium_user)]
ConfigDep = Annotated[ApiConfig, Depends(get_config)]
ResourcesDep = Annotated[Resources, Depends(get_resources)]
