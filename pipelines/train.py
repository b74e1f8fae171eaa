"""Train, evaluate, register and promote the models (Prefect flow + a plain function for the CLI).

``train_models()`` is the Prefect flow (nightly deployment in pipelines/deployments.py);
``run_training(sessions)`` runs the same steps without Prefect (``faceit-ai train``), and
``format_report(report)`` renders the evaluation table.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any

import polars as pl
from prefect import flow, get_run_logger, task
from prefect.cache_policies import NONE
from sqlalchemy.orm import Session, sessionmaker

from core.cache import FeatureCache
from core.db import transaction
from core.settings import Settings
from models import features, history, peers, registry, serving_features
from models import match_outcome as mo
from models import playstyle as ps

Progress = Callable[[str, int, int], None]
STEPS = ("load", "dataset", "train", "evaluate", "register", "playstyle", "peers")
# the fewest matches with a result that train a model: the smallest demo league the settings
# allow (20 players, ~80 matches) must train, and 20% of 50 still leaves 10 matches to report on
MIN_MATCHES = 50
FRACTIONS = (0.6, 0.1)
SELECTION = 0.1


def _step(progress: Progress | None, name: str) -> None:
    if progress is not None:
        progress("training", STEPS.index(name) + 1, len(STEPS))


# what training reads of every stored match: the match-outcome model's and the stats
# vocabulary's columns (playstyle), nothing else
TRAINING_COLUMNS = tuple(dict.fromkeys((*mo.HISTORY_COLUMNS, *features.INPUT_COLUMNS)))


def load_history(session: Session) -> pl.DataFrame:
    """Every stored match, the training columns only (bench/train_load.py measures this)."""
    return history.load(session, columns=TRAINING_COLUMNS)


@task(name="load-training-data", cache_policy=NONE)
def load_data(sessions: sessionmaker[Session]) -> pl.DataFrame:
    """Every stored match history (models.history), the training columns."""
    with sessions() as session:
        return load_history(session)


@task(name="build-dataset", cache_policy=NONE)
def build_dataset(frame: pl.DataFrame) -> pl.DataFrame:
    return mo.build_dataset(frame)


def split_windows(dataset: pl.DataFrame) -> mo.Split:
    """Oldest 60% to fit, 10% to calibrate, 10% to choose the champion on, the newest 20% to
    report: the stored metrics come from a window that neither fitting nor the promotion saw."""
    return mo.time_split(dataset, FRACTIONS, selection=SELECTION)


@task(name="train-match-outcome", cache_policy=NONE)
def train_model(
    dataset: pl.DataFrame,
) -> tuple[mo.LinearOutcomeModel, mo.MatchOutcomeModel, mo.Split]:
    """The champion candidate (symmetric logistic) and the XGBoost baseline, on one split."""
    split = split_windows(dataset)
    labelled = sum(
        w.height for w in (split.train, split.calibration, split.selection, split.evaluation)
    )
    if labelled < MIN_MATCHES:
        raise ValueError(
            f"not enough matches to train ({labelled} with a result, {MIN_MATCHES} needed)"
        )
    return mo.train_linear(split.train, split.calibration), mo.train(split), split


@task(name="evaluate-match-outcome", cache_policy=NONE)
def evaluate_model(
    model: mo.OutcomeModel,
    baseline: mo.OutcomeModel,
    split: mo.Split,
    oracle: Mapping[str, float] | None = None,
) -> dict[str, Any]:
    """Held-out metrics of the candidate, the XGBoost baseline, the Elo formula and (on the
    demo league, where the true probabilities are known) the oracle."""
    ev = split.evaluation
    known = oracle is not None and all(m in oracle for m in ev["match_id"])
    report = mo.evaluate(model, ev, oracle if known else None)
    report["xgboost"] = mo.metrics(ev["y"].to_numpy(), baseline.predict_frame(ev))
    order = ("model", "xgboost", "elo", "oracle")
    return mo.nan_to_none({k: report[k] for k in order if k in report})


@task(name="register-and-promote", cache_policy=NONE)
def register_and_promote(
    sessions: sessionmaker[Session],
    model: mo.OutcomeModel,
    split: mo.Split,
    evaluation: dict[str, Any],
) -> dict[str, Any]:
    start, end = mo.dataset_window(split.train)
    eval_start, eval_end = mo.dataset_window(split.evaluation)
    selection_start, selection_end = mo.dataset_window(split.selection)
    ev = split.evaluation
    metrics = {
        **evaluation["model"],
        "elo_baseline": evaluation["elo"],
        "contenders": evaluation,
        "reliability": mo.reliability(ev["y"].to_numpy(), model.predict_frame(ev)),
        "learner": model.info.get("learner"),
        "eval_start": eval_start,
        "eval_end": eval_end,
        "selection_start": selection_start,
        "selection_end": selection_end,
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
        # champion and challenger meet on the selection window, never on the reported one
        decision = registry.promote_if_better(session, version, split.selection)
        return {"version": version.version, **decision.as_dict()}


@task(name="materialize-serving-features", cache_policy=NONE)
def materialize_serving(
    sessions: sessionmaker[Session], cache: FeatureCache | None, promotion: dict[str, Any]
) -> int:
    """A promotion makes every player's materialized serving row stale (they are keyed by the
    promoted model): rebuild them all now, so the first predictions need not. Rows written."""
    if not promotion.get("promoted"):
        return 0
    return serving_features.refresh(sessions, cache, None)


@task(name="fit-playstyle", cache_policy=NONE)
def fit_playstyle(sessions: sessionmaker[Session], frame: pl.DataFrame) -> dict[str, Any]:
    rates = ps.player_rates(frame)
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


@task(name="refresh-peer-table", cache_policy=NONE)
def refresh_peers(sessions: sessionmaker[Session]) -> dict[str, Any]:
    """The peer table (models.peers) up to date with the data the models were trained on."""
    return peers.refresh(sessions)


def demo_oracle(settings: Settings) -> dict[str, float] | None:
    """match id -> true P(faction1 wins) on the demo league (None with real FACEIT data)."""
    if not settings.uses_demo_league:
        return None
    from core.sources import demo_league

    league = demo_league(settings)
    return dict(zip(league.match_ids, league.p_faction1.tolist(), strict=True))


def run_training(
    sessions: sessionmaker[Session],
    progress: Progress | None = None,
    oracle: Mapping[str, float] | None = None,
) -> dict[str, Any]:
    """Every training step without Prefect; returns the report for :func:`format_report`.
    ``oracle`` (match id -> true probability, demo league only) adds the oracle's scores."""
    t0 = time.perf_counter()
    _step(progress, "load")
    frames = load_data.fn(sessions)
    _step(progress, "dataset")
    dataset = build_dataset.fn(frames)
    _step(progress, "train")
    model, baseline, split = train_model.fn(dataset)
    _step(progress, "evaluate")
    evaluation = evaluate_model.fn(model, baseline, split, oracle)
    _step(progress, "register")
    promotion = register_and_promote.fn(sessions, model, split, evaluation)
    materialize_serving.fn(sessions, None, promotion)
    _step(progress, "playstyle")
    playstyle = fit_playstyle.fn(sessions, frames)
    _step(progress, "peers")
    refresh_peers.fn(sessions)
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
        "selection": split.selection.height,
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
CONTENDERS = {
    "model": "match-outcome model",
    "xgboost": "XGBoost (baseline)",
    "elo": "Elo formula (baseline)",
    "oracle": "oracle (demo truth)",
}
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
        f"{report['calibration']:,} to calibrate, {report['selection']:,} to choose the "
        f"champion, {report['evaluation_rows']:,} held out to evaluate (the newest), "
        f"in {report['seconds']:.1f} s.",
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
        model, baseline, split = train_model(dataset)
        evaluation = evaluate_model(model, baseline, split, demo_oracle(resources.settings))
        promotion = register_and_promote(sessions, model, split, evaluation)
        materialize_serving(sessions, resources.cache, promotion)
        playstyle = fit_playstyle(sessions, frames)
        refresh_peers(sessions)
        report = _report(dataset, split, evaluation, promotion, playstyle, time.perf_counter() - t0)
        get_run_logger().info("training report:\n%s", format_report(report))
        return report
