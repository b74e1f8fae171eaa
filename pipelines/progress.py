"""Rich progress bars for long command-line jobs (requests, matches, rows, ETA)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from core.ingest import IngestSummary
from core.ingest import Progress as ProgressCallback

LABELS = {"players": "Players", "history": "History matches listed", "matches": "Matches fetched"}


@contextmanager
def progress_bars(console: Console) -> Iterator[ProgressCallback]:
    columns = (
        SpinnerColumn(),
        TextColumn("{task.description:<24}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("ETA"),
        TimeRemainingColumn(),
    )
    tasks: dict[str, TaskID] = {}
    with Progress(*columns, console=console, transient=False) as bars:

        def update(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = bars.add_task(LABELS.get(stage, stage), total=total or None)
            bars.update(tasks[stage], completed=done, total=total or None)

        yield update


def print_summary(console: Console, summary: IngestSummary, seconds: float) -> None:
    """The end of an ingest: "Done ..." only when every player was fetched; otherwise the
    failure comes first and what was stored anyway is said as such."""
    stored = (
        f"{summary.players} player(s), {summary.new_matches} new match(es), "
        f"{summary.match_rows} player-match row(s), {summary.requests} request(s), "
        f"{summary.quarantined} payload(s) quarantined, {summary.skipped_matches} match(es) skipped"
    )
    if summary.failed:
        console.print(
            f"[bold red]Failed after {seconds:.1f}s[/bold red]: {len(summary.failed)} player(s) "
            f"could not be fetched: {', '.join(summary.failed)}"
        )
        for message in summary.messages:
            console.print(f"[red]{message}[/red]")
        if summary.players or summary.new_matches:
            console.print(f"Stored before the failure: {stored}.")
        return
    console.print(f"[bold]Done in {seconds:.1f}s[/bold]: {stored}.")
    for message in summary.messages:
        console.print(f"[yellow]{message}[/yellow]")
