"""RFC 9457 problem-details responses, the exception that carries one, and their handlers.

Every error the API answers has the same JSON shape (``application/problem+json``)::

    {"type": ".../problems/<slug>", "title": "...", "status": 404, "detail": "...",
     "instance": "/api/players/x", "request_id": "..."}

422 answers add ``errors``: one ``{"field": "body.lineup_a", "message": "..."}`` per bad field.
Nothing internal (stack traces, SQL, exception reprs) ever goes into a response.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sqlalchemy import exc as sa_exc
from starlette.exceptions import HTTPException as StarletteHTTPException

from core.logs import current_request_id

log = logging.getLogger("api.errors")

PROBLEM_BASE = "https://faceit-ai.invalid/problems/"
PROBLEM_MEDIA_TYPE = "application/problem+json"

TITLES = {
    400: "Bad request",
    401: "Not authenticated",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    406: "Not acceptable",
    413: "Request body too large",
    415: "Unsupported media type",
    422: "Invalid request",
    429: "Too many requests",
    500: "Internal server error",
    503: "Service unavailable",
}


class FieldError(BaseModel):
    field: str = Field(examples=["body.lineup_a"])
    message: str = Field(examples=["List should have at most 5 items after validation, not 6"])


class Problem(BaseModel):
    """An RFC 9457 problem-details object."""

    type: str = Field(examples=[PROBLEM_BASE + "not-found"])
    title: str = Field(examples=["Not found"])
    status: int = Field(examples=[404])
    detail: str = Field(examples=["No player with the nickname 'nobody'."])
    instance: str | None = Field(default=None, examples=["/api/players/nobody"])
    request_id: str | None = Field(default=None, examples=["4f6c1f0e3a7b4d2c9e8f1a2b3c4d5e6f"])
    errors: list[FieldError] | None = None


class ApiProblem(Exception):
    """Raise anywhere in a request to answer with a problem."""

    def __init__(
        self,
        status: int,
        detail: str,
        slug: str | None = None,
        *,
        title: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.slug = slug
        self.title = title or TITLES.get(status, "Error")
        self.headers = headers or {}


def _type(slug: str | None) -> str:
    return "about:blank" if not slug or slug == "about:blank" else PROBLEM_BASE + slug


def problem_body(
    status: int,
    title: str,
    detail: str,
    slug: str | None = None,
    *,
    instance: str | None = None,
    errors: list[dict[str, str]] | None = None,
    with_request_id: bool = True,
) -> dict[str, Any]:
    body: dict[str, Any] = {"type": _type(slug), "title": title, "status": status, "detail": detail}
    if instance is not None:
        body["instance"] = instance
    request_id = current_request_id() if with_request_id else None
    if request_id:
        body["request_id"] = request_id
    if errors is not None:
        body["errors"] = errors
    return body


def problem(
    status: int,
    title: str,
    detail: str,
    slug: str = "about:blank",
    *,
    instance: str | None = None,
    headers: dict[str, str] | None = None,
    errors: list[dict[str, str]] | None = None,
    with_request_id: bool = False,
) -> JSONResponse:
    """A problem response. Route code calling it directly (the webhook) keeps the plain
    four-member shape; the API's handlers add ``instance`` and ``request_id``."""
    return JSONResponse(
        problem_body(
            status,
            title,
            detail,
            slug,
            instance=instance,
            errors=errors,
            with_request_id=with_request_id,
        ),
        status_code=status,
        media_type=PROBLEM_MEDIA_TYPE,
        headers=headers,
    )


def _slug_for(status: int) -> str:
    return TITLES.get(status, "error").lower().replace(" ", "-")


def field_errors(exc: RequestValidationError) -> list[dict[str, str]]:
    out = []
    from api.schemas import UNION_TAGS

    for item in exc.errors():
        parts = [str(part) for part in item.get("loc", ())]
        if len(parts) > 1 and parts[0] == "body" and parts[1] in UNION_TAGS:
            del parts[1]  # the request-body union's tag says nothing to the caller
        loc = ".".join(parts) or "request"
        message = str(item.get("msg", "invalid value")).removeprefix("Value error, ")
        out.append({"field": loc, "message": message})
    return out


async def _api_problem(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ApiProblem)
    return problem(
        exc.status,
        exc.title,
        exc.detail,
        exc.slug or _slug_for(exc.status),
        instance=request.url.path,
        headers=exc.headers,
        with_request_id=True,
    )


async def _http_exception(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    status = exc.status_code
    detail = exc.detail if isinstance(exc.detail, str) else TITLES.get(status, "Error")
    return problem(
        status,
        TITLES.get(status, "Error"),
        detail,
        _slug_for(status),
        instance=request.url.path,
        headers=dict(exc.headers or {}),
        with_request_id=True,
    )


async def _validation(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = field_errors(exc)
    summary = "; ".join(f"{e['field']}: {e['message']}" for e in errors[:10])
    return problem(
        422,
        TITLES[422],
        f"The request has invalid fields: {summary}" if summary else "The request is invalid.",
        "validation-error",
        instance=request.url.path,
        errors=errors,
        with_request_id=True,
    )


# The errors that mean "the database is not answering" (refused or lost connections, a
# connect or statement timeout, no pooled connection free in time), whatever the route: a 503
# the client may retry, never a 500 with a traceback. Other database errors (a constraint, bad
# SQL) are bugs and stay 500s.
DATABASE_UNAVAILABLE: tuple[type[Exception], ...] = (
    sa_exc.OperationalError,
    sa_exc.InterfaceError,
    sa_exc.TimeoutError,
)
DATABASE_RETRY_AFTER_SECONDS = 5


async def _database_unavailable(request: Request, exc: Exception) -> JSONResponse:
    log.warning(
        "database unavailable",
        extra={
            "event": "database_unavailable",
            "path": request.url.path,
            "error": type(getattr(exc, "orig", None) or exc).__name__,
        },
    )
    return problem(
        503,
        TITLES[503],
        "The database is not answering right now; retry in a few seconds.",
        "database-unavailable",
        instance=request.url.path,
        headers={"Retry-After": str(DATABASE_RETRY_AFTER_SECONDS)},
        with_request_id=True,
    )


def install_handlers(app: FastAPI) -> None:
    app.add_exception_handler(ApiProblem, _api_problem)
    app.add_exception_handler(StarletteHTTPException, _http_exception)
    app.add_exception_handler(RequestValidationError, _validation)
    for error in DATABASE_UNAVAILABLE:
        app.add_exception_handler(error, _database_unavailable)


def responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses=`` entries documenting problem answers for these statuses."""
    out: dict[int | str, dict[str, Any]] = {}
    for status in statuses:
        example = {
            "type": PROBLEM_BASE + _slug_for(status),
            "title": TITLES.get(status, "Error"),
            "status": status,
            "detail": TITLES.get(status, "Error") + ".",
            "request_id": "4f6c1f0e3a7b4d2c9e8f1a2b3c4d5e6f",
        }
        headers = {}
        if status in (429, 503):
            headers["Retry-After"] = {
                "description": "Seconds until the limit resets"
                if status == 429
                else "Seconds after which to retry",
                "schema": {"type": "integer"},
            }
        out[status] = {
            "model": Problem,
            "description": TITLES.get(status, "Error"),
            "content": {PROBLEM_MEDIA_TYPE: {"example": example}},
            **({"headers": headers} if headers else {}),
        }
    return out
