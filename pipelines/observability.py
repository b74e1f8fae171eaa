"""JSON logs and Sentry for flow runs (each flow run on a worker is its own process)."""

from __future__ import annotations

from core.logs import configure_logging
from core.sentry import init_sentry
from core.settings import Settings


def observe_flows(settings: Settings) -> None:
    configure_logging("flows")
    init_sentry(settings, "flows")
