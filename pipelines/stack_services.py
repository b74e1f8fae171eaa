"""Two small processes of ``faceit-ai stack``: the demo FACEIT API with request metrics, and
the flow-metrics exporter (Prefect's workers and flow runs as Prometheus metrics).

    python -m pipelines.stack_services demo-faceit --port P --players N --seed S --rate-limit R
    python -m pipelines.stack_services flow-metrics --port P --prefect-api URL --pool NAME
    python -m pipelines.stack_services app --port P   (Streamlit + /metrics on APP_METRICS_PORT)
"""

from __future__ import annotations

import argparse
import asyncio
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    generate_latest,
)

FLOW_STATES = ("SCHEDULED", "PENDING", "RUNNING", "COMPLETED", "FAILED", "CRASHED", "CANCELLED")


def demo_faceit_app(players: int, seed: int, rate_limit: float | None) -> Any:
    """The demo league's FACEIT API; /metrics counts its answers by status (429 = over limit)."""
    from starlette.types import Message, Receive, Scope, Send

    from core.demo_league import default_league
    from core.demo_league.app import DEFAULT_API_KEYS, create_app

    registry = CollectorRegistry()
    answers = Counter(
        "faceit_ai_demo_faceit_responses",
        "Answers of the demo FACEIT API by HTTP status",
        ["status"],
        registry=registry,
    )
    inner = create_app(
        default_league(players, seed), rate_limit=rate_limit, api_keys=DEFAULT_API_KEYS
    )

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] == "/metrics":
            body = generate_latest(registry)
            await send(
                {
                    "type": "http.response.start",
                    "status": 200,
                    "headers": [(b"content-type", CONTENT_TYPE_LATEST.encode())],
                }
            )
            await send({"type": "http.response.body", "body": body})
            return

        async def counting(message: Message) -> None:
            if message["type"] == "http.response.start":
                answers.labels(str(message["status"])).inc()
            await send(message)

        await inner(scope, receive, counting if scope["type"] == "http" else send)

    return app


class FlowMetrics:
    """Online workers of the pool and flow runs by flow and state, read from the Prefect API."""

    def __init__(self, api_url: str, pool: str) -> None:
        self.api_url = api_url
        self.pool = pool
        self.registry = CollectorRegistry()
        self.workers = Gauge(
            "faceit_ai_prefect_workers_online",
            "Workers of the work pool that sent a heartbeat recently",
            ["pool"],
            registry=self.registry,
        )
        self.runs = Gauge(
            "faceit_ai_flow_runs",
            "Flow runs by flow and state",
            ["flow", "state"],
            registry=self.registry,
        )
        self.up = Gauge(
            "faceit_ai_prefect_api_up", "1 when the Prefect API answered", registry=self.registry
        )

    async def refresh(self) -> None:
        import httpx

        async with httpx.AsyncClient(base_url=self.api_url, timeout=5.0) as http:
            try:
                workers = await http.post(f"/work_pools/{self.pool}/workers/filter", json={})
                flows = await http.post("/flows/filter", json={})
                names = {f["id"]: f["name"] for f in flows.json()}
                counts: dict[tuple[str, str], int] = {}
                for state in FLOW_STATES:
                    runs = await http.post(
                        "/flow_runs/filter",
                        json={"flow_runs": {"state": {"type": {"any_": [state]}}}, "limit": 200},
                    )
                    for run in runs.json():
                        key = (names.get(run["flow_id"], "unknown"), state.lower())
                        counts[key] = counts.get(key, 0) + 1
            except (httpx.HTTPError, ValueError):
                self.up.set(0)
                return
        self.up.set(1)
        online = (
            [w for w in workers.json() if w.get("status") == "ONLINE"] if workers.is_success else []
        )
        self.workers.labels(self.pool).set(len(online))
        self.runs.clear()
        for (flow_name, state), count in counts.items():
            self.runs.labels(flow_name, state).set(count)

    def asgi(self) -> Any:
        from starlette.types import Receive, Scope, Send

        async def app(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] != "http":
                return
            await self.refresh()
            await send(
                {
                    "type": "http.response.start",
                    "status": 200,
                    "headers": [(b"content-type", CONTENT_TYPE_LATEST.encode())],
                }
            )
            await send({"type": "http.response.body", "body": generate_latest(self.registry)})

        return app


def serve_app(port: int, address: str = "127.0.0.1") -> None:  # pragma: no cover - long-running
    """Streamlit in this process, with a Prometheus endpoint of the process from the start.

    Streamlit has no /metrics and runs app code only when a session opens: the endpoint
    (APP_METRICS_PORT, on APP_METRICS_HOST) is started here, before Streamlit takes over.
    """
    import os
    import sys

    from prometheus_client import start_http_server
    from streamlit.web import cli

    from core.settings import get_settings
    from pipelines.cli import streamlit_environment
    from pipelines.stack import APP_ENTRY

    settings = get_settings()
    if settings.app_metrics_port is not None:
        start_http_server(settings.app_metrics_port, addr=settings.app_metrics_host)
    os.environ.update(streamlit_environment(settings, {}))  # uvicorn reads it when it starts
    sys.argv = ["streamlit", "run", str(APP_ENTRY), "--server.port", str(port),
                "--server.address", address, "--server.headless", "true",
                "--browser.gatherUsageStats", "false"]  # fmt: skip
    cli.main()


def main(argv: list[str] | None = None) -> None:  # pragma: no cover - long-running
    import uvicorn

    from core.logs import configure_logging

    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser("demo-faceit")
    demo.add_argument("--port", type=int, required=True)
    demo.add_argument("--host", default="127.0.0.1")
    demo.add_argument("--players", type=int, default=300)
    demo.add_argument("--seed", type=int, default=7)
    demo.add_argument("--rate-limit", type=float, default=None)
    metrics = sub.add_parser("flow-metrics")
    metrics.add_argument("--port", type=int, required=True)
    metrics.add_argument("--host", default="127.0.0.1")
    metrics.add_argument("--prefect-api", required=True)
    metrics.add_argument("--pool", required=True)
    streamlit = sub.add_parser("app")
    streamlit.add_argument("--port", type=int, required=True)
    streamlit.add_argument("--address", default="127.0.0.1")
    args = parser.parse_args(argv)
    if args.command == "app":
        serve_app(args.port, args.address)
        return
    configure_logging(args.command)
    if args.command == "demo-faceit":
        app = demo_faceit_app(args.players, args.seed, args.rate_limit)
    else:
        app = FlowMetrics(args.prefect_api, args.pool).asgi()
    asyncio.run(
        uvicorn.Server(
            uvicorn.Config(app, host=args.host, port=args.port, log_config=None, access_log=False)
        ).serve()
    )


if __name__ == "__main__":  # pragma: no cover
    main()
