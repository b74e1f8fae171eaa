"""Train, evaluate, register and promote the models (Prefect flow + a plain function for the CLI).

``train_models()`` is the Prefect flow (nightly deployment in pipelines/deployments.py);
``run_training(sessions)`` runs the same steps without Prefect (``faceit-ai train``), and
``format_report(report)`` renders the evaluation table.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import polars as pl
from prefect import flow, get_run_logger, task
from prefect.cache_policies import NONE
from sqlalchemy.orm import Session, sessionmaker

from models import match_outcome as mo
from models import playstyle as ps
from models import registry

Progress = Callable[[str, int, int], None]
STEPS = ("load", "dataset", "train", "evaluate", "register", "playstyle")
MIN_MATCHES = 50


def _step(progress: Progress | None, name: str) -> None:
    if progress is not None:
        progress("training", STEPS.index(name) + 1, len(STEPS))


@task(name="load-training-data", cache_policy=NONE)
def load_data(sessions: sessionmaker[Session]) -> tuple[pl.DataFrame, pl.DataFrame]:
    with sessions() as session:
        return mo.load_training_frames(session)


@task(name="build-dataset", cache_policy=NONE)
def build_dataset(frames: tuple[pl.DataFrame, pl.DataFrame]) -> pl.DataFrame:
    return mo.build_dataset(*frames)


@task(name="train-match-outcome", cache_policy=NONE)
def train_model(dataset: pl.DataFrame) -> tuple[mo.MatchOutcomeModel, mo.Split]:
    split = mo.time_split(dataset)
    if split.train.height < MIN_MATCHES or split.evaluation.height < 10:
        raise ValueError(f"not enough matches to train ({dataset.height})")
    return mo.train(split), split


@task(name="evaluate-match-outcome", cache_policy=NONE)
def evaluate_model(model: mo.MatchOutcomeModel, split: mo.Split) -> dict[str, Any]:
    return mo.nan_to_none(mo.evaluate(model, split.evaluation))


@task(name="register-and-promote", cache_policy=NONE)
def register_and_promote(
    sessions: sessionmaker[Session],
    model: mo.MatchOutcomeModel,
    split: mo.Split,
    evaluation: dict[str, Any],
) -> dict[str, Any]:
    start, end = mo.dataset_window(split.train)
    eval_start, eval_end = mo.dataset_window(split.evaluation)
    metrics = {
        **evaluation["model"],
        "elo_baseline": evaluation["elo"],
        "eval_start": eval_start,
        "eval_end": eval_end,
        "trees": model.info.get("trees"),
    }
    with sessions.begin() as session:
        version = registry.register(
            session,
            registry.MATCH_OUTCOME,
            model.to_bytes(),
            metrics,
            model.feature_version,
            (start, end),
        )
        decision = registry.promote_if_better(session, version, split.evaluation)
        return {"version": version.version, **decision.as_dict()}


@task(name="fit-playstyle", cache_policy=NONE)
def fit_playstyle(
    sessions: sessionmaker[Session], frames: tuple[pl.DataFrame, pl.DataFrame]
) -> dict[str, Any]:
    rates = ps.player_rates(*frames)
    if rates.height < 10:
        return {"skipped": f"only {rates.height} players with enough matches"}
    model = ps.fit(rates)
    with sessions.begin() as session:
        version = registry.register(
            session,
            registry.PLAYSTYLE,
            model.to_bytes(),
            {"players": rates.height, "roles": model.role_counts()},
            model.version,
        )
        registry.promote(session, version)  # unsupervised: the newest fit is the champion
        return {"version": version.version, "roles": model.role_counts()}


def run_training(
    sessions: sessionmaker[Session], progress: Progress | None = None
) -> dict[str, Any]:
    """Every training step without Prefect; returns the report for :func:`format_report`."""
    t0 = time.perf_counter()
    _step(progress, "load")
    frames = load_data.fn(sessions)
    _step(progress, "dataset")
    dataset = build_dataset.fn(frames)
    _step(progress, "train")
    model, split = train_model.fn(dataset)
    _step(progress, "evaluate")
    evaluation = evaluate_model.fn(model, split)
    _step(progress, "register")
    promotion = register_and_promote.fn(sessions, model, split, evaluation)
    _step(progress, "playstyle")
    playstyle = fit_playstyle.fn(sessions, frames)
    return _report(dataset, split, evaluation, promotion, playstyle, time.perf_counter() - t0)


def _report(
    dataset: pl.DataFrame,
    split: mo.Split,
    evaluation: dict[str, Any],
    promotion: dict[str, Any],
    playstyle: dict[str, Any],
    seconds: float,
) -> dict[str, Any]:
    return {
        "matches": dataset.height,
        "train": split.train.height,
        "calibration": split.calibration.height,
        "evaluation_rows": split.evaluation.height,
        "evaluation": evaluation,
        "promotion": promotion,
        "playstyle": playstyle,
        "seconds": round(seconds, 2),
    }


def format_report(report: dict[str, Any]) -> str:
    """A plain-text evaluation table (model vs Elo baseline) and the promotion decision."""
    cols = ("logloss", "brier", "auc", "accuracy", "ece")
    lines = [
        f"matches: {report['matches']} (train {report['train']}, calibration "
        f"{report['calibration']}, evaluation {report['evaluation_rows']})",
        f"{'':<10}" + "".join(f"{c:>10}" for c in cols),
    ]
    for name, row in report["evaluation"].items():
        cells = "".join(
            f"{row[c]:>10.4f}" if isinstance(row.get(c), float) else f"{'-':>10}" for c in cols
        )
        lines.append(f"{name:<10}{cells}")
    promo = report["promotion"]
    lines.append(
        f"match_outcome v{promo['version']}: "
        f"{'PROMOTED' if promo['promoted'] else 'not promoted'} ({promo['reason']})"
    )
    style = report.get("playstyle", {})
    if "version" in style:
        lines.append(f"playstyle v{style['version']}: {style['roles']}")
    elif style:
        lines.append(f"playstyle: {style.get('skipped')}")
    lines.append(f"took {report['seconds']} s")
    return "\n".join(lines)


@flow(name="train-models")
def train_models() -> dict[str, Any]:
    """Load from the database (settings), train, evaluate, register, promote; playstyle."""
    from core.db.engine import make_engine, make_session_factory
    from core.settings import get_settings

    engine = make_engine(get_settings().effective_database_url)
    try:
        sessions = make_session_factory(engine)
        t0 = time.perf_counter()
        frames = load_data(sessions)
        dataset = build_dataset(frames)
        model, split = train_model(dataset)
        evaluation = evaluate_model(model, split)
        promotion = register_and_promote(sessions, model, split, evaluation)
        playstyle = fit_playstyle(sessions, frames)
        report = _report(dataset, split, evaluation, promotion, playstyle, time.perf_counter() - t0)
        get_run_logger().info("training report:\n%s", format_report(report))
        return report
    finally:
        engine.dispose()
