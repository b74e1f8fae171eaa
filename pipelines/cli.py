"""The `faceit-ai` command line: one front door for operators."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import typer
from rich.console import Console

from core.db.migrate import current_revision, head_revision, upgrade
from core.resources import Resources
from core.settings import SettingsError, get_settings

app = typer.Typer(help="Faceit AI: analytics for FACEIT CS2 players.", no_args_is_help=True)
db_app = typer.Typer(help="Database schema commands.", no_args_is_help=True)
app.add_typer(db_app, name="db")
console = Console(stderr=True)

APP_ENTRY = Path(__file__).resolve().parents[1] / "app" / "main.py"


def open_resources() -> Resources:
    try:
        settings = get_settings()
    except SettingsError as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from None
    return Resources.from_settings(settings)


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
def run(
    port: int = typer.Option(8501, envvar="PORT", help="Port to serve the app on."),
    host: str = typer.Option("127.0.0.1", envvar="HOST", help="Address to bind."),
) -> None:
    """Migrate the database, then serve the Streamlit app."""
    db_upgrade()
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
