"""One pure-ASGI middleware for every request: request id, body-size limit, metrics, access log,
security headers, and the catch-all that turns an unexpected exception into a 500 problem (never
a stack trace).

Metric labels come from closed sets, so no request can create a new time series: a method outside
``METHODS`` is counted as ``OTHER``, a path no route matches as ``unmatched`` (the route template
otherwise, never the raw path), and the status is the one the app answered.
"""

from __future__ import annotations

import json
import logging
import re
import time
import uuid
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.metrics import ApiMetrics
from api.problems import PROBLEM_MEDIA_TYPE, problem_body
from core.logs import reset_request_id, set_request_id

access_log = logging.getLogger("api.access")
error_log = logging.getLogger("api.errors")

REQUEST_ID_HEADER = b"x-request-id"
MAX_CACHED_SERIES = 1024
# the methods a metric label may name; anything else (made-up methods included) is "OTHER"
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
OTHER_METHOD = "OTHER"
UNMATCHED_ROUTE = "unmatched"

# Security headers on every answer. The API serves JSON only: nothing may load, frame or sniff
# it. The interactive docs (Swagger UI / ReDoc) are pages that load FastAPI's assets from the
# jsDelivr CDN and run an inline bootstrap script, so they get a policy allowing exactly that.
API_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
DOCS_CSP = (
    "default-src 'none'; script-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; "
    "style-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; "
    "img-src 'self' data: https://fastapi.tiangolo.com https://cdn.redoc.ly; "
    "font-src 'self' https://fonts.gstatic.com; worker-src blob:; connect-src 'self'; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
)
DOCS_PATHS = frozenset({"/docs", "/redoc", "/docs/oauth2-redirect"})
HSTS = (b"strict-transport-security", b"max-age=31536000; includeSubDomains")


def _security_headers(csp: str) -> list[tuple[bytes, bytes]]:
    return [
        (b"content-security-policy", csp.encode()),
        (b"x-frame-options", b"DENY"),
        (b"x-content-type-options", b"nosniff"),
        (b"referrer-policy", b"no-referrer"),
        (b"cross-origin-opener-policy", b"same-origin"),
    ]


API_HEADERS = _security_headers(API_CSP)
DOCS_HEADERS = _security_headers(DOCS_CSP)


def metric_labels(scope: Scope) -> tuple[str, str]:
    """(method, route) labels of a request, both from closed sets."""
    method = scope.get("method", "")
    if method not in METHODS:
        method = OTHER_METHOD
    route = scope.get("route")
    return method, getattr(route, "path", None) or UNMATCHED_ROUTE


_SAFE_ID = re.compile(r"^[A-Za-z0-9._:\-]{1,128}$")


class _BodyTooLarge(Exception):
    pass


def _problem_message(status: int, title: str, detail: str, slug: str, path: str) -> bytes:
    return json.dumps(problem_body(status, title, detail, slug, instance=path)).encode()


class RequestContextMiddleware:
    def __init__(
        self,
        app: ASGIApp,
        *,
        metrics: ApiMetrics,
        max_body_bytes: int,
        large_body_paths: dict[str, int] | None = None,
        log_requests: bool = True,
    ) -> None:
        self.app = app
        self.metrics = metrics
        self.max_body_bytes = max_body_bytes
        self.large_body_paths = large_body_paths or {}
        self.log_requests = log_requests
        # the labelled children of the request metrics, per (method, route, status): labels()
        # validates and locks on every call, a dict lookup does not
        self._children: dict[tuple[str, str, str], tuple[Any, Any]] = {}

    def _observe(self, method: str, template: str, status: str, elapsed: float) -> None:
        key = (method, template, status)
        children = self._children.get(key)
        if children is None:
            children = (
                self.metrics.requests.labels(method, template, status),
                self.metrics.latency.labels(method, template, status),
            )
            if len(self._children) < MAX_CACHED_SERIES:
                self._children[key] = children
        children[0].inc()
        children[1].observe(elapsed)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        incoming = None
        content_length = None
        chunked = False
        for name, value in scope["headers"]:
            if name == REQUEST_ID_HEADER:
                incoming = value.decode("latin-1")
            elif name == b"content-length":
                content_length = value
            elif name == b"transfer-encoding":
                chunked = b"chunked" in value.lower()
        request_id = incoming if incoming and _SAFE_ID.match(incoming) else uuid.uuid4().hex
        token = set_request_id(request_id)
        rid_header = (REQUEST_ID_HEADER, request_id.encode("latin-1"))
        status_holder = [500]
        started_response = [False]
        path: str = scope.get("path", "")
        limit = self.large_body_paths.get(path, self.max_body_bytes)
        extra_headers = [
            rid_header,
            *(DOCS_HEADERS if path in DOCS_PATHS else API_HEADERS),
            *((HSTS,) if scope.get("scheme") == "https" else ()),
        ]

        async def send_wrapper(message: Message) -> None:
            if message["type"] == "http.response.start":
                started_response[0] = True
                status_holder[0] = message["status"]
                message["headers"] = [*message.get("headers", []), *extra_headers]
            await send(message)

        async def answer(status: int, title: str, detail: str, slug: str) -> None:
            body = _problem_message(status, title, detail, slug, path)
            await send_wrapper(
                {
                    "type": "http.response.start",
                    "status": status,
                    "headers": [
                        (b"content-type", PROBLEM_MEDIA_TYPE.encode()),
                        (b"content-length", str(len(body)).encode()),
                    ],
                }
            )
            await send_wrapper({"type": "http.response.body", "body": body})

        self.metrics.in_flight.inc()
        try:
            app_receive = receive
            too_large = False
            if content_length is not None:
                try:
                    too_large = int(content_length) > limit
                except ValueError:
                    too_large = False
            elif chunked:
                try:
                    app_receive = await _buffered(receive, limit)
                except _BodyTooLarge:
                    too_large = True
            if too_large:
                await answer(
                    413,
                    "Request body too large",
                    f"The request body is larger than {limit} bytes.",
                    "body-too-large",
                )
            else:
                await self.app(scope, app_receive, send_wrapper)
        except Exception:
            error_log.exception("unhandled error", extra={"event": "unhandled_error", "path": path})
            if not started_response[0]:
                await answer(
                    500,
                    "Internal server error",
                    "Something went wrong on our side; quote the request id if you report it.",
                    "internal-error",
                )
            status_holder[0] = 500
        finally:
            self.metrics.in_flight.dec()
            elapsed = time.perf_counter() - started
            method, template = metric_labels(scope)
            status = str(status_holder[0])
            self._observe(method, template, status, elapsed)
            if self.log_requests and access_log.isEnabledFor(logging.INFO):
                # Logger.info() without its caller lookup (a stack walk per request): the access
                # event is always this line, and the JSON log does not show a caller
                fields = _access_fields(scope, template, status_holder[0], elapsed)
                record = access_log.makeRecord(
                    access_log.name, logging.INFO, __file__, 0, "request", (), None, extra=fields
                )
                access_log.handle(record)
            reset_request_id(token)


def _access_fields(scope: Scope, template: str, status: int, elapsed: float) -> dict[str, Any]:
    client = scope.get("client")
    fields: dict[str, Any] = {
        "event": "request",
        "method": scope.get("method", "")[:32],
        "path": scope.get("path", ""),
        "route": template,
        "status": status,
        "duration_ms": round(elapsed * 1000, 2),
        "client": client[0] if client else None,
    }
    user = scope.get("state", {}).get("user_id") if isinstance(scope.get("state"), dict) else None
    if user is not None:
        fields["user_id"] = user
    return fields


async def _buffered(receive: Receive, limit: int) -> Receive:
    """Read a chunked body up to ``limit`` bytes, then replay it to the app."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        body = message.get("body", b"")
        size += len(body)
        if size > limit:
            raise _BodyTooLarge
        chunks.append(body)
        if not message.get("more_body", False):
            break
    data = b"".join(chunks)
    sent = [False]

    async def replay() -> Message:
        if not sent[0]:
            sent[0] = True
            return {"type": "http.request", "body": data, "more_body": False}
        return await receive()

    return replay
