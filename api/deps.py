"""FastAPI dependencies: resources built at start-up, a database session, billing, the API
config, rate limits, the bearer-token user (``CurrentUser``) and the premium gate (``PremiumUser``).

``CurrentUser`` checks the signature, expiry, algorithm and purpose of the access token, that it
is not revoked (one primary-key read: the user exists, same session generation) and counts the
per-IP and per-user rate limits (routes without a token take
``limit_by_ip``). ``PremiumUser`` additionally reads the user's role and entitlement from the
database on every call, so a downgrade or a cancelled subscription takes effect immediately.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPBearer
from fastapi.security.utils import get_authorization_scheme_param
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from api.problems import ApiProblem
from api.ratelimit import ApiRateLimiter, Verdict
from core import auth
from core.billing import BillingService
from core.resources import Resources
from core.settings import ApiSettings

if TYPE_CHECKING:
    from models.analysis import AnalysisModels

_INIT_LOCK = threading.Lock()


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
    """The app's billing service: its resources' one, unless create_app was given another."""
    billing: BillingService | None = getattr(request.app.state, "billing", None)
    return billing if billing is not None else get_resources(request).billing


def get_config(request: Request) -> ApiSettings:
    """The ``API_*`` settings (``core.settings.Settings.api``) of this app's resources."""
    return get_resources(request).settings.api


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
        settings = get_resources(request).settings
        limiter = ApiRateLimiter(
            user_limit=config.rate_limit_user,
            ip_limit=config.rate_limit_ip,
            redis_url=settings.redis_url,
            strategy=config.rate_limit_strategy,
            enabled=config.rate_limit_enabled,
            socket_timeout=settings.redis_socket_timeout_seconds,
            connect_timeout=settings.redis_connect_timeout_seconds,
        )
        request.app.state.rate_limiter = limiter
    return limiter


def get_models(request: Request) -> AnalysisModels:
    """The process-wide champion caches of the analysis models (built on first use)."""
    from models import analysis  # XGBoost and polars load on first use, not at start-up

    return analysis.AnalysisModels.of(get_resources(request))


class VerifiedTokens:
    """Access tokens already verified, with their claims, until they expire.

    An HS256 signature check is deterministic: a token that verified once under a key stays
    valid until its ``exp`` (revocation is checked separately, on every request). So each token is
    verified by ``core.auth.verify_token`` once, then served from here while ``now < exp`` (the
    expiry rule of PyJWT); an expired entry is dropped and verified again, which refuses it with
    the usual reason. Only successes are kept; the key includes the secret key. ``clock`` gives
    the current time (tests set it).
    """

    def __init__(
        self, max_entries: int = 20_000, clock: Callable[[], datetime] | None = None
    ) -> None:
        self.max_entries = max_entries
        self.clock: Callable[[], datetime] = clock or (lambda: datetime.now(UTC))
        self._data: dict[tuple[str, str], tuple[float, auth.TokenClaims]] = {}

    def verify(self, secret_key: str, token: str) -> auth.TokenClaims:
        key = (secret_key, token)
        now = self.clock()
        found = self._data.get(key)
        if found is not None:
            if now.timestamp() < found[0]:
                return found[1]
            self._data.pop(key, None)
        claims = auth.verify_token(secret_key, token, "access", now=now)
        while len(self._data) >= self.max_entries:  # oldest first (insertion order)
            self._data.pop(next(iter(self._data)), None)
        self._data[key] = (claims.expires_at.timestamp(), claims)
        return claims

    def clear(self) -> None:
        self._data.clear()


verified_tokens = VerifiedTokens()


def _too_many(retry_after: int, what: str) -> ApiProblem:
    return ApiProblem(
        429,
        f"Too many requests {what}; retry in {retry_after} s.",
        "rate-limited",
        headers={"Retry-After": str(retry_after)},
    )


def client_host(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def _refused(request: Request, verdict: Verdict) -> ApiProblem:
    request.app.state.metrics.rate_limited.labels(verdict.scope).inc()
    if verdict.scope == "user":
        return _too_many(verdict.retry_after, "for this account")
    return _too_many(verdict.retry_after, "from this address")


async def limit_by_ip(request: Request) -> None:
    """The per-client-IP rate limit, for routes without a bearer token (``CurrentUser`` and
    ``PremiumUser`` count it themselves, with the per-user limit)."""
    verdict = await get_limiter(request).hit("ip", client_host(request))
    if not verdict.allowed:
        raise _refused(request, verdict)


def unauthorized(detail: str, reason: str = "invalid") -> ApiProblem:
    return ApiProblem(
        401,
        detail,
        "not-authenticated" if reason == "missing" else "invalid-token",
        headers={"WWW-Authenticate": 'Bearer error="invalid_token"'}
        if reason != "missing"
        else {"WWW-Authenticate": "Bearer"},
    )


ASK_FOR_CREDENTIALS = "Send an access token: `Authorization: Bearer <token>`."


class BearerAuth(HTTPBearer):
    """The bearer-token security scheme that is also the gate of every authenticated route:
    ``Authorization: Bearer <access token>`` -> the token's claims, after the rate limits.

    In order: the per-client-IP limit (counted for every request, with or without a valid
    token), then the token (signature, expiry, algorithm, purpose: 401 otherwise), then the
    per-user limit. Both limits are counted in one storage round trip (``hit_many``: the user's
    counter is not touched when the IP limit refuses), and the whole gate is one FastAPI
    dependency instead of three (IP limit, HTTPBearer, token check): each dependency costs the
    hot path a few microseconds of dependency solving. OpenAPI documents it as the ``bearer``
    security scheme, as before.
    """

    async def __call__(self, request: Request) -> auth.TokenClaims:  # type: ignore[override]
        authorization = request.headers.get("authorization")
        scheme, token = get_authorization_scheme_param(authorization)
        claims: auth.TokenClaims | None = None
        problem: ApiProblem | None = None
        if not (authorization and scheme and token) or scheme.lower() != "bearer":
            problem = unauthorized(ASK_FOR_CREDENTIALS, "missing")
        else:
            try:
                claims = verified_tokens.verify(get_secret_key(request), token)
            except auth.InvalidToken as exc:
                problem = unauthorized(str(exc), exc.reason)
        host = client_host(request)
        if claims is None:
            verdict = await get_limiter(request).hit("ip", host)
        else:
            request.scope.setdefault("state", {})["user_id"] = claims.user_id
            verdict = await get_limiter(request).hit_many(
                (("ip", host), ("user", str(claims.user_id)))
            )
        if not verdict.allowed:
            raise _refused(request, verdict)
        if claims is None:
            assert problem is not None
            raise problem
        try:
            await run_in_threadpool(_check_live, request, claims)
        except auth.InvalidToken as exc:
            raise unauthorized(str(exc), exc.reason) from None
        return claims


def _check_live(request: Request, claims: auth.TokenClaims) -> None:
    """Revocation: the token's user still exists and the token is of its current session
    generation (core.auth.live_user): a deleted user, a logout or a password change ends it.
    With Redis the generation is read there (core.auth.LiveSessions: no database read while
    nothing changed), from the database only when Redis does not know it."""
    resources = get_resources(request)
    live = resources.live_sessions
    if live is not None:
        known = live.lookup(claims.user_id)
        if known is not None:
            if known != claims.generation:
                raise auth.InvalidToken("revoked")
            return
    with resources.sessions() as session:
        user = auth.live_user(session, claims)
        generation = user.session_generation or ""
    if live is not None:
        live.remember(claims.user_id, generation)


current_claims = BearerAuth(
    auto_error=False,
    scheme_name="bearer",
    bearerFormat="JWT",
    description="An access token from POST /api/auth/login or POST /api/auth/refresh.",
)


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
        found = auth.entitlement(session, claims.user_id)
    if found is None:
        raise unauthorized("This account no longer exists; please log in again.")
    if not found.premium:
        raise ApiProblem(
            403,
            "This analysis needs a premium subscription; upgrade in the app to unlock it.",
            "premium-required",
        )
    return ApiUser(id=claims.user_id, username=found.username, role=found.role, premium=True)


SessionDep = Annotated[Session, Depends(get_session)]
CurrentUser = Annotated[auth.TokenClaims, Depends(current_claims)]
PremiumUser = Annotated[ApiUser, Depends(premium_user)]
ConfigDep = Annotated[ApiSettings, Depends(get_config)]
ResourcesDep = Annotated[Resources, Depends(get_resources)]
