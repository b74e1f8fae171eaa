"""The symmetric logistic match-outcome model: right on lineups users type, not only matchmade."""

from __future__ import annotations

import itertools

import numpy as np
import polars as pl
import pytest

from core.demo_league import League
from models import match_outcome as mo
from models.match_outcome import linear as lin


@pytest.fixture(scope="module")
def linear(split: mo.Split) -> lin.LinearOutcomeModel:
    return lin.train_linear(split.train, split.calibration)


@pytest.fixture(scope="module")
def history(league_history: pl.DataFrame) -> pl.DataFrame:
    return mo.model_frame(league_history)


def _by_elo(small_league: League) -> list[str]:
    order = np.argsort(small_league.elo)
    return [small_league.player_ids[i] for i in order]


def test_swapping_the_sides_gives_exactly_one_minus_p(
    linear: lin.LinearOutcomeModel, split: mo.Split
) -> None:
    x = linear.matrix(split.evaluation)
    p = linear.predict_proba(x)
    q = linear.predict_proba(x * linear.signs)
    assert np.max(np.abs(p + q - 1.0)) < 1e-12
    assert p.min() > 0.0 and p.max() < 1.0 and p.std() > 0.02


def test_raising_one_players_elo_never_lowers_his_teams_probability(
    linear: lin.LinearOutcomeModel, history: pl.DataFrame, small_league: League
) -> None:
    rng = np.random.default_rng(3)
    ids = small_league.player_ids
    for _ in range(5):
        ten = [ids[i] for i in rng.choice(len(ids), 10, replace=False)]
        a, b = ten[:5], ten[5:]
        probs = []
        for elo in (400.0, 900.0, 1400.0, 2200.0, 3200.0):
            row = mo.lineup_features(a, b, "de_nuke", history, current_elo={a[0]: elo})
            probs.append(float(linear.predict_frame(row)[0]))
        # (in this league the unbounded fit gives the current Elo a negative weight)
        assert all(later >= earlier - 1e-12 for earlier, later in itertools.pairwise(probs))


def test_five_strong_players_beat_five_weak_ones(
    linear: lin.LinearOutcomeModel, history: pl.DataFrame, small_league: League
) -> None:
    ranked = _by_elo(small_league)
    weak, strong = ranked[:5], ranked[-5:]
    p = float(linear.predict_frame(mo.lineup_features(strong, weak, "de_mirage", history))[0])
    q = float(linear.predict_frame(mo.lineup_features(weak, strong, "de_mirage", history))[0])
    assert p > 0.9
    assert abs(p + q - 1.0) < 1e-12


def test_explanation_terms_add_up_to_the_logit(
    linear: lin.LinearOutcomeModel, split: mo.Split
) -> None:
    x = linear.matrix(split.evaluation.head(50))
    terms = linear.terms(x)
    p = linear.predict_proba(x)
    np.testing.assert_allclose(1.0 / (1.0 + np.exp(-terms.sum(axis=1))), p, rtol=0, atol=1e-12)


def test_round_trip_through_bytes(linear: lin.LinearOutcomeModel, split: mo.Split) -> None:
    again = lin.LinearOutcomeModel.from_bytes(linear.to_bytes())
    assert again.features == linear.features
    np.testing.assert_array_equal(
        again.predict_frame(split.evaluation), linear.predict_frame(split.evaluation)
    )
    with pytest.raises(ValueError, match="not a linear match-outcome artifact"):
        lin.LinearOutcomeModel.from_bytes(
            mo.train(split, num_rounds=5, early_stopping_rounds=None).to_bytes()
        )


def test_the_elo_weight_stays_non_negative_even_when_the_data_says_otherwise() -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(0, 100, (2000, 2))
    y = (rng.random(2000) < 1 / (1 + np.exp(0.01 * x[:, 0] - 0.01 * x[:, 1]))).astype(float)
    free = lin.fit_weights(x, y)
    bounded = lin.fit_weights(x, y, lower=[0.0, None])
    assert free[0] < -0.005
    assert bounded[0] == 0.0 and bounded[1] > 0.005


def test_the_factors_shown_are_the_models_terms_and_add_up_to_the_move_from_50(
    linear: lin.LinearOutcomeModel,
    history: pl.DataFrame,
    league_history: pl.DataFrame,
    small_league: League,
) -> None:
    rng = np.random.default_rng(11)
    ids = small_league.player_ids
    for _ in range(5):
        ten = [ids[i] for i in rng.choice(len(ids), 10, replace=False)]
        a, b = ten[:5], ten[5:]
        row = mo.lineup_features(a, b, "de_inferno", history)
        x = linear.matrix(row)
        p = float(linear.predict_proba(x)[0])
        terms = dict(zip(linear.features, linear.terms(x)[0], strict=True))
        every = mo.explain(linear, x[0], "de_inferno", top=len(linear.features))
        # each factor is the model's own linear term, nothing else
        assert {f["feature"]: f["contribution"] for f in every} == pytest.approx(
            {k: v for k, v in terms.items() if abs(v) > 1e-9}
        )
        # in percentage points they add up to the probability's move away from 50%,
        # each with its term's sign
        assert sum(f["effect_pct"] for f in every) == pytest.approx(100 * (p - 0.5), abs=1e-9)
        assert all(np.sign(f["effect_pct"]) == np.sign(f["contribution"]) for f in every)
        # the prediction shows the three largest of them, in words
        shown = mo.predict(linear, a, b, "de_inferno", league_history).factors
        assert [f["feature"] for f in shown] == [f["feature"] for f in every[:3]]
        assert all(f["label"] and "{" not in f["label"] for f in shown)
