"""The `faceit-ai` command line: one front door for operators."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import typer
from rich.console import Console

from core import crud
from core.db.migrate import current_revision, head_revision, upgrade
from core.faceit import FaceitError
from core.ingest import IngestError, Ingestor, IngestSummary
from core.resources import Resources
from core.settings import Settings, SettingsError, get_settings
from core.sources import run_ingest
from pipelines.cli_api import api as serve_api
from pipelines.cli_users import users_app
from pipelines.ingest import demo_nicknames, ingest_nicknames
from pipelines.progress import print_summary, progress_bars

app = typer.Typer(help="Faceit AI: analytics for FACEIT CS2 players.", no_args_is_help=True)
db_app = typer.Typer(help="Database schema commands.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(users_app, name="users", help="Manage user accounts and roles.")
app.command(help="Serve the JSON API and Stripe webhooks (FastAPI).")(serve_api)
console = Console(stderr=True)

APP_ENTRY = Path(__file__).resolve().parents[1] / "app" / "main.py"


def load() -> Settings:
    try:
        return get_settings()
    except SettingsError as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from None


def open_resources() -> Resources:
    return Resources.from_settings(load())


def run_ingest_job(job: Callable[[Ingestor], Awaitable[IngestSummary]], **options: Any) -> None:
    """Run an ingest job with progress bars and a summary; errors become one clear line."""
    settings = load()
    db_upgrade()
    console.print(f"Source: {settings.data_source}")
    started = time.monotonic()
    try:
        with progress_bars(console) as progress:
            summary = asyncio.run(run_ingest(settings, job, progress=progress, **options))
    except (IngestError, FaceitError, ValueError) as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(1) from None
    print_summary(console, summary, time.monotonic() - started)
    if summary.failed:
        raise typer.Exit(1)


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply every pending migration (safe to run again)."""
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
    run_ingest_job(
        lambda ingestor: ingest_nicknames(ingestor, nicknames), roster_depth=roster_depth
    )


@app.command()
def sync() -> None:
    """Fetch new matches of every tracked player (only those after each player's watermark)."""
    run_ingest_job(Ingestor.sync_tracked)


@app.command("seed-demo")
def seed_demo(
    players: int = typer.Option(0, help="Only the first N players of the league (0 = all)."),
) -> None:
    """Load the demo league (simulated FACEIT players and matches) into the database."""
    try:
        nicknames = demo_nicknames(load(), players or None)
    except ValueError as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from None
    run_ingest_job(lambda ingestor: ingest_nicknames(ingestor, nicknames), roster_depth=0)


def seed_demo_if_empty(resources: Resources) -> None:
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


@app.command()
def train() -> None:
    """Train, evaluate and register the models; promote only those that beat the champion."""
    from pipelines.train import format_report, run_training

    resources = open_resources()
    try:
        upgrade(resources.engine)
        with progress_bars(console) as progress:
            report = run_training(resources.sessions, progress=progress)
    except ValueError as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(1) from None
    finally:
        resources.close()
    print(format_report(report))


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
) -> None:
    """Serve the demo league as a FACEIT Data API v4 over HTTP (API key: demo-league)."""
    from core.demo_league import serve

    console.print(
        f"Demo FACEIT API on http://{host}:{port}/data/v4 "
        f"({players} players, seed {seed}); send 'Authorization: Bearer demo-league'."
    )
    serve(host, port, players, seed, rate_limit, extra_api_keys=api_key)


@app.command()
def run(
    port: int = typer.Option(8501, envvar="PORT", help="Port to serve the app on."),
    host: str = typer.Option("127.0.0.1", envvar="HOST", help="Address to bind."),
) -> None:
    """Migrate the database, load the demo league on first start, then serve the Streamlit app."""
    db_upgrade()
    resources = open_resources()
    try:
        seed_demo_if_empty(resources)
    finally:
        resources.close()
    console.print(f"Serving Faceit AI on http://{host}:{port}")
    command = [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(APP_ENTRY),
        "--server.port",
        str(port),
        "--server.address",
        host,
        "--server.headless",
        "true",
        "--browser.gatherUsageStats",
        "false",
    ]
    raise typer.Exit(subprocess.call(command, env=os.environ.copy()))  # noqa: S603


if __name__ == "__main__":
    app()
