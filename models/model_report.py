"""The match-outcome model's public report: what the Model report page and
GET /api/models/match-outcome show.

The champion's version, its training and evaluation windows, its held-out metrics next to the
FACEIT Elo formula (and, on the demo league, the oracle), its reliability curve with the count
of matches per bin, and the live record: every prediction the product served for a match before
it was played, scored once the match's result is stored.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import numpy as np
from sqlalchemy.orm import Session

from models import registry


def score_record(records: Sequence[registry.RecordedPrediction]) -> dict[str, Any]:
    """How the served predictions scored: counts, and log-loss, Brier score and accuracy of
    the ones whose match has finished (None until one has)."""
    done = [r for r in records if r.faction1_won is not None]
    summary: dict[str, Any] = {
        "served": len(records),
        "finished": len(done),
        "pending": len(records) - len(done),
        "logloss": None,
        "brier": None,
        "accuracy": None,
    }
    if done:
        p = np.clip(np.array([r.p_faction1 for r in done]), 1e-15, 1 - 1e-15)
        y = np.array([1.0 if r.faction1_won else 0.0 for r in done])
        summary["logloss"] = float(-np.mean(y * np.log(p) + (1 - y) * np.log1p(-p)))
        summary["brier"] = float(np.mean((p - y) ** 2))
        summary["accuracy"] = float(np.mean((p > 0.5) == (y > 0.5)))
    summary["recent"] = [
        {
            "match_id": r.match_id,
            "model_version": r.model_version,
            "map": r.map,
            "p_faction1": r.p_faction1,
            "served_at": r.served_at.astimezone(UTC).isoformat(),
            "faction1_won": r.faction1_won,
        }
        for r in records[:20]
    ]
    return summary


def _iso(value: datetime | int | float | None) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        stamp = value if value.tzinfo else value.replace(tzinfo=UTC)
    else:
        stamp = datetime.fromtimestamp(float(value), tz=UTC)
    return stamp.isoformat()


def match_outcome_report(session: Session) -> dict[str, Any] | None:
    """The champion's report, or None before a model has been trained and promoted."""
    version = registry.champion(session, registry.MATCH_OUTCOME)
    if version is None:
        return None
    stored: dict[str, Any] = dict(version.metrics or {})
    contenders = dict(stored.get("contenders") or {})
    if not contenders:  # a version registered before the report existed: its flat metrics
        contenders = {
            "model": {k: stored.get(k) for k in ("logloss", "brier", "auc", "accuracy", "ece")},
            "elo": stored.get("elo_baseline") or {},
        }
    return {
        "version": version.version,
        "learner": stored.get("learner", "XGBoost"),
        "feature_version": version.feature_version,
        "trained_at": _iso(version.created_at),
        "training_window": {"start": _iso(version.train_start), "end": _iso(version.train_end)},
        "selection_window": {
            "start": _iso(stored.get("selection_start")),
            "end": _iso(stored.get("selection_end")),
        },
        "evaluation_window": {
            "start": _iso(stored.get("eval_start")),
            "end": _iso(stored.get("eval_end")),
        },
        "metrics": contenders,
        "reliability": list(stored.get("reliability") or []),
        "live": score_record(registry.track_record(session, registry.MATCH_OUTCOME)),
    }
