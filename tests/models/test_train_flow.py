"""The training flow end-to-end on a small ingested demo league (sqlite file from settings)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from core.db.engine import make_engine, make_session_factory
from core.db.schema import ModelVersion
from core.resources import Resources
from core.settings import get_settings
from core.sources import run_ingest
from models import history, registry
from models import match_outcome as mo
from pipelines.ingest import demo_nicknames, ingest_nicknames
from pipelines.train import demo_oracle, format_report, run_training, train_models


@pytest.fixture
def ingested(default_setup: Callable[[int], Path]) -> Iterator[str]:
    url = f"sqlite:///{default_setup(40)}"
    settings = get_settings()
    nicknames = demo_nicknames(settings)
    with Resources.open(settings) as resources:
        asyncio.run(run_ingest(resources, lambda i: ingest_nicknames(i, nicknames), roster_depth=0))
    yield url


def test_flow_then_cli_function(prefect_harness: None, ingested: str) -> None:
    report = train_models()
    assert report["promotion"]["promoted"] and report["promotion"]["version"] == 1
    assert report["evaluation"]["model"]["logloss"] > 0
    assert report["playstyle"]["version"] == 1

    engine = make_engine(ingested)
    sessions = make_session_factory(engine)
    steps: list[tuple[str, int, int]] = []
    again = run_training(
        sessions, progress=lambda *a: steps.append(a), oracle=demo_oracle(get_settings())
    )
    assert steps[-1][1] == steps[-1][2]
    assert again["promotion"]["version"] == 2
    text = format_report(again)
    assert "Elo formula (baseline)" in text and "log loss" in text
    assert "Match-outcome model v2" in text and "Playstyle model v2" in text
    assert "{" not in text and "'" not in text, "no raw Python dict or repr in the summary"
    with sessions() as s:
        rows = s.scalars(select(ModelVersion).order_by(ModelVersion.id)).all()
        assert [(r.name, r.version) for r in rows] == [
            ("match_outcome", 1),
            ("playstyle", 1),
            ("match_outcome", 2),
            ("playstyle", 2),
        ]
        champ = registry.load_champion(s, registry.MATCH_OUTCOME)
        assert champ is not None and champ.train_start is not None
        model = mo.load_model(champ.artifact)
        stored = champ.metrics
        frame = history.load(s)
    # the champion is the symmetric logistic model; XGBoost stays in the report as a baseline
    assert isinstance(model, mo.LinearOutcomeModel)
    assert set(stored["contenders"]) >= {"model", "xgboost", "elo", "oracle"}
    assert "XGBoost (baseline)" in text and "oracle (demo truth)" in text
    # the champion was chosen on a window that ends before the reported one starts
    assert stored["selection_start"] < stored["selection_end"] <= stored["eval_start"]
    bins = stored["reliability"]
    assert sum(b["n"] for b in bins) == stored["n"]
    engine.dispose()
    ids = frame["player_id"].unique().sort().to_list()
    pred = mo.predict(model, ids[:5], ids[5:10], "de_nuke", frame)
    assert 0 < pred.probability < 1


def test_deployments_declared() -> None:
    from pipelines.deployments import deployments

    nightly, sync, weekly = deployments()
    assert nightly.name == "nightly" and sync.name == "sync-tracked-players"
    assert weekly.name == "weekly-report" and weekly.flow_name == "weekly-report"
    assert nightly.schedules[0].schedule.cron == "0 3 * * *"
    assert sync.schedules[0].schedule.cron == "*/30 * * * *"
    assert weekly.schedules[0].schedule.cron == "0 8 * * 1"


def test_deployments_follow_the_cron_settings() -> None:
    from core.settings import load_settings
    from pipelines.deployments import deployments

    settings = load_settings(
        train_cron="15 4 * * 1",
        sync_cron="*/5 * * * *",
        weekly_report_cron="30 18 * * 0",
        _env_file=None,
    )
    nightly, sync, weekly = deployments(settings)
    assert nightly.schedules[0].schedule.cron == "15 4 * * 1"
    assert sync.schedules[0].schedule.cron == "*/5 * * * *"
    assert weekly.schedules[0].schedule.cron == "30 18 * * 0"


def test_deploying_creates_the_work_pool_when_no_worker_has_yet(prefect_harness: None) -> None:
    from prefect.client.orchestration import get_client

    from pipelines.deployments import deploy, ensure_pool

    names = deploy("fresh-pool", schedules=False)  # no worker ever started on this pool
    assert "train-models/nightly" in names and "weekly-report/weekly-report" in names
    with get_client(sync_client=True) as client:
        pool = client.read_work_pool("fresh-pool")
        deployment = client.read_deployment_by_name("train-models/nightly")
    assert pool.type == "process" and deployment.work_pool_name == "fresh-pool"
    assert ensure_pool("fresh-pool") is False  # a second deploy finds it and changes nothing


def test_the_smallest_demo_league_trains(default_setup: Callable[[int], Path]) -> None:
    """DEMO_PLAYERS=20 is the smallest league the settings accept; `faceit-ai run` with it must
    still give premium users a trained model, not "not enough matches to train"."""
    settings_floor = get_settings().model_fields["demo_players"].metadata[0].ge
    url = f"sqlite:///{default_setup(settings_floor)}"
    settings = get_settings()
    with Resources.open(settings) as resources:
        asyncio.run(
            run_ingest(
                resources,
                lambda i: ingest_nicknames(i, demo_nicknames(settings)),
                roster_depth=0,
            )
        )
    engine = make_engine(url)
    try:
        report = run_training(make_session_factory(engine), oracle=demo_oracle(settings))
    finally:
        engine.dispose()
    assert report["promotion"]["promoted"]
    assert report["evaluation"]["model"]["n"] >= 10
