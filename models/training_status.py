"""Whether the models are being trained right now, for the pages that need them.

The embedded default (`faceit-ai run`) trains the models right after loading the demo league,
while the app is already being served. It records the run in ``DATA_DIR/training.json`` so a
premium page can say "models are being trained, ready in ~N s" instead of an operator message.
Production trains on the work pool and writes nothing here: the pages then say that no model
has been promoted yet.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Literal

STATUS_FILE = "training.json"
DEFAULT_ESTIMATE_SECONDS = 20.0
MIN_REMAINING_SECONDS = 3

State = Literal["running", "done", "failed"]


@dataclass(frozen=True)
class TrainingStatus:
    state: State
    started_at: float  # epoch seconds
    estimate_seconds: float
    finished_at: float | None = None
    error: str | None = None

    def remaining_seconds(self, now: float | None = None) -> int:
        """Seconds until the run should be done (never below a few seconds while it runs)."""
        elapsed = (time.time() if now is None else now) - self.started_at
        return max(MIN_REMAINING_SECONDS, round(self.estimate_seconds - elapsed))

    @property
    def duration(self) -> float | None:
        return None if self.finished_at is None else self.finished_at - self.started_at


def status_path(data_dir: Path) -> Path:
    return Path(data_dir) / STATUS_FILE


def read_status(data_dir: Path) -> TrainingStatus | None:
    """The last recorded run, or None (never trained here, or an unreadable file)."""
    try:
        raw = json.loads(status_path(data_dir).read_text())
        return TrainingStatus(**raw)
    except (OSError, ValueError, TypeError):
        return None


def write_status(data_dir: Path, status: TrainingStatus) -> None:
    """Atomically replace the status file (readers never see half a file)."""
    path = status_path(data_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(asdict(status)))
    os.replace(tmp, path)


def started(data_dir: Path, *, now: float | None = None) -> TrainingStatus:
    """Record a run starting now; its estimate is the last successful run's duration."""
    previous = read_status(data_dir)
    estimate = DEFAULT_ESTIMATE_SECONDS
    if previous is not None and previous.state == "done" and previous.duration:
        estimate = max(previous.duration, 1.0)
    status = TrainingStatus("running", time.time() if now is None else now, estimate)
    write_status(data_dir, status)
    return status


def finished(
    data_dir: Path, run: TrainingStatus, *, error: str | None = None, now: float | None = None
) -> TrainingStatus:
    status = TrainingStatus(
        "failed" if error else "done",
        run.started_at,
        run.estimate_seconds,
        finished_at=time.time() if now is None else now,
        error=error,
    )
    write_status(data_dir, status)
    return status
