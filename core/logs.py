"""One JSON log format for the app, the API and the flows: one event per line, ready for Loki.

``configure_logging(service)`` sends every logger (root, uvicorn, Prefect's console) to one JSON
stream on stderr; each event carries ``ts``, ``level``, ``logger``, ``message``, ``service`` and,
while a request is served, its ``request_id`` (set by the API middleware, kept in a contextvar,
so it follows the request through every layer). monitoring/loki and the Grafana board parse
exactly these fields.
"""

from __future__ import annotations

import json
import logging
import sys
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

_request_id: ContextVar[str | None] = ContextVar("request_id", default=None)


def current_request_id() -> str | None:
    return _request_id.get()


def set_request_id(value: str | None) -> object:
    return _request_id.set(value)


def reset_request_id(token: object) -> None:
    _request_id.reset(token)  # type: ignore[arg-type]


_STANDARD = frozenset(vars(logging.makeLogRecord({}))) | {"message", "asctime", "taskName"}
# one encoder for every line (json.dumps with options builds a new one per call)
_ENCODER = json.JSONEncoder(default=str, separators=(",", ":"))


class JsonFormatter(logging.Formatter):
    """``{"ts", "level", "logger", "message", "service", "request_id", ...extra}`` on one line."""

    def __init__(self, *args: Any, service: str | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.service = service
        self._second: tuple[int, str] = (-1, "")

    def _timestamp(self, created: float) -> str:
        """ISO 8601, UTC, milliseconds: the date and time formatted once per second."""
        second = int(created)
        micros = round((created - second) * 1e6)  # as datetime.fromtimestamp: to the us
        if micros >= 1_000_000:
            second, micros = second + 1, micros - 1_000_000
        cached = self._second
        if cached[0] != second:
            cached = (second, datetime.fromtimestamp(second, UTC).strftime("%Y-%m-%dT%H:%M:%S"))
            self._second = cached
        return f"{cached[1]}.{micros // 1000:03d}+00:00"  # isoformat cuts to the millisecond

    def format(self, record: logging.LogRecord) -> str:
        event: dict[str, Any] = {
            "ts": self._timestamp(record.created),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        if self.service:
            event["service"] = self.service
        request_id = getattr(record, "request_id", None) or current_request_id()
        if request_id:
            event["request_id"] = request_id
        for key, value in record.__dict__.items():
            if key not in _STANDARD and key not in event:
                event[key] = value
        if record.exc_info:
            event["exc_info"] = self.formatException(record.exc_info)
        return _ENCODER.encode(event)


class _Marker(logging.StreamHandler):
    """Our handler, so configuring twice does not add a second one."""


# loggers that bring their own console handler: it is replaced by ours
_OWN_CONSOLE = ("uvicorn", "uvicorn.error", "fastapi", "streamlit")


def _is_console(handler: logging.Handler) -> bool:
    """A handler writing to this process' stdout/stderr (not a file, not a test's capture)."""
    if isinstance(handler, _Marker):
        return True
    consoles = (sys.stdout, sys.stderr, sys.__stdout__, sys.__stderr__)
    return isinstance(handler, logging.StreamHandler) and getattr(handler, "stream", None) in (
        consoles
    )


def configure_logging(
    service: str, level: int = logging.INFO, stream: Any = None, *, access_log: bool = False
) -> None:
    """Every log event of this process as one JSON line on ``stream`` (stderr).

    ``access_log=False`` silences uvicorn's plain-text access lines (the API's middleware
    writes its own access events).
    """
    handler = _Marker(stream or sys.stderr)
    handler.setFormatter(JsonFormatter(service=service))
    root = logging.getLogger()
    # Prefect's console handler (plain text) on the root logger is replaced too
    # (the root level stays: libraries log warnings and up, our packages ``level`` and up)
    root.handlers = [h for h in root.handlers if not _is_console(h)] + [handler]
    for name in ("api", "core", "models", "pipelines", "app"):
        logger = logging.getLogger(name)
        logger.handlers = [h for h in logger.handlers if not _is_console(h)]
        logger.setLevel(level)
        logger.propagate = True
    for name in _OWN_CONSOLE:
        logger = logging.getLogger(name)
        logger.handlers = [*(h for h in logger.handlers if not _is_console(h)), handler]
        logger.propagate = False
    logging.getLogger("uvicorn.access").disabled = not access_log
