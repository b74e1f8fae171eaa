"""The app's JSON logs and Sentry: started once per process, and one request id per page run.

Each run of a page (a click, a rerun) gets its own request id, so its log lines and a Sentry
event of it carry the same id. An unexpected error on a page is logged with its traceback
(Sentry's logging integration turns that line into an event, scrubbed by core.sentry), the user
reads a short message with the reference to quote, and the error is raised on to Streamlit,
which shows no details to end users (``client.showErrorDetails = none`` in production).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import streamlit as st

from core.logs import configure_logging, reset_request_id, set_request_id
from core.sentry import init_sentry
from core.settings import get_settings

logger = logging.getLogger(__name__)


@st.cache_resource(show_spinner=False)
def start_observability() -> bool:
    """Once per app process: JSON logs and Sentry (SENTRY_DSN)."""
    configure_logging("app")
    return init_sentry(get_settings(), "app")


def new_request_id() -> str:
    return uuid.uuid4().hex[:16]


@contextmanager
def page_run(page: str) -> Iterator[str]:
    """One page run under its own request id; an unexpected error is logged and raised on."""
    request_id = new_request_id()
    token = set_request_id(request_id)
    try:
        yield request_id
    except Exception:
        logger.exception("page error", extra={"event": "page_error", "page": page})
        st.error(
            "Something went wrong on this page and it has been reported. "
            f"If it keeps happening, quote reference **{request_id}**."
        )
        raise
    finally:
        reset_request_id(token)
