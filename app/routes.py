"""The app's own HTTP routes, served by Streamlit's ``st.App`` next to the pages (app/server.py),
on the same origin.

``POST /auth/session-cookie`` sets or clears the re-login cookie with ``Set-Cookie: HttpOnly``
for a one-time grant the page posts (app/auth.py explains the flow). It answers 204 with the
cookie change, 422 for a body that is not ``{"op": ..., "grant": ...}``, or 403 (and changes
nothing) for a bad, expired, used or revoked grant.
"""

from __future__ import annotations

import json

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from app import auth

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


routes = [Route(auth.COOKIE_ROUTE, session_cookie, methods=["POST"])]
