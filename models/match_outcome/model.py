"""The match-outcome model: XGBoost on both orientations of every match, slope-only Platt
calibration, symmetric predictions and contributions, UBJ serialisation.

:func:`train` fits an XGBoost booster on both orientations of every training match (as-is
with ``y`` and swapped with ``1 - y``) and a slope-only Platt calibration on the next time
slice. Predictions are symmetrised: ``p = 0.5 * (p(a, b) + 1 - p(b, a))``, then calibrated
with ``sigmoid(slope * logit(p))``, which is odd in the logit, so swapping the teams gives
exactly ``1 - p``.
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import polars as pl
import xgboost as xgb

from models.errors import IncompatibleModel
from models.match_outcome.evaluation import Split, dataset_window
from models.match_outcome.features import FEATURE_VERSION, FEATURES, feature_matrix
from models.match_outcome.linear import KIND as LINEAR_KIND
from models.match_outcome.linear import LinearOutcomeModel

DEFAULT_PARAMS: dict[str, Any] = {
    "objective": "binary:logistic",
    "eval_metric": "logloss",
    "tree_method": "hist",
    "max_depth": 4,
    "eta": 0.05,
    "subsample": 0.8,
    "colsample_bytree": 0.8,
    "min_child_weight": 20,
    "lambda": 2.0,
    # no nthread: XGBoost then takes OpenMP's thread count, so OMP_NUM_THREADS=1 holds a
    # worker to one thread (bench/scale.py measures the pool's scaling that way)
    "seed": 7,
}
DEFAULT_ROUNDS = 300


def _logit(p: np.ndarray) -> np.ndarray:
    q = np.clip(p, 1e-12, 1 - 1e-12)
    return np.log(q) - np.log1p(-q)


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * z))


def fit_platt_slope(z: np.ndarray, y: np.ndarray, iterations: int = 50) -> float:
    """Slope ``a`` minimising the log-loss of ``sigmoid(a * z)`` (no intercept: stays odd)."""
    a = 1.0
    for _ in range(iterations):
        p = _sigmoid(a * z)
        grad = float(np.sum((p - y) * z))
        hess = float(np.sum(p * (1 - p) * z * z)) + 1e-9
        step = grad / hess
        a -= step
        if abs(step) < 1e-10:
            break
    return float(a)


@dataclass
class MatchOutcomeModel:
    booster: xgb.Booster
    features: list[str]
    calibration_slope: float = 1.0
    feature_version: str = FEATURE_VERSION
    info: dict[str, Any] = field(default_factory=dict)

    @property
    def signs(self) -> np.ndarray:
        return np.array([-1.0 if f.startswith("d_") else 1.0 for f in self.features])

    def _dmatrix(self, x: np.ndarray) -> xgb.DMatrix:
        return xgb.DMatrix(x, feature_names=list(self.features))

    def margins(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Raw booster margins of (a vs b) and of the swapped rows (b vs a)."""
        m_ab = self.booster.predict(self._dmatrix(x), output_margin=True)
        m_ba = self.booster.predict(self._dmatrix(x * self.signs), output_margin=True)
        return m_ab.astype(np.float64), m_ba.astype(np.float64)

    def raw_proba(self, x: np.ndarray) -> np.ndarray:
        m_ab, m_ba = self.margins(x)
        return 0.5 * (_sigmoid(m_ab) + 1.0 - _sigmoid(m_ba))

    def predict_proba(self, x: np.ndarray) -> np.ndarray:
        """Calibrated P(faction1 / lineup A wins); swapping the teams gives exactly 1 - p."""
        return _sigmoid(self.calibration_slope * _logit(self.raw_proba(x)))

    def predict_frame(self, dataset: pl.DataFrame) -> np.ndarray:
        return self.predict_proba(feature_matrix(dataset, self.features))

    def contributions(self, x: np.ndarray) -> np.ndarray:
        """XGBoost feature contributions of the (a vs b) orientation: ``(n, n_features + 1)``,
        last column the bias; each row sums to the booster margin."""
        return np.asarray(self.booster.predict(self._dmatrix(x), pred_contribs=True))

    def symmetric_contributions(self, x: np.ndarray) -> np.ndarray:
        """0.5 * (contrib(a, b) - contrib(b, a)) per feature (the bias cancels)."""
        c_ab = self.contributions(x)[:, :-1]
        c_ba = np.asarray(self.booster.predict(self._dmatrix(x * self.signs), pred_contribs=True))[
            :, :-1
        ]
        return 0.5 * (c_ab - c_ba)

    def logit_terms(self, x: np.ndarray) -> np.ndarray:
        """The explanation: symmetric contributions in calibrated logit units (they sum to
        about the logit; exactly only before the symmetrisation of the probability)."""
        return self.calibration_slope * self.symmetric_contributions(x)

    # -- serialisation (XGBoost's own UBJ format, never pickle) ---------------------------
    def to_bytes(self) -> bytes:
        meta = {
            "kind": "match_outcome",
            "features": self.features,
            "calibration_slope": self.calibration_slope,
            "feature_version": self.feature_version,
            "info": self.info,
        }
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as zf:
            zf.writestr("model.ubj", bytes(self.booster.save_raw("ubj")))
            zf.writestr("meta.json", json.dumps(meta, sort_keys=True))
        return buffer.getvalue()

    @classmethod
    def from_bytes(cls, data: bytes) -> MatchOutcomeModel:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            meta = json.loads(zf.read("meta.json"))
            raw = zf.read("model.ubj")
        booster = xgb.Booster()
        booster.load_model(bytearray(raw))
        return cls(
            booster=booster,
            features=list(meta["features"]),
            calibration_slope=float(meta["calibration_slope"]),
            feature_version=str(meta["feature_version"]),
            info=dict(meta.get("info", {})),
        )


OutcomeModel = MatchOutcomeModel | LinearOutcomeModel
"""Either learner: the symmetric logistic champion or the XGBoost baseline."""


def load_model(data: bytes, *, feature_version: str = FEATURE_VERSION) -> OutcomeModel:
    """A registered match-outcome artifact, whichever learner wrote it (its ``kind``).

    Refused with :class:`~models.errors.IncompatibleModel` when it was built on another
    feature version than ``feature_version`` (this code's): the same column names may mean
    other things, so its answers would be wrong without any error.
    """
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        meta = json.loads(zf.read("meta.json"))
    built_on = meta.get("feature_version")
    if built_on != feature_version:
        raise IncompatibleModel(
            f"The match-outcome model was built on feature version {built_on!r}; this code "
            f"computes {feature_version!r}, so it has to be retrained."
        )
    kind = meta.get("kind")
    if kind == LINEAR_KIND:
        return LinearOutcomeModel.from_bytes(data)
    return MatchOutcomeModel.from_bytes(data)


def both_orientations(x: np.ndarray, y: np.ndarray, signs: np.ndarray) -> tuple[Any, Any]:
    return np.vstack([x, x * signs]), np.concatenate([y, 1.0 - y])


def train(
    split: Split,
    *,
    params: Mapping[str, Any] | None = None,
    num_rounds: int = DEFAULT_ROUNDS,
    features: Sequence[str] = FEATURES,
    early_stopping_rounds: int | None = 40,
) -> MatchOutcomeModel:
    """Fit on ``split.train`` (both orientations), calibrate on ``split.calibration``."""
    feats = list(features)
    signs = np.array([-1.0 if f.startswith("d_") else 1.0 for f in feats])
    x, y = both_orientations(
        feature_matrix(split.train, feats), split.train["y"].to_numpy().astype(np.float64), signs
    )
    p = {**DEFAULT_PARAMS, **(params or {})}
    dtrain = xgb.DMatrix(x, label=y, feature_names=feats)
    evals: list[tuple[xgb.DMatrix, str]] = []
    if split.calibration.height and early_stopping_rounds:
        xc, yc = both_orientations(
            feature_matrix(split.calibration, feats),
            split.calibration["y"].to_numpy().astype(np.float64),
            signs,
        )
        evals = [(xgb.DMatrix(xc, label=yc, feature_names=feats), "calibration")]
    booster = xgb.train(
        p,
        dtrain,
        num_boost_round=num_rounds,
        evals=evals,
        early_stopping_rounds=early_stopping_rounds if evals else None,
        verbose_eval=False,
    )
    if evals:
        best = booster.best_iteration
        booster = booster[: best + 1]
    model = MatchOutcomeModel(booster=booster, features=feats)
    if split.calibration.height:
        xc = feature_matrix(split.calibration, feats)
        yc = split.calibration["y"].to_numpy().astype(np.float64)
        z = _logit(model.raw_proba(xc))
        model.calibration_slope = fit_platt_slope(np.concatenate([z, -z]), np.r_[yc, 1 - yc])
    model.info = {
        "learner": "XGBoost",
        "trees": int(booster.num_boosted_rounds()),
        "train_rows": int(x.shape[0]),
    }
    model.info["train_start"], model.info["train_end"] = dataset_window(split.train)
    return model
