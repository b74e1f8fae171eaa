"""POST /api/debug/error: raises on purpose, to prove error reporting end to end.

Mounted only with API_DEBUG_ERROR_ROUTE=true (the stack test and an operator checking a new
SENTRY_DSN). The request's credentials end up in the exception and in local variables, the
way a real bug would leak them; core.sentry must scrub them before the event leaves.
"""

from __future__ import annotations

from fastapi import APIRouter, Request

router = APIRouter(tags=["debug"], include_in_schema=False)


class DebugError(RuntimeError):
    """The error POST /api/debug/error raises."""


@router.post("/api/debug/error")
async def raise_error(request: Request) -> None:
    body = await request.body()
    authorization = request.headers.get("authorization", "")
    cookie = request.headers.get("cookie", "")
    password = body.decode("utf-8", "replace")
    raise DebugError(f"debug error for {authorization} (cookie {cookie}; body {password})")
