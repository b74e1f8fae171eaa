"""Pre-match win probability for two 5-player lineups on a map (XGBoost + Platt calibration).

Split by responsibility: :mod:`.features` (prior features, dataset, lineup rows),
:mod:`.model` (the model, training, calibration), :mod:`.evaluation` (time split, metrics, the
Elo baseline) and :mod:`.serving` (predictions with explanations, veto advice). The public names
are re-exported here, so ``from models import match_outcome as mo; mo.train(...)`` works.
"""

from models.match_outcome.evaluation import (
    Split,
    dataset_window,
    elo_expected,
    evaluate,
    expected_calibration_error,
    metrics,
    nan_to_none,
    time_split,
)
from models.match_outcome.features import (
    DIFF_FEATURES,
    FEATURE_VERSION,
    FEATURES,
    LABELS,
    NEXT_MATCH_ID,
    PLAYER_FEATURES,
    STATS,
    SUM_FEATURES,
    build_dataset,
    feature_matrix,
    lineup_features,
    load_training_frames,
    normalise_frames,
    player_prior_features,
    team_features,
)
from models.match_outcome.model import (
    DEFAULT_PARAMS,
    DEFAULT_ROUNDS,
    MatchOutcomeModel,
    both_orientations,
    fit_platt_slope,
    train,
)
from models.match_outcome.serving import (
    Prediction,
    explain,
    explanation_sentences,
    predict,
    predict_from_history,
    veto_advice,
)

__all__ = [
    "DEFAULT_PARAMS",
    "DEFAULT_ROUNDS",
    "DIFF_FEATURES",
    "FEATURES",
    "FEATURE_VERSION",
    "LABELS",
    "NEXT_MATCH_ID",
    "PLAYER_FEATURES",
    "STATS",
    "SUM_FEATURES",
    "MatchOutcomeModel",
    "Prediction",
    "Split",
    "both_orientations",
    "build_dataset",
    "dataset_window",
    "elo_expected",
    "evaluate",
    "expected_calibration_error",
    "explain",
    "explanation_sentences",
    "feature_matrix",
    "fit_platt_slope",
    "lineup_features",
    "load_training_frames",
    "metrics",
    "nan_to_none",
    "normalise_frames",
    "player_prior_features",
    "predict",
    "predict_from_history",
    "team_features",
    "time_split",
    "train",
    "veto_advice",
]
