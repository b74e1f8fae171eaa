"""The `faceit-ai` command line: one front door for operators.

Only typer and rich are imported at module level: each command imports what it needs when it
runs, so `faceit-ai --help` (and a typo) answers at once instead of after loading polars,
SQLAlchemy, Prefect and XGBoost.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from rich.console import Console

from pipelines.cli_api import api as serve_api
from pipelines.cli_users import users_app

if TYPE_CHECKING:
    from core.ingest import Ingestor, IngestSummary
    from core.resources import Resources
    from core.settings import Settings

app = typer.Typer(help="Faceit AI: analytics for FACEIT CS2 players.", no_args_is_help=True)
db_app = typer.Typer(help="Database schema commands.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(users_app, name="users", help="Manage user accounts and roles.")
app.command(help="Serve the JSON API and Stripe webhooks (FastAPI).")(serve_api)
console = Console(stderr=True)

APP_ENTRY = Path(__file__).resolve().parents[1] / "app" / "server.py"  # st.App: pages + routes
STREAMLIT_OPTIONS = {
    "server.headless": "true",
    "browser.gatherUsageStats": "false",
    "client.toolbarMode": "viewer",  # end users get no "Deploy" button or developer menu
    # no tracebacks for end users: a page error shows its reference (app/observability.py),
    # and the traceback goes to the JSON log and Sentry
    "client.showErrorDetails": "none",
}


def load() -> Settings:
    from core.settings import SettingsError, get_settings

    try:
        return get_settings()
    except SettingsError as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from None


def open_resources() -> Resources:
    from core.resources import Resources

    return Resources.from_settings(load())


def run_ingest_job(job: Callable[[Ingestor], Awaitable[IngestSummary]], **options: Any) -> None:
    """Run an ingest job with progress bars and a summary; errors become one clear line."""
    import asyncio

    from core.faceit import FaceitError
    from core.ingest import IngestError
    from core.sources import run_ingest
    from models.serving_features import refreshing
    from pipelines.progress import print_summary, progress_bars

    db_upgrade()
    started = time.monotonic()
    with open_resources() as resources:
        console.print(f"Source: {resources.settings.data_source}")
        try:
            with progress_bars(console) as progress:
                summary = asyncio.run(
                    run_ingest(resources, refreshing(resources, job), progress=progress, **options)
                )
        except (IngestError, FaceitError, ValueError) as exc:
            console.print(f"[bold red]Failed[/bold red]: {exc}")
            raise typer.Exit(1) from None
        refreshed = refresh_peer_table(resources)
    print_summary(console, summary, time.monotonic() - started)
    console.print(refreshed)
    if summary.failed:
        raise typer.Exit(1)


def refresh_peer_table(resources: Resources) -> str:
    """Rebuild the peer groups new matches made stale (models.peers); what it did, in words."""
    from models import peers

    done = peers.refresh(resources.sessions)
    return (
        f"Peer table: {len(done['rebuilt'])} of {done['groups']} level and region groups rebuilt."
    )


@app.command("refresh-peers")
def refresh_peers() -> None:
    """Rebuild the stale groups of the peer table (the sync and train flows do it too)."""
    db_upgrade()
    with open_resources() as resources:
        console.print(refresh_peer_table(resources))


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply every pending migration (safe to run again)."""
    from core.db.migrate import current_revision, upgrade

    resources = open_resources()
    try:
        before = current_revision(resources.engine)
        upgrade(resources.engine)
        after = current_revision(resources.engine)
    finally:
        resources.close()
    state = "already up to date" if before == after else f"upgraded from {before or 'empty'}"
    console.print(f"Database {resources.describe_database()}: {state} (revision {after}).")


@db_app.command("status")
def db_status() -> None:
    """Show the schema revision of the database and of the code."""
    from core.db.migrate import current_revision, head_revision

    resources = open_resources()
    try:
        console.print(
            f"{resources.describe_database()}: at {current_revision(resources.engine)}, "
            f"code head {head_revision(resources.engine)}"
        )
    finally:
        resources.close()


@app.command()
def ingest(
    nicknames: list[str] = typer.Argument(..., help="FACEIT nicknames (case-sensitive)."),
    roster_depth: int = typer.Option(
        10, help="Also fetch teammates' profiles of the last N matches."
    ),
) -> None:
    """Fetch players by nickname with their whole match history."""
    from pipelines.ingest import ingest_nicknames

    run_ingest_job(
        lambda ingestor: ingest_nicknames(ingestor, nicknames), roster_depth=roster_depth
    )


@app.command()
def sync() -> None:
    """Fetch new matches of every tracked player (only those after each player's watermark)."""
    from core.ingest import Ingestor

    run_ingest_job(Ingestor.sync_tracked)


@app.command("seed-demo")
def seed_demo(
    players: int = typer.Option(0, help="Only the first N players of the league (0 = all)."),
) -> None:
    """Load the demo league (simulated FACEIT players and matches) into the database."""
    from pipelines.ingest import demo_nicknames, ingest_nicknames

    try:
        nicknames = demo_nicknames(load(), players or None)
    except ValueError as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from None
    run_ingest_job(lambda ingestor: ingest_nicknames(ingestor, nicknames), roster_depth=0)


def seed_demo_if_empty(resources: Resources) -> None:
    from core import crud

    if not resources.settings.uses_demo_league:
        return
    with resources.sessions() as session:
        empty = crud.count_players(session) == 0
    if empty:
        console.print("First start: loading the demo league (one time).")
        seed_demo(players=0)
        from core.auth import DEMO_PASSWORD, seed_demo_accounts

        with resources.sessions() as session:
            seed_demo_accounts(session)
        console.print(
            f"Demo accounts: demo-free and demo-premium, password {DEMO_PASSWORD!r} (demo only)."
        )


def needs_training(resources: Resources) -> bool:
    """The default set-up trains when there is data but no promoted model yet, or only one
    built on another feature version (which the app refuses to serve)."""
    from core import crud
    from models import registry
    from models.match_outcome.features import FEATURE_VERSION

    if not resources.settings.uses_demo_league:
        return False  # production trains on the work pool (the nightly deployment)
    with resources.sessions() as session:
        if crud.count_matches(session) == 0:
            return False
        champion = registry.champion(session, registry.MATCH_OUTCOME)
        return champion is None or champion.feature_version != FEATURE_VERSION


def train_with_status(resources: Resources, *, show_progress: bool = True) -> dict[str, Any]:
    """Train the models, recording the run in DATA_DIR for the app's "being trained" state."""
    from models import training_status
    from pipelines.progress import progress_bars
    from pipelines.train import demo_oracle, run_training

    data_dir = resources.settings.data_dir
    status = training_status.started(data_dir)
    oracle = demo_oracle(resources.settings)
    try:
        if show_progress:
            with progress_bars(console) as progress:
                report = run_training(resources.sessions, progress=progress, oracle=oracle)
        else:
            report = run_training(resources.sessions, oracle=oracle)
    except Exception as exc:
        training_status.finished(data_dir, status, error=str(exc) or type(exc).__name__)
        raise
    training_status.finished(data_dir, status)
    return report


@app.command()
def train() -> None:
    """Train, evaluate and register the models; promote only those that beat the champion."""
    from core.db.migrate import upgrade
    from pipelines.train import format_report

    resources = open_resources()
    try:
        upgrade(resources.engine)
        report = train_with_status(resources)
    except ValueError as exc:
        console.print(f"[bold red]Training failed[/bold red]: {exc}")
        raise typer.Exit(1) from None
    finally:
        resources.close()
    typer.echo(format_report(report))


@app.command("demo-api")
def demo_api(
    host: str = typer.Option("127.0.0.1", help="Address to bind."),
    port: int = typer.Option(8900, help="Port to serve on."),
    players: int = typer.Option(1000, help="Players in the simulated league."),
    seed: int = typer.Option(0, help="Seed: the same seed serves byte-identical data."),
    rate_limit: float | None = typer.Option(None, help="Requests per second per key (429 above)."),
    api_key: list[str] = typer.Option(
        [], help="Extra accepted API key (repeatable), e.g. a UUID for clients that insist on one."
    ),
    latency: float = typer.Option(0.0, min=0.0, help="Seconds added to every request."),
    p429: float = typer.Option(
        0.0, min=0.0, max=1.0, help="Fraction of requests answered 429 (Retry-After: 1)."
    ),
    p5xx: float = typer.Option(
        0.0, min=0.0, max=1.0, help="Fraction of requests answered 500, 502 or 503."
    ),
    malformed: float = typer.Option(
        0.0, min=0.0, max=1.0, help="Fraction of answers with valid JSON of the wrong shape."
    ),
    truncated: float = typer.Option(
        0.0, min=0.0, max=1.0, help="Fraction of answers whose JSON is cut off."
    ),
    fault_seed: int = typer.Option(0, help="Seed of the fault draws (same seed, same faults)."),
    webhook_url: str | None = typer.Option(
        None,
        help="Play live: schedule matches and POST FACEIT's webhook events of each to this URL "
        "(e.g. http://127.0.0.1:8000/webhooks/faceit).",
    ),
    webhook_secret: str = typer.Option(
        "", envvar="FACEIT_WEBHOOK_SECRET", help="Secret sent in the webhook header."
    ),
    webhook_header: str = typer.Option(
        "X-Faceit-Webhook-Secret", envvar="FACEIT_WEBHOOK_HEADER", help="Its header."
    ),
    live_every: float = typer.Option(60.0, min=1.0, help="Seconds between new live matches."),
    live_stage_seconds: float = typer.Option(
        20.0, min=0.1, help="Seconds from one match state to the next (created ... finished)."
    ),
) -> None:
    """Serve the demo league as a FACEIT Data API v4 over HTTP (API key: demo-league)."""
    from core.demo_league import Faults, serve
    from core.demo_league.server import LiveOptions

    live = None
    if webhook_url:
        if not webhook_secret:
            console.print("[red]--webhook-url needs --webhook-secret (or FACEIT_WEBHOOK_SECRET)")
            raise typer.Exit(2)
        live = LiveOptions(
            webhook_url, webhook_secret, webhook_header, live_every, live_stage_seconds
        )

    faults = Faults(
        latency=latency,
        throttle_rate=p429,
        error_rate=p5xx,
        malformed_rate=malformed,
        truncate_rate=truncated,
        seed=fault_seed,
    )
    injected = ", ".join(
        f"{name} {value:g}"
        for name, value in [
            ("latency", latency),
            ("p429", p429),
            ("p5xx", p5xx),
            ("malformed", malformed),
            ("truncated", truncated),
        ]
        if value
    )
    console.print(
        f"Demo FACEIT API on http://{host}:{port}/data/v4 "
        f"({players} players, seed {seed}); send 'Authorization: Bearer demo-league'."
        + (f" Faults: {injected}." if injected else "")
        + (f" Live: webhook events to {webhook_url}." if live else "")
    )
    serve(host, port, players, seed, rate_limit, extra_api_keys=api_key, faults=faults, live=live)


@app.command("live-worker")
def live_worker() -> None:
    """Handle queued FACEIT webhook events: live matches, pre-match predictions, results."""
    import threading

    from core.logs import configure_logging
    from core.sentry import init_sentry
    from pipelines.live import WorkerMetrics, run_worker, serve_health

    db_upgrade()
    with open_resources() as resources:
        settings = resources.settings
        configure_logging("live-worker")
        init_sentry(settings, "live-worker")
        metrics = WorkerMetrics()
        server = None
        if settings.live_metrics_port is not None:
            server = serve_health(metrics, settings.live_metrics_host, settings.live_metrics_port)
        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        console.print(f"Live worker on {resources.describe_database()}; Ctrl-C stops it.")
        try:
            handled = run_worker(resources, stop, metrics)
        except KeyboardInterrupt:
            stop.set()
            handled = 0
        finally:
            if server is not None:
                server.shutdown()
                server.server_close()
    console.print(f"Live worker stopped ({handled} events handled).")


def streamlit_command(host: str, port: int) -> list[str]:
    command = [sys.executable, "-m", "streamlit", "run", str(APP_ENTRY)]
    command += ["--server.port", str(port), "--server.address", host]
    for option, value in STREAMLIT_OPTIONS.items():
        command += [f"--{option}", value]
    return command


def streamlit_environment(settings: Settings, base: Mapping[str, str]) -> dict[str, str]:
    """The environment of the app's server process: ``base`` plus ``FORWARDED_ALLOW_IPS`` from
    ``TRUSTED_PROXIES``, the API's rule. Streamlit serves app/server.py with uvicorn, whose
    proxy headers would otherwise trust X-Forwarded-For from 127.0.0.1 always; this way the
    client address (the app's login throttle key, with the username) comes from X-Forwarded-For
    only when the TCP peer is a configured proxy (nginx sets the header), and is the TCP peer
    otherwise. Empty TRUSTED_PROXIES: nobody is trusted."""
    return {**base, "FORWARDED_ALLOW_IPS": ",".join(settings.trusted_proxies)}


def train_in_background(resources: Resources) -> threading.Thread:
    """First start: train while the app is starting; pages say "being trained" meanwhile."""
    from pipelines.train import format_report

    def work() -> None:
        started = time.monotonic()
        try:
            report = train_with_status(resources, show_progress=False)
        except Exception as exc:  # the app shows the failure on the premium pages
            console.print(f"[bold red]Model training failed[/bold red]: {exc}")
            return
        console.print(
            f"[bold green]Models trained in {time.monotonic() - started:.1f}s[/bold green]: "
            "every premium page is ready.\n" + format_report(report)
        )

    console.print("Training the models on the demo league (premium pages are ready when done)…")
    thread = threading.Thread(target=work, name="first-training", daemon=True)
    thread.start()
    return thread


@app.command()
def run(
    port: int = typer.Option(8501, envvar="PORT", help="Port to serve the app on."),
    host: str = typer.Option("127.0.0.1", envvar="HOST", help="Address to bind."),
) -> None:
    """Migrate the database, load the demo league on first start, train its models, serve."""
    db_upgrade()
    resources = open_resources()
    trainer: threading.Thread | None = None
    live_stops: list[threading.Event] = []
    try:
        seed_demo_if_empty(resources)
        if needs_training(resources):
            trainer = train_in_background(resources)
        if resources.settings.uses_demo_league and resources.settings.demo_live:
            from pipelines.live import start_demo_live

            live_stops = start_demo_live(resources, trainer)
            console.print(
                "The demo league plays live: a new match every "
                f"{resources.settings.demo_live_every_seconds:g} s (the Match room page)."
            )
        console.print(f"Serving Faceit AI on http://{host}:{port}")
        env = streamlit_environment(resources.settings, os.environ)
        # checkout return links point at this server unless PUBLIC_URL says otherwise
        if "public_url" not in resources.settings.model_fields_set:
            env["PUBLIC_URL"] = f"http://{host}:{port}"
        child = subprocess.Popen(streamlit_command(host, port), env=env)  # noqa: S603
        # a stop request (SIGTERM from a supervisor, a test) stops the app too, never orphans it
        signal.signal(signal.SIGTERM, lambda *_: child.terminate())
        try:
            code = child.wait()
        except KeyboardInterrupt:
            child.terminate()
            code = child.wait()
    finally:
        for stop in live_stops:
            stop.set()
        if trainer is not None and trainer.is_alive():
            trainer.join(timeout=60)
        resources.close()
    raise typer.Exit(code)


@app.command()
def stack(
    workers: int = typer.Option(2, min=1, help="Prefect workers on the work pool."),
    api_instances: int = typer.Option(2, min=1, help="API instances behind nginx."),
    port: int = typer.Option(
        8443, envvar="STACK_PORT", help="HTTPS port; the others follow it (see README)."
    ),
    directory: Path = typer.Option(
        Path("data/stack"), "--dir", envvar="STACK_DIR", help="Configs, logs and state."
    ),
    tls_cert: Path | None = typer.Option(None, envvar="TLS_CERT_FILE", help="PEM certificate."),
    tls_key: Path | None = typer.Option(None, envvar="TLS_KEY_FILE", help="PEM private key."),
    scrape_interval: str = typer.Option(
        "15s", envvar="STACK_SCRAPE_INTERVAL", help="Prometheus scrape and rule interval."
    ),
    worker_poll_seconds: float = typer.Option(
        5.0, envvar="STACK_WORKER_POLL_SECONDS", help="How often a worker asks for runs."
    ),
    schedules: bool = typer.Option(
        True, help="Deploy with TRAIN_CRON and SYNC_CRON (--no-schedules: only triggered runs)."
    ),
    api_rate: int = typer.Option(
        50, min=1, envvar="STACK_API_RATE", help="nginx: requests/s per address on /api/."
    ),
    api_burst: int | None = typer.Option(
        None, min=0, envvar="STACK_API_BURST", help="nginx: burst past the rate (default 2x)."
    ),
) -> None:
    """Run the production topology on this machine (nginx, API x N, app, Prefect server and
    workers, Prometheus, Alertmanager) under supervisord, on loopback. Ctrl-C stops it all."""
    from pipelines.stack import Stack, StackError, StackOptions, StackPorts

    options = StackOptions(
        directory=directory,
        ports=StackPorts(base=port, api_instances=api_instances),
        workers=workers,
        tls_cert=tls_cert,
        tls_key=tls_key,
        scrape_interval=scrape_interval,
        worker_poll_seconds=worker_poll_seconds,
        schedules=schedules,
        api_rate=api_rate,
        api_burst=api_burst,
    )
    db_upgrade()
    resources = open_resources()
    try:
        seed_demo_if_empty(resources)
    finally:
        resources.close()
    running = Stack(options, load(), log=console.print)

    def interrupt(signum: int, _frame: object) -> None:
        raise KeyboardInterrupt(signal.Signals(signum).name)

    # a service manager's SIGTERM (or a closed terminal) stops the stack like Ctrl-C does
    signal.signal(signal.SIGTERM, interrupt)
    signal.signal(signal.SIGHUP, interrupt)
    try:
        running.start()
    except StackError as exc:
        console.print(f"[red]{exc}[/red] (logs: {running.directory / 'logs'})")
        raise typer.Exit(1) from None
    except KeyboardInterrupt:
        running.stop()
        console.print("Stopped; nothing left running.")
        return
    for name, url in running.urls.items():
        console.print(f"{name:>13}: {url}")
    console.print("Running; Ctrl-C stops everything.")
    try:
        while running.process is not None and running.process.poll() is None:
            time.sleep(1)
    except KeyboardInterrupt:
        console.print("Stopping...")
    finally:
        running.stop()
    console.print("Stopped; nothing left running.")


if __name__ == "__main__":
    app()
