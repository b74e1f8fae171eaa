"""Match-outcome evaluation: the time split, metrics (log-loss, Brier, AUC, ECE), the Elo
baseline and the report of a model against it."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import polars as pl
from sklearn.metrics import roc_auc_score

if TYPE_CHECKING:
    from models.match_outcome.model import OutcomeModel


@dataclass(frozen=True)
class Split:
    train: pl.DataFrame
    calibration: pl.DataFrame
    evaluation: pl.DataFrame
    selection: pl.DataFrame = field(default_factory=pl.DataFrame)
    """Where champion and challenger are compared (between calibration and evaluation), so the
    reported evaluation metrics are not those of the window the champion was chosen on."""


def time_split(
    dataset: pl.DataFrame, fractions: tuple[float, float] = (0.7, 0.1), selection: float = 0.0
) -> Split:
    """Oldest ``fractions[0]`` for training, the next ``fractions[1]`` to calibrate, the next
    ``selection`` to choose the champion, the rest (newest) to evaluate. Rows are ordered by
    (``ts``, ``match_id``): no row of a window is later than any row of the next one."""
    data = dataset.filter(pl.col("y").is_not_null()).sort("ts", "match_id")
    n = data.height
    n_train = int(n * fractions[0])
    n_cal = int(n * fractions[1])
    n_sel = int(n * selection)
    return Split(
        train=data.slice(0, n_train),
        calibration=data.slice(n_train, n_cal),
        selection=data.slice(n_train + n_cal, n_sel),
        evaluation=data.slice(n_train + n_cal + n_sel),
    )


def elo_expected(elo_a: Any, elo_b: Any) -> np.ndarray:
    """FACEIT/Elo expected score of team A from the teams' average Elo."""
    a = np.asarray(elo_a, dtype=np.float64)
    b = np.asarray(elo_b, dtype=np.float64)
    return np.asarray(1.0 / (1.0 + 10.0 ** ((b - a) / 400.0)))


def expected_calibration_error(y: np.ndarray, p: np.ndarray, bins: int = 10) -> float:
    idx = np.minimum((p * bins).astype(int), bins - 1)
    total = 0.0
    for b in range(bins):
        mask = idx == b
        if mask.any():
            total += mask.mean() * abs(float(p[mask].mean()) - float(y[mask].mean()))
    return float(total)


def metrics(y: Any, p: Any) -> dict[str, float]:
    """log-loss, Brier, AUC, accuracy and ECE (10 bins) of probabilities ``p``."""
    yy = np.asarray(y, dtype=np.float64)
    pp = np.clip(np.asarray(p, dtype=np.float64), 1e-15, 1 - 1e-15)
    logloss = float(-np.mean(yy * np.log(pp) + (1 - yy) * np.log1p(-pp)))
    auc = float(roc_auc_score(yy, pp)) if 0 < yy.sum() < len(yy) else float("nan")
    return {
        "logloss": logloss,
        "brier": float(np.mean((pp - yy) ** 2)),
        "auc": auc,
        "accuracy": float(np.mean((pp > 0.5) == (yy > 0.5))),
        "ece": expected_calibration_error(yy, pp),
        "n": float(len(yy)),
    }


def reliability(y: Any, p: Any, bins: int = 10) -> list[dict[str, Any]]:
    """The reliability curve: per probability bin its bounds, the number of matches, their
    mean predicted probability and the observed win rate (None for an empty bin). The same
    bins as :func:`expected_calibration_error`."""
    yy = np.asarray(y, dtype=np.float64)
    pp = np.asarray(p, dtype=np.float64)
    idx = np.minimum((pp * bins).astype(int), bins - 1)
    out = []
    for b in range(bins):
        mask = idx == b
        n = int(mask.sum())
        out.append(
            {
                "low": b / bins,
                "high": (b + 1) / bins,
                "n": n,
                "mean_p": float(pp[mask].mean()) if n else None,
                "win_rate": float(yy[mask].mean()) if n else None,
            }
        )
    return out


def evaluate(
    model: OutcomeModel,
    dataset: pl.DataFrame,
    oracle: Mapping[str, float] | Sequence[float] | np.ndarray | None = None,
) -> dict[str, dict[str, float]]:
    """Metrics of the model, the Elo baseline and (given true probabilities) the oracle.

    ``oracle`` is either a match_id -> P(faction1 wins) mapping or an array aligned with
    ``dataset``'s rows.
    """
    y = dataset["y"].to_numpy().astype(np.float64)
    report = {
        "model": metrics(y, model.predict_frame(dataset)),
        "elo": metrics(y, elo_expected(dataset["elo_a"].to_numpy(), dataset["elo_b"].to_numpy())),
    }
    if oracle is not None:
        if isinstance(oracle, Mapping):
            p_oracle = np.array([oracle[m] for m in dataset["match_id"]], dtype=np.float64)
        else:
            p_oracle = np.asarray(oracle, dtype=np.float64)
        report["oracle"] = metrics(y, p_oracle)
    return report


def dataset_window(dataset: pl.DataFrame) -> tuple[int | None, int | None]:
    if not dataset.height:
        return None, None
    first, last = dataset.select(pl.col("ts").min().alias("a"), pl.col("ts").max().alias("b")).row(
        0
    )
    return int(first), int(last)


def nan_to_none(values: Mapping[str, Any]) -> dict[str, Any]:
    """JSON-safe metrics (NaN -> None), recursively."""
    out: dict[str, Any] = {}
    for k, v in values.items():
        if isinstance(v, Mapping):
            out[k] = nan_to_none(v)
        elif isinstance(v, float) and math.isnan(v):
            out[k] = None
        else:
            out[k] = v
    return out
