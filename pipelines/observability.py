"""JSON logs and Sentry for flow runs (each flow run on a worker is its own process)."""

from __future__ import annotations

from core.logs import configure_logging
from core.sentry import init_sentry
from core.settings import Settings


def observe_flows(settings: Settings) -> None:
    """Called at the start of each flow run: its Sentry events name the flow and the run."""
    configure_logging("flows")
    if init_sentry(settings, "flows"):
        import sentry_sdk
        from prefect.runtime import flow_run

        sentry_sdk.set_tag("flow", flow_run.flow_name)
        sentry_sdk.set_tag("flow_run_id", flow_run.id)
