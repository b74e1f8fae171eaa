"""The app's own HTTP routes, served by Streamlit's ``st.App`` next to the pages (app/server.py),
on the same origin.

"Log in with FACEIT" lands here, next to the pages, rather than in the FastAPI service: the
callback must put the login into the browser's HttpOnly cookies of the app's origin, which only
a route of that origin can do (Streamlit's pages cannot answer with ``Set-Cookie`` or a 302);
behind nginx every path but ``/api/`` and ``/webhooks/`` already goes to the app (``location
/``), so the callback needs no proxy rule, and the API stays a stateless JWT service for
programmatic clients. ``GET /auth/faceit/login`` (``?link=GRANT`` from the Account page to link
the logged-in account) makes the flow (core.faceit_login), keeps its state in an HttpOnly cookie
of path /auth/faceit and answers 302 to FACEIT; ``GET /auth/faceit/callback`` finishes it and
answers 302 to the linked player's Overview with a one-time login grant in an HttpOnly cookie
(app/auth.py exchanges it on the page's first run), or to the Account page with
``?faceit=<refusal>`` (core.faceit_login.REFUSALS says what is shown). With the demo league the
stand-in provider is served under /demo-faceit (core/demo_league/oidc.py).

``POST /auth/session-cookie`` sets or clears the re-login cookie with ``Set-Cookie: HttpOnly``
for a one-time grant the page posts (app/auth.py explains the flow). It answers 204 with the
cookie change, 422 for a body that is not ``{"op": ..., "grant": ...}``, or 403 (and changes
nothing) for a bad, expired, used or revoked grant.
"""

from __future__ import annotations

import asyncio
import json
import logging
from urllib.parse import quote, urlencode

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.types import Receive, Scope, Send

from app import auth
from app.resources import get_resources
from core import crud
from core.faceit_login import FLOW_SECONDS, LoginRefused, make_faceit_login
from core.settings import DEMO_OIDC_PATH, FACEIT_CALLBACK_PATH, get_settings

log = logging.getLogger(__name__)
FACEIT_LOGIN_PATH = "/" + auth.FACEIT_LOGIN_URL
STATE_COOKIE = "faceit_ai_oidc_state"
STATE_COOKIE_PATH = "/auth/faceit"
INGEST_SECONDS = 60.0  # how long a first login waits for the player's matches to be fetched

NO_STORE = {"Cache-Control": "no-store"}


async def session_cookie(request: Request) -> Response:
    try:
        body = json.loads(await request.body())
        op, grant = body["op"], body["grant"]
        if not (isinstance(op, str) and isinstance(grant, str)):
            raise TypeError
    except (ValueError, KeyError, TypeError):
        return JSONResponse(
            {"detail": 'Send JSON {"op": "set" or "clear", "grant": "..."}.'},
            status_code=422,
            headers=NO_STORE,
        )
    change = await run_in_threadpool(auth.exchange_grant, op, grant)
    if change is None:
        return JSONResponse(
            {"detail": "This grant is invalid, expired or already used; log in again."},
            status_code=403,
            headers=NO_STORE,
        )
    response = Response(status_code=204, headers=NO_STORE)
    response.set_cookie(
        auth.COOKIE_NAME,
        change.token or "",
        max_age=change.max_age,
        path="/",
        secure=change.secure,
        httponly=True,
        samesite="lax",  # sent on the top-level return from Stripe Checkout
    )
    return response


def _account(**query: str) -> Response:
    return RedirectResponse("/account?" + urlencode(query), status_code=303, headers=NO_STORE)


async def faceit_login(request: Request) -> Response:
    """Start "Log in with FACEIT" (or, with ``?link=GRANT``, linking the logged-in account)."""
    login = make_faceit_login(get_settings(), get_resources().sessions)
    if login is None:
        return _account(faceit="disabled")
    link_user_id = None
    grant = request.query_params.get("link")
    if grant is not None:
        link_user_id = await run_in_threadpool(auth.use_grant, grant, auth.LINK_PURPOSE)
        if link_user_id is None:
            return _account(faceit="account")
    try:
        started = await login.start(link_user_id)
    except LoginRefused as refused:
        log.warning("faceit login not started: %s", refused.detail)
        return _account(faceit=refused.code)
    response = RedirectResponse(started.url, status_code=302, headers=NO_STORE)
    response.set_cookie(
        STATE_COOKIE,
        started.state,
        max_age=FLOW_SECONDS,
        path=STATE_COOKIE_PATH,
        secure=auth.secure_cookie(),
        httponly=True,
        samesite="lax",  # sent on FACEIT's top-level redirect back to the callback
    )
    return response


async def _ensure_player(player_id: str) -> str | None:
    """The linked player's nickname as stored, fetching the player from FACEIT first if new."""
    from core.sources import run_ingest

    resources = get_resources()

    def stored() -> str | None:
        with resources.sessions() as session:
            player = crud.get_player(session, player_id)
            return player.nickname if player is not None else None

    nickname = await run_in_threadpool(stored)
    if nickname is None:
        try:
            await asyncio.wait_for(
                run_ingest(resources, lambda ingestor: ingestor.sync_player_id(player_id)),
                INGEST_SECONDS,
            )
        except Exception as exc:  # the login stands; the dashboard offers the search
            log.warning("could not fetch the linked FACEIT player %s: %s", player_id, exc)
        nickname = await run_in_threadpool(stored)
    return nickname


async def faceit_callback(request: Request) -> Response:
    """FACEIT's redirect back: finish the login, then open the player's dashboard."""
    login = make_faceit_login(get_settings(), get_resources().sessions)
    if login is None:
        return _account(faceit="disabled")
    params = request.query_params
    try:
        result = await login.finish(
            state=params.get("state"),
            code=params.get("code"),
            error=params.get("error"),
            browser_state=request.cookies.get(STATE_COOKIE),
        )
    except LoginRefused as refused:
        log.warning("faceit login refused (%s): %s", refused.code, refused.detail)
        response = _account(faceit=refused.code)
        response.delete_cookie(STATE_COOKIE, path=STATE_COOKIE_PATH)
        return response
    nickname = await _ensure_player(result.player_id)
    if result.linked:
        target = "/account?" + urlencode({"faceit": "linked"})
    elif nickname is not None:
        target = "/player?player=" + quote(nickname, safe="")
    else:
        target = "/"
    response = RedirectResponse(target, status_code=303, headers=NO_STORE)
    response.delete_cookie(STATE_COOKIE, path=STATE_COOKIE_PATH)
    grant = await run_in_threadpool(auth.issue_login_grant, result.user_id)
    response.set_cookie(
        auth.LOGIN_COOKIE,
        grant,
        max_age=auth.GRANT_SECONDS,
        path="/",
        secure=auth.secure_cookie(),
        httponly=True,
        samesite="lax",
    )
    return response


async def demo_faceit(scope: Scope, receive: Receive, send: Send) -> None:
    """The demo league's stand-in FACEIT login (only while the demo league stands in)."""
    settings = get_settings()
    if not settings.uses_demo_oidc or settings.faceit_oauth is None:
        await PlainTextResponse("Not found", status_code=404)(scope, receive, send)
        return
    from core.demo_league.oidc import provider_for

    await provider_for(settings).app(scope, receive, send)


routes = [
    Route(auth.COOKIE_ROUTE, session_cookie, methods=["POST"]),
    Route(FACEIT_LOGIN_PATH, faceit_login, methods=["GET"]),
    Route(FACEIT_CALLBACK_PATH, faceit_callback, methods=["GET"]),
    Mount(DEMO_OIDC_PATH, app=demo_faceit),
]
