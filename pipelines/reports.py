"""The weekly report deployment: queue one summary per user who follows players (core.reports)
through the notification outbox, then send what is due (the live worker sends the rest)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from prefect import flow, get_run_logger

from core import notify
from core.reports import queue_weekly_reports
from core.resources import Resources
from pipelines.observability import observe_flows


@flow(name="weekly-report")
def weekly_report(week_ending: datetime | None = None) -> dict[str, Any]:
    """Queue the week's reports (once per user and ISO week: a rerun adds nothing) and send
    the due messages."""
    with Resources.open() as resources:
        observe_flows(resources.settings)
        queued = queue_weekly_reports(resources.sessions, week_ending)
        sent = notify.send_due(resources.sessions, resources.settings)
    get_run_logger().info("weekly report: %d messages queued, %d sent", queued, sent)
    return {"queued": queued, "sent": sent}
