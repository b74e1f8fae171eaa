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

from core.db import transaction
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
    with transaction(sessions) as session:
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
    with transaction(sessions) as session:
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


METRICS = (
    ("logloss", "log loss", ".3f"),
    ("brier", "Brier", ".3f"),
    ("auc", "AUC", ".3f"),
    ("accuracy", "accuracy", ".1%"),
    ("ece", "calib. error", ".3f"),
)
CONTENDERS = {"model": "match-outcome model", "elo": "Elo formula (baseline)"}
ROLE_PLURALS = {"AWPer": "AWPers", "Entry": "entry fraggers", "Support": "supports"}


def _cell(value: Any, fmt: str) -> str:
    return format(value, fmt) if isinstance(value, int | float) else "–"


def _roles(roles: dict[str, int]) -> str:
    parts = [
        f"{count} {ROLE_PLURALS.get(role, role.lower() + 's')}" for role, count in roles.items()
    ]
    return ", ".join(parts) if parts else "no players"


def format_report(report: dict[str, Any]) -> str:
    """What a person reads after training: data used, held-out scores vs the Elo formula
    (lower log loss / Brier is better, higher AUC / accuracy is better), and what was promoted."""
    lines = [
        f"Trained on {report['matches']:,} matches: {report['train']:,} to fit, "
        f"{report['calibration']:,} to calibrate, {report['evaluation_rows']:,} held out "
        f"to evaluate (the newest), in {report['seconds']:.1f} s.",
        "",
        f"{'Held-out evaluation':<26}" + "".join(f"{label:>14}" for _, label, _ in METRICS),
    ]
    for name, row in report["evaluation"].items():
        cells = "".join(f"{_cell(row.get(key), fmt):>14}" for key, _, fmt in METRICS)
        lines.append(f"{CONTENDERS.get(name, name):<26}{cells}")
    lines.append("(lower log loss, Brier and calibration error are better; higher AUC, accuracy)")
    lines.append("")
    promo = report["promotion"]
    verdict = "promoted to champion" if promo["promoted"] else "kept as a candidate"
    lines.append(f"Match-outcome model v{promo['version']}: {verdict} ({promo['reason']}).")
    style = report.get("playstyle", {})
    if "version" in style:
        lines.append(f"Playstyle model v{style['version']}: {_roles(style['roles'])}.")
    elif style:
        lines.append(f"Playstyle model: not fitted ({style.get('skipped')}).")
    return "\n".join(lines)


@flow(name="train-models")
def train_models() -> dict[str, Any]:
    """Load from the database (settings), train, evaluate, register, promote; playstyle."""
    from core.resources import Resources
    from pipelines.observability import observe_flows

    with Resources.open() as resources:
        observe_flows(resources.settings)
        sessions = resources.sessions
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
