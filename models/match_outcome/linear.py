"""The symmetric logistic match-outcome model: right on matchmade lobbies AND on typed lineups.

Why linear: matchmaking balances teams, so the training data holds almost no Elo gap above
~130. Trees extrapolate flat outside what they saw (a +800 Elo lineup came out at 0.54); a
linear logit keeps the FACEIT-like Elo curve everywhere and, measured by bench/model_quality.py,
also scores better than the trees on matchmade lobbies.

The model
---------
``logit P(A wins) = sum_i w_i * d_i`` over difference features only (team A's mean minus team
B's), no intercept: swapping the sides negates every ``d_i`` and gives exactly ``1 - p``. Team
features are means, so a player counts as one fifth of a team; lineups of unequal size are
refused (:class:`~models.match_outcome.features.UnequalLineups`: FACEIT is five against five).
``d_elo`` is the current team Elo gap and ``d_elo_10`` the gap of the players' Elo ten matches
ago (the current one for a player with fewer matches); both weights are bounded ``>= 0`` in the
fit, as are the Elo averages' (``d_elo_avg_*`` and the recency-weighted ``d_elo_e*``, which count
the current Elo), which makes the probability monotone in every player's current Elo. Fitted by
L-BFGS-B (scipy, bounds) with an L2 penalty on standardized inputs (a fixed prior: stronger on
small data) and, on 20,000 matches or more, recency weights; then a slope-only Platt calibration
on the next time slice (odd, so symmetry holds).

Explanations are the linear terms ``w_i * d_i``: they sum exactly to the logit.
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import polars as pl
from scipy.optimize import minimize

from models.match_outcome.evaluation import dataset_window
from models.match_outcome.features import (
    FEATURE_VERSION,
    HALF_LIVES,
    SHARE_WINDOWS,
    feature_matrix,
)

KIND = "match_outcome_linear"
LEARNER = "symmetric logistic regression"

LINEAR_FEATURES: tuple[str, ...] = (
    "d_elo",
    "d_elo_10",
    "d_games",
    "d_win_rate_20",
    "d_kd_10",
    "d_kd_all",
    "d_adr_20",
    "d_kpr_20",
    "d_prev_loss",
    "d_map_win_rate",
    "d_map_kd_rel",
    "d_map_kpr_rel",
    "d_map_games",
    "d_entry_rate",
    "d_awpers",
    "d_premade",
    *(f"d_elo_avg_{n}" for n in SHARE_WINDOWS),
    *(f"d_kill_share_{n}" for n in (*SHARE_WINDOWS, "all")),
    *(f"d_death_share_{n}" for n in (*SHARE_WINDOWS, "all")),
    "d_sniper_share",
    "d_assists_pr",
    "d_utility_dpr",
    "d_flashes_pr",
    *(f"d_{k}_e{h}" for h in HALF_LIVES for k in ("elo", "kill_share", "death_share")),
    *(f"d_mate_gap_e{h}" for h in HALF_LIVES),
    "d_map_kill_share_rel",
    "d_map_death_share_rel",
)
MONOTONE_UP: tuple[str, ...] = (
    "d_elo",
    "d_elo_10",
    *(f"d_elo_avg_{n}" for n in SHARE_WINDOWS),
    *(f"d_elo_e{h}" for h in HALF_LIVES),
)
"""Features whose weight is bounded >= 0: each grows with a player's current Elo, so a higher
team Elo never lowers the probability."""
L2 = 1e-4
"""Ridge penalty per row on standardized weights (the default of :func:`fit_weights`)."""
PRIOR = 10.0
"""Ridge penalty of a fit on n matches: ``max(L2, PRIOR / n)`` per row, a fixed prior on the
standardized weights, so a small league (the default demo set-up trains on ~700 matches) is
held closer to zero than a large one."""
HALF_LIFE = 0.3
"""Recency weights of a fit on at least :data:`RECENCY_FROM` matches: a match's weight halves
every 30% of the training window counted back from its newest match, because the players'
histories lengthen as the data grows (100 earlier matches mean less in the first months) and
the newest matches are the best guide to the next ones (bench/model_quality.py on 42,000
training matches: gap closed 0.763 -> 0.777 on seed 9001, 0.801 -> 0.816 on 4242)."""
RECENCY_FROM = 20_000
"""Below this many training matches the recency weights cost more (fewer effective matches)
than they earn: on 840-3,500 they lost 0.003-0.02 nats."""


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * z))


def _log1pexp(z: np.ndarray) -> np.ndarray:
    return np.logaddexp(0.0, z)


def fit_weights(
    x: np.ndarray,
    y: np.ndarray,
    *,
    lower: Sequence[float | None] | None = None,
    l2: float = L2,
    weight: np.ndarray | None = None,
) -> np.ndarray:
    """No-intercept logistic weights minimising the (``weight``-ed) mean log-loss + ``l2 *
    |w_std|^2`` with bounds.

    Inputs are scaled by their root mean square (not centred: centring would add an implicit
    intercept and break the symmetry), the fit runs in that scale and the weights come back in
    the original units.
    """
    scale = np.sqrt(np.mean(x * x, axis=0))
    scale[scale == 0] = 1.0
    xs = x / scale
    n = len(y)
    sign = 2.0 * y - 1.0
    rw = np.ones(n) if weight is None else np.asarray(weight, dtype=np.float64) * n / np.sum(weight)

    def loss(w: np.ndarray) -> tuple[float, np.ndarray]:
        z = xs @ w
        value = float(np.sum(rw * _log1pexp(-sign * z))) / n + l2 * float(w @ w)
        grad = xs.T @ (-sign * rw * _sigmoid(-sign * z)) / n + 2.0 * l2 * w
        return value, grad

    bounds = [(lo, None) for lo in (lower or [None] * x.shape[1])]
    result = minimize(loss, np.zeros(x.shape[1]), jac=True, method="L-BFGS-B", bounds=bounds)
    return np.asarray(result.x / scale, dtype=np.float64)


def fit_platt_slope(z: np.ndarray, y: np.ndarray) -> float:
    """Slope ``a >= 0`` of ``sigmoid(a * z)`` minimising log-loss (no intercept: stays odd)."""
    return float(fit_weights(z[:, None], y, lower=[0.0], l2=0.0)[0])


@dataclass
class LinearOutcomeModel:
    weights: np.ndarray
    features: list[str]
    calibration_slope: float = 1.0
    feature_version: str = FEATURE_VERSION
    info: dict[str, Any] = field(default_factory=dict)

    @property
    def signs(self) -> np.ndarray:
        """Swapping the sides negates every feature (all are differences)."""
        return -np.ones(len(self.features))

    def terms(self, x: np.ndarray) -> np.ndarray:
        """Calibrated logit contributions ``(n, n_features)``; each row sums to the logit."""
        return np.atleast_2d(x) * (self.weights * self.calibration_slope)

    def logit(self, x: np.ndarray) -> np.ndarray:
        return np.asarray(self.terms(x).sum(axis=1))

    def predict_proba(self, x: np.ndarray) -> np.ndarray:
        """P(faction1 / lineup A wins); swapping the teams gives exactly 1 - p."""
        return _sigmoid(self.logit(x))

    def predict_frame(self, dataset: pl.DataFrame) -> np.ndarray:
        return self.predict_proba(feature_matrix(dataset, self.features))

    def matrix(self, dataset: pl.DataFrame) -> np.ndarray:
        return feature_matrix(dataset, self.features)

    def logit_terms(self, x: np.ndarray) -> np.ndarray:
        """The explanation: per-feature contributions that sum exactly to the logit."""
        return self.terms(x)

    def to_bytes(self) -> bytes:
        meta = {
            "kind": KIND,
            "features": self.features,
            "weights": [float(w) for w in self.weights],
            "calibration_slope": self.calibration_slope,
            "feature_version": self.feature_version,
            "info": self.info,
        }
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as zf:
            zf.writestr("meta.json", json.dumps(meta, sort_keys=True))
        return buffer.getvalue()

    @classmethod
    def from_bytes(cls, data: bytes) -> LinearOutcomeModel:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            meta = json.loads(zf.read("meta.json"))
        if meta.get("kind") != KIND:
            raise ValueError(f"not a linear match-outcome artifact (kind {meta.get('kind')!r})")
        return cls(
            weights=np.asarray(meta["weights"], dtype=np.float64),
            features=list(meta["features"]),
            calibration_slope=float(meta["calibration_slope"]),
            feature_version=str(meta["feature_version"]),
            info=dict(meta.get("info", {})),
        )


def _recency(n: int, half_life: float | None) -> np.ndarray | None:
    if half_life is None or not n:
        return None
    rank = np.arange(n, dtype=np.float64) / n
    return np.asarray(np.exp2((rank - 1.0) / half_life))  # 1 for the newest match


def train_linear(
    train: pl.DataFrame,
    calibration: pl.DataFrame,
    *,
    features: Sequence[str] = LINEAR_FEATURES,
    feature_version: str = FEATURE_VERSION,
    l2: float | None = None,
    half_life: float | None = None,
) -> LinearOutcomeModel:
    """Fit on ``train`` (time-ordered), calibrate the slope on ``calibration`` (the next time
    slice). ``l2`` and ``half_life`` (a share of the training rows) default by the number of
    training matches (:data:`PRIOR`, :data:`HALF_LIFE`, :data:`RECENCY_FROM`)."""
    feats = list(features)
    n = train.height
    x = feature_matrix(train, feats)
    y = train["y"].to_numpy().astype(np.float64)
    penalty = l2 if l2 is not None else max(L2, PRIOR / max(n, 1))
    recency = half_life if half_life is not None or n < RECENCY_FROM else HALF_LIFE
    lower = [0.0 if f in MONOTONE_UP else None for f in feats]
    model = LinearOutcomeModel(
        weights=fit_weights(x, y, lower=lower, l2=penalty, weight=_recency(n, recency)),
        features=feats,
        feature_version=feature_version,
    )
    if calibration.height:
        z = model.logit(feature_matrix(calibration, feats))
        model.calibration_slope = fit_platt_slope(z, calibration["y"].to_numpy().astype(float))
    start, end = dataset_window(train)
    model.info = {
        "learner": LEARNER,
        "train_rows": int(n),
        "l2": penalty,
        "half_life": recency,
        "train_start": start,
        "train_end": end,
    }
    return model
