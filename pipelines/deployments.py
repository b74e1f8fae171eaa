"""Scheduled Prefect deployments: nightly training and the tracked-players sync.

Serve them with ``python -m pipelines.deployments`` (a worker-less ``prefect.serve``), or
``deploy`` them to a work pool in production.
"""

from __future__ import annotations

import os
from typing import Any

TRAIN_CRON = "0 3 * * *"
SYNC_CRON_DEFAULT = "*/30 * * * *"
SYNC_CRON_ENV = "SYNC_CRON"


def deployments() -> list[Any]:
    """The RunnerDeployments: ``train-models/nightly`` and ``sync-tracked-players/every-30-min``."""
    from pipelines.ingest import sync_tracked_players
    from pipelines.train import train_models

    return [
        train_models.to_deployment(name="nightly", cron=os.environ.get("TRAIN_CRON", TRAIN_CRON)),
        sync_tracked_players.to_deployment(
            name="sync-tracked-players",
            cron=os.environ.get(SYNC_CRON_ENV, SYNC_CRON_DEFAULT),
        ),
    ]


def main() -> None:  # pragma: no cover - long-running
    from prefect import serve

    serve(*deployments())


if __name__ == "__main__":  # pragma: no cover
    main()
