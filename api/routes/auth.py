"""POST /api/auth/login and /api/auth/refresh: short-lived access tokens, longer refresh tokens.

The login throttle and audit rules are core.auth.authenticate's (the app's), keyed by the
username and the client address. Refresh tokens rotate (each works once; a replay ends every
session of the user) and a logout ends every session: core.auth's revocation rule, which the
app's re-login cookie follows too. Token responses carry ``Cache-Control: no-store``. A refresh
re-reads the user from the database, so the new access token carries the current role.
"""

from __future__ import annotations

import logging

from fastapi import APIRouter, Depends, Request, Response

from api import problems
from api.deps import (
    ConfigDep,
    CurrentUser,
    SessionDep,
    client_host,
    get_secret_key,
    limit_by_ip,
    unauthorized,
)
from api.problems import ApiProblem
from api.schemas import LoginRequest, RefreshRequest, TokenPair
from core import auth
from core.db.schema import User

NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}  # RFC 6749 section 5.1

log = logging.getLogger("api.auth")
router = APIRouter(prefix="/api/auth", tags=["auth"], dependencies=[Depends(limit_by_ip)])


def _pair(
    request: Request, response: Response, session: SessionDep, config: ConfigDep, user: User
) -> TokenPair:
    key = get_secret_key(request)
    response.headers.update(NO_STORE)
    return TokenPair(
        access_token=auth.issue_token(key, user, config.access_token_ttl_seconds, "access"),
        refresh_token=auth.issue_refresh_token(
            session, key, user, config.refresh_token_ttl_seconds
        ),
        expires_in=config.access_token_ttl_seconds,
        refresh_expires_in=config.refresh_token_ttl_seconds,
        role=user.role,
        premium=auth.is_premium(session, user.id),
    )


@router.post(
    "/login",
    response_model=TokenPair,
    summary="Log in with username and password",
    responses=problems.responses(401, 422, 429, 503),
)
def login(
    body: LoginRequest,
    request: Request,
    response: Response,
    session: SessionDep,
    config: ConfigDep,
) -> TokenPair:
    """An access token (`purpose: access`, short-lived) and a refresh token. Failed logins are
    throttled per username and client address: after the limit, 429 with Retry-After, the same
    for every username, existing or not, and never a lockout of the account itself."""
    settings = request.app.state.resources.settings
    try:
        user = auth.authenticate(
            session,
            body.username,
            body.password,
            source=client_host(request),
            max_failures=settings.login_max_failures,
            lockout_minutes=settings.lockout_minutes,
            backoff_seconds=settings.login_backoff_seconds,
        )
    except auth.LoginThrottled as exc:
        raise ApiProblem(
            429, str(exc), "login-throttled", headers={"Retry-After": str(exc.retry_after())}
        ) from None
    except auth.AuthError as exc:
        raise ApiProblem(
            401, str(exc), "invalid-credentials", headers={"WWW-Authenticate": "Bearer"}
        ) from None
    log.info("login", extra={"event": "login", "user_id": user.id})
    return _pair(request, response, session, config, user)


@router.post(
    "/refresh",
    response_model=TokenPair,
    summary="Exchange a refresh token for a new token pair",
    responses=problems.responses(401, 422, 429, 503),
)
def refresh(
    body: RefreshRequest,
    request: Request,
    response: Response,
    session: SessionDep,
    config: ConfigDep,
) -> TokenPair:
    """A new pair for a refresh token, which is used up: each refresh token works once, and
    presenting one again (a copy) ends every session of the account. Only a refresh token is
    accepted here (an access token is refused, and vice versa)."""
    try:
        user = auth.rotate_refresh_token(session, get_secret_key(request), body.refresh_token)
    except auth.InvalidToken as exc:
        raise unauthorized(str(exc), exc.reason) from None
    return _pair(request, response, session, config, user)


@router.post(
    "/logout",
    status_code=204,
    response_class=Response,
    summary="Log out: revoke every token of this account",
    responses=problems.responses(401, 429),
)
def logout(claims: CurrentUser, session: SessionDep) -> Response:
    """Ends every session of the account, on every device: its access and refresh tokens and
    the app's re-login cookies are refused from now on."""
    auth.revoke_sessions(session, claims.user_id, claims.username, "logout")
    log.info("logout", extra={"event": "logout", "user_id": claims.user_id})
    return Response(status_code=204, headers=NO_STORE)
