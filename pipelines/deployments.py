"""Scheduled Prefect deployments: nightly training and the tracked-players sync.

Serve them with ``python -m pipelines.deployments`` (a worker-less ``prefect.serve``), or
``deploy`` them to a work pool in production.
"""

from __future__ import annotations

from typing import Any

from core.settings import Settings, get_settings


def deployments(settings: Settings | None = None) -> list[Any]:
    """The RunnerDeployments: ``train-models/nightly`` (TRAIN_CRON) and ``sync-tracked-players``
    (SYNC_CRON), scheduled from core.settings."""
    from pipelines.ingest import sync_tracked_players
    from pipelines.train import train_models

    settings = settings or get_settings()
    return [
        train_models.to_deployment(name="nightly", cron=settings.train_cron),
        sync_tracked_players.to_deployment(name="sync-tracked-players", cron=settings.sync_cron),
    ]


def main() -> None:  # pragma: no cover - long-running
    from prefect import serve

    serve(*deployments())


if __name__ == "__main__":  # pragma: no cover
    main()
