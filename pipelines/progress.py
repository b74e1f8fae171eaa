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
    console.print(
        f"[bold]Done in {seconds:.1f}s[/bold]: {summary.players} player(s), "
        f"{summary.new_matches} new match(es), {summary.match_rows} player-match row(s), "
        f"{summary.requests} request(s), {summary.quarantined} payload(s) quarantined, "
        f"{summary.skipped_matches} match(es) skipped."
    )
    for message in summary.messages:
        console.print(f"[yellow]{message}[/yellow]")
    if summary.failed:
        console.print(
            f"[red]{len(summary.failed)} player(s) failed: {', '.join(summary.failed)}[/red]"
        )
