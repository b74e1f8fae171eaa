"""Scheduled Prefect deployments: nightly training, the tracked-players sync, the weekly report.

Production (``faceit-ai stack``, deploy/k8s): ``python -m pipelines.deployments deploy --pool P``
deploys them to a process work pool, and the pool's workers run them (``prefect worker start``).
Without a server: ``python -m pipelines.deployments`` serves them worker-less (``prefect.serve``).
Schedules come from core.settings (TRAIN_CRON, SYNC_CRON, WEEKLY_REPORT_CRON).

The ``sync-players`` deployment (no schedule) runs one batch of a fanned-out sync: the
``sync-tracked-players`` run starts one per batch, and every worker of the pool takes some.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from core.settings import Settings, get_settings

POOL_DEFAULT = "faceit-ai"
REPO = Path(__file__).resolve().parents[1]

# (flow entrypoint, deployment name, the Settings field of its cron or None)
DEPLOYED = [
    ("pipelines/train.py:train_models", "nightly", "train_cron"),
    ("pipelines/ingest.py:sync_tracked_players", "sync-tracked-players", "sync_cron"),
    ("pipelines/ingest.py:sync_players", "sync-players", None),
    ("pipelines/reports.py:weekly_report", "weekly-report", "weekly_report_cron"),
]


def deployments(settings: Settings | None = None) -> list[Any]:
    """The RunnerDeployments: ``train-models/nightly`` (TRAIN_CRON), ``sync-tracked-players``
    (SYNC_CRON) and ``weekly-report`` (WEEKLY_REPORT_CRON), scheduled from core.settings."""
    from pipelines.ingest import sync_tracked_players
    from pipelines.reports import weekly_report
    from pipelines.train import train_models

    settings = settings or get_settings()
    return [
        train_models.to_deployment(name="nightly", cron=settings.train_cron),
        sync_tracked_players.to_deployment(name="sync-tracked-players", cron=settings.sync_cron),
        weekly_report.to_deployment(name="weekly-report", cron=settings.weekly_report_cron),
    ]


def ensure_pool(pool: str = POOL_DEFAULT) -> bool:
    """Create the process work ``pool`` with the process worker's default job template unless it
    exists; True when it was created. Deploying must not wait for a worker to create it (a
    worker that starts late would otherwise fail the whole deployment)."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.actions import WorkPoolCreate
    from prefect.exceptions import ObjectAlreadyExists
    from prefect.workers.process import ProcessWorker

    with get_client(sync_client=True) as client:
        try:
            client.create_work_pool(
                WorkPoolCreate(
                    name=pool,
                    type=ProcessWorker.type,
                    base_job_template=ProcessWorker.get_default_base_job_template(),
                )
            )
        except ObjectAlreadyExists:
            return False
    return True


def deploy(
    pool: str = POOL_DEFAULT, *, schedules: bool = True, settings: Settings | None = None
) -> list[str]:
    """Deploy every flow of DEPLOYED to the process work ``pool`` (created if missing).

    The code is this checkout (``flow.from_source``): each worker runs the flow from it.
    ``schedules=False`` deploys them unscheduled (runs only when triggered). Returns the
    ``flow/deployment`` names.
    """
    from prefect import flow

    settings = settings or get_settings()
    ensure_pool(pool)
    names = []
    for entrypoint, name, cron_field in DEPLOYED:
        remote = flow.from_source(source=str(REPO), entrypoint=entrypoint)
        cron = getattr(settings, cron_field) if schedules and cron_field else None
        remote.deploy(
            name=name,
            work_pool_name=pool,
            cron=cron,
            build=False,
            push=False,
            print_next_steps=False,
            ignore_warnings=True,
        )
        names.append(f"{remote.name}/{name}")
    return names


def main(argv: list[str] | None = None) -> None:  # pragma: no cover - long-running
    parser = argparse.ArgumentParser(description=__doc__)
    sub = parser.add_subparsers(dest="command")
    to_pool = sub.add_parser("deploy", help="deploy to a work pool")
    to_pool.add_argument("--pool", default=POOL_DEFAULT)
    to_pool.add_argument("--no-schedules", action="store_true")
    args = parser.parse_args(argv)
    if args.command == "deploy":
        for name in deploy(args.pool, schedules=not args.no_schedules):
            print(f"deployed {name} to work pool {args.pool}")
        return
    from prefect import serve

    serve(*deployments())


if __name__ == "__main__":  # pragma: no cover
    main()
