"""Serving the match-outcome model: a lineup's win probability with its explanation, and
map-veto advice over the pool."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import polars as pl

from core.cs2 import MAP_LABELS, MAP_POOL
from models.match_outcome.evaluation import elo_expected
from models.match_outcome.features import LABELS, feature_matrix, lineup_features, model_frame
from models.match_outcome.model import OutcomeModel


def _label(feature: str, map_name: str | None) -> str:
    label = LABELS.get(feature, feature)
    return label.format(map=MAP_LABELS.get(map_name or "", map_name or "this map"))


def explain(
    model: OutcomeModel, x_row: np.ndarray, map_name: str | None = None, top: int = 3
) -> list[dict[str, Any]]:
    """Top factors of one prediction (A's point of view), largest absolute effect first.

    Each factor: ``feature``, ``label``, ``contribution`` (the model's own term in logit units:
    for the linear model they sum exactly to the logit) and ``effect_pct``: the term's share of
    the move away from 50%, in percentage points. All the effects together add up to
    ``100 * (p - 0.5)``, and each has the sign of its term, so a factor pushing towards team A
    is positive.
    """
    x = np.atleast_2d(x_row)
    contrib = model.logit_terms(x)[0]
    p = float(model.predict_proba(x)[0])
    total = float(contrib.sum())
    # the chord slope of the sigmoid from 0 to the logit (its slope at 0 when the logit is 0)
    scale = 100.0 * ((p - 0.5) / total if abs(total) > 1e-9 else 0.25)
    order = np.argsort(-np.abs(contrib))[:top]
    return [
        {
            "feature": model.features[i],
            "label": _label(model.features[i], map_name),
            "contribution": float(contrib[i]),
            "effect_pct": float(contrib[i] * scale),
        }
        for i in order
        if abs(contrib[i]) > 1e-9
    ]


def explanation_sentences(factors: Sequence[Mapping[str, Any]]) -> list[str]:
    """E.g. "Your team's Mirage win rate is the largest factor, +6%"."""
    sentences = []
    for i, f in enumerate(factors):
        pct = f"{f['effect_pct']:+.0f}%"
        if i == 0:
            sentences.append(f"Your team's {f['label']} is the largest factor, {pct}")
        else:
            sentences.append(f"Your team's {f['label']}: {pct}")
    return sentences


@dataclass
class Prediction:
    probability: float
    elo_probability: float
    map: str
    factors: list[dict[str, Any]]
    sentences: list[str]


def predict(
    model: OutcomeModel,
    lineup_a: Sequence[str],
    lineup_b: Sequence[str],
    map_name: str,
    history: pl.DataFrame,
    *,
    current_elo: Mapping[str, float] | None = None,
    top: int = 3,
) -> Prediction:
    """P(lineup A beats lineup B on ``map_name``) with an explanation, from the players'
    match history (a models.history frame)."""
    return _predict(model, lineup_a, lineup_b, map_name, model_frame(history), current_elo, top)


def _predict(
    model: OutcomeModel,
    lineup_a: Sequence[str],
    lineup_b: Sequence[str],
    map_name: str,
    frame: pl.DataFrame,
    current_elo: Mapping[str, float] | None,
    top: int = 3,
) -> Prediction:
    row = lineup_features(lineup_a, lineup_b, map_name, frame, current_elo=current_elo)
    x = feature_matrix(row, model.features)
    factors = explain(model, x[0], map_name, top=top)
    return Prediction(
        probability=float(model.predict_proba(x)[0]),
        elo_probability=float(elo_expected(row["elo_a"][0], row["elo_b"][0])),
        map=map_name,
        factors=factors,
        sentences=explanation_sentences(factors),
    )


def veto_advice(
    model: OutcomeModel,
    lineup_a: Sequence[str],
    lineup_b: Sequence[str],
    history: pl.DataFrame,
    *,
    pool: Sequence[str] = MAP_POOL,
    n_bans: int = 2,
    current_elo: Mapping[str, float] | None = None,
) -> dict[str, Any]:
    """Win probability of lineup A per map of the pool; ban the lowest, pick the highest."""
    frame = model_frame(history)
    per_map = {m: _predict(model, lineup_a, lineup_b, m, frame, current_elo) for m in pool}
    ranked = sorted(pool, key=lambda m: (-per_map[m].probability, m))
    return {
        "probabilities": {m: per_map[m].probability for m in ranked},
        "pick": ranked[0],
        "bans": list(reversed(ranked[-n_bans:])) if n_bans else [],
        "reasons": {m: per_map[m].sentences for m in ranked},
    }
