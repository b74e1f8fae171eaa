"""Pre-match win probability for two 5-player lineups on a map.

The champion is the symmetric logistic model of :mod:`.linear` (right on lineups users type as
well as on matchmade lobbies); the XGBoost model of :mod:`.model` is kept as the baseline.

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
    reliability,
    time_split,
)
from models.match_outcome.features import (
    DIFF_FEATURES,
    FEATURE_VERSION,
    FEATURES,
    HISTORY_COLUMNS,
    LABELS,
    NEXT_MATCH_ID,
    PLAYER_FEATURES,
    STATS,
    SUM_FEATURES,
    TEAM_INPUTS,
    UNPLAYED_ZEROS,
    UnequalLineups,
    build_dataset,
    feature_matrix,
    lineup_features,
    model_frame,
    player_prior_features,
    team_feature_arrays,
    team_features,
)
from models.match_outcome.linear import LINEAR_FEATURES, LinearOutcomeModel, train_linear
from models.match_outcome.model import (
    DEFAULT_PARAMS,
    DEFAULT_ROUNDS,
    MatchOutcomeModel,
    OutcomeModel,
    both_orientations,
    fit_platt_slope,
    load_model,
    train,
)
from models.match_outcome.serving import (
    Prediction,
    explain,
    explanation_sentences,
    predict,
    veto_advice,
)

__all__ = [
    "DEFAULT_PARAMS",
    "DEFAULT_ROUNDS",
    "DIFF_FEATURES",
    "FEATURES",
    "FEATURE_VERSION",
    "HISTORY_COLUMNS",
    "LABELS",
    "LINEAR_FEATURES",
    "NEXT_MATCH_ID",
    "PLAYER_FEATURES",
    "STATS",
    "SUM_FEATURES",
    "TEAM_INPUTS",
    "UNPLAYED_ZEROS",
    "LinearOutcomeModel",
    "MatchOutcomeModel",
    "OutcomeModel",
    "Prediction",
    "Split",
    "UnequalLineups",
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
    "load_model",
    "metrics",
    "model_frame",
    "nan_to_none",
    "player_prior_features",
    "predict",
    "reliability",
    "team_feature_arrays",
    "team_features",
    "time_split",
    "train",
    "train_linear",
    "veto_advice",
]
