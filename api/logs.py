"""Structured JSON logs: one event per line, with the request id of the request being served."""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from typing import Any

from api.context import current_request_id

_STANDARD = frozenset(vars(logging.makeLogRecord({}))) | {"message", "asctime", "taskName"}
# one encoder for every line (json.dumps with options builds a new one per call)
_ENCODER = json.JSONEncoder(default=str, separators=(",", ":"))


class JsonFormatter(logging.Formatter):
    """``{"ts", "level", "logger", "message", "request_id", ...extra}`` on one line."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
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
        request_id = getattr(record, "request_id", None) or current_request_id()
        if request_id:
            event["request_id"] = request_id
        for key, value in record.__dict__.items():
            if key not in _STANDARD and key not in event:
                event[key] = value
        if record.exc_info:
            event["exc_info"] = self.formatException(record.exc_info)
        return _ENCODER.encode(event)


class _Marker(logging.StreamHandler):  # type: ignore[type-arg]
    """Our handler, so configuring twice does not add a second one."""


def configure_json_logging(level: int = logging.INFO, stream: Any = None) -> None:
    """Send the ``api``, ``core``, ``models`` and ``uvicorn`` loggers to one JSON stream."""
    handler = _Marker(stream or sys.stderr)
    handler.setFormatter(JsonFormatter())
    for name in ("api", "core", "models"):
        logger = logging.getLogger(name)
        if not any(isinstance(h, _Marker) for h in logger.handlers):
            logger.addHandler(handler)
        logger.setLevel(level)
        logger.propagate = False
    for name in ("uvicorn", "uvicorn.error"):
        logger = logging.getLogger(name)
        logger.handlers = [handler]
        logger.propagate = False
    # the request middleware writes the access events; uvicorn's plain-text ones would duplicate
    logging.getLogger("uvicorn.access").disabled = True
