"""POST /api/auth/login and /api/auth/refresh: short-lived access tokens, longer refresh tokens.

The lockout and audit rules are core.auth.authenticate's (the app's). A refresh re-reads the user
from the database, so the new access token carries the current role.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from fastapi import APIRouter, Depends, Request

from api import problems
from api.deps import ConfigDep, SessionDep, get_secret_key, limit_by_ip, unauthorized
from api.problems import ApiProblem
from api.schemas import LoginRequest, RefreshRequest, TokenPair
from core import auth
from core.db.schema import User

log = logging.getLogger("api.auth")
router = APIRouter(prefix="/api/auth", tags=["auth"], dependencies=[Depends(limit_by_ip)])


def _pair(request: Request, session: SessionDep, config: ConfigDep, user: User) -> TokenPair:
    key = get_secret_key(request)
    return TokenPair(
        access_token=auth.issue_token(key, user, config.access_token_ttl_seconds, "access"),
        refresh_token=auth.issue_token(key, user, config.refresh_token_ttl_seconds, "refresh"),
        expires_in=config.access_token_ttl_seconds,
        refresh_expires_in=config.refresh_token_ttl_seconds,
        role=user.role,
        premium=auth.is_premium(session, user.id),
    )


@router.post(
    "/login",
    response_model=TokenPair,
    summary="Log in with username and password",
    responses=problems.responses(401, 422, 423, 429, 503),
)
def login(
    body: LoginRequest, request: Request, session: SessionDep, config: ConfigDep
) -> TokenPair:
    """An access token (`purpose: access`, short-lived) and a refresh token. Wrong passwords
    count towards the account lockout (423 with Retry-After while locked)."""
    settings = request.app.state.resources.settings
    try:
        user = auth.authenticate(
            session,
            body.username,
            body.password,
            max_failures=settings.login_max_failures,
            lockout_minutes=settings.lockout_minutes,
        )
    except auth.AccountLocked as exc:
        retry = max(1, int((exc.until - datetime.now(UTC)).total_seconds()))
        raise ApiProblem(
            423, str(exc), "account-locked", headers={"Retry-After": str(retry)}
        ) from None
    except auth.AuthError as exc:
        raise ApiProblem(
            401, str(exc), "invalid-credentials", headers={"WWW-Authenticate": "Bearer"}
        ) from None
    log.info("login", extra={"event": "login", "user_id": user.id})
    return _pair(request, session, config, user)


@router.post(
    "/refresh",
    response_model=TokenPair,
    summary="Exchange a refresh token for a new token pair",
    responses=problems.responses(401, 422, 429, 503),
)
def refresh(
    body: RefreshRequest, request: Request, session: SessionDep, config: ConfigDep
) -> TokenPair:
    """Only a refresh token is accepted here (an access token is refused, and vice versa)."""
    try:
        claims = auth.verify_token(get_secret_key(request), body.refresh_token, "refresh")
    except auth.InvalidToken as exc:
        raise unauthorized(str(exc), exc.reason) from None
    user = session.get(User, claims.user_id)
    if user is None:
        raise unauthorized("This account no longer exists; please log in again.")
    if user.locked_until is not None and datetime.now(UTC) < user.locked_until:
        raise unauthorized("This account is locked; please log in again later.")
    return _pair(request, session, config, user)
