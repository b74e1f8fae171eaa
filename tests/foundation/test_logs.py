"""One JSON log format for every service: our loggers, Prefect's, uvicorn's, with request ids."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest

from core.logs import configure_logging, reset_request_id, set_request_id


@pytest.fixture
def restore_logging() -> Iterator[None]:
    names = ["", "api", "core", "pipelines", "prefect.client", "uvicorn", "uvicorn.error"]
    saved = {n: (logging.getLogger(n).handlers[:], logging.getLogger(n).propagate) for n in names}
    yield
    for name, (handlers, propagate) in saved.items():
        logging.getLogger(name).handlers = handlers
        logging.getLogger(name).propagate = propagate


def test_every_logger_writes_one_json_event_per_line(restore_logging: None) -> None:
    stream = io.StringIO()
    configure_logging("flows", stream=stream)
    configure_logging("flows", stream=stream)  # twice: still one handler
    token = set_request_id("req-42")
    try:
        logging.getLogger("core.ingest").info("synced %d players", 3, extra={"event": "sync"})
    finally:
        reset_request_id(token)
    logging.getLogger("prefect.client").warning('flow run <b>"quoted"</b>\x00 done')
    logging.getLogger("uvicorn.error").error("uvicorn says hi")
    try:
        raise ValueError("boom")
    except ValueError:
        logging.getLogger("pipelines.train").exception("training failed")

    lines = stream.getvalue().splitlines()
    events = [json.loads(line) for line in lines]  # every line parses alone
    assert [e["logger"] for e in events] == [
        "core.ingest",
        "prefect.client",
        "uvicorn.error",
        "pipelines.train",
    ]
    assert {e["service"] for e in events} == {"flows"}
    assert events[0]["message"] == "synced 3 players" and events[0]["event"] == "sync"
    assert events[0]["request_id"] == "req-42" and "request_id" not in events[1]
    assert events[1]["message"] == 'flow run <b>"quoted"</b>\x00 done'
    assert events[1]["level"] == "warning"
    assert "ValueError: boom" in events[3]["exc_info"]
    assert all(set(e) >= {"ts", "level", "logger", "message", "service"} for e in events)
