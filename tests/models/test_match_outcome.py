"""Match-outcome model: symmetry, time split, no leakage, explanations, serialisation."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from core.cs2 import MAP_POOL
from core.demo_league import League
from models import match_outcome as mo


def swapped(model: mo.MatchOutcomeModel, x: np.ndarray) -> np.ndarray:
    return x * model.signs


def test_dataset_shape_and_labels(dataset: pl.DataFrame, small_league: League) -> None:
    assert dataset.height == small_league.n_matches
    assert set(mo.FEATURES) <= set(dataset.columns)
    truth = dict(zip(small_league.match_ids, small_league.winner == 0, strict=True))
    assert all(bool(y) == truth[m] for m, y in zip(dataset["match_id"], dataset["y"], strict=True))
    assert dataset.select(pl.col(list(mo.FEATURES)).is_null().any()).row(0) == tuple(
        False for _ in mo.FEATURES
    )


def test_swap_gives_exactly_one_minus_p(model: mo.MatchOutcomeModel, split: mo.Split) -> None:
    x = mo.feature_matrix(split.evaluation, model.features)
    p = model.predict_proba(x)
    q = model.predict_proba(swapped(model, x))
    assert np.max(np.abs(p + q - 1.0)) < 1e-9
    assert p.min() > 0.0 and p.max() < 1.0


def test_time_split_never_trains_on_the_future(split: mo.Split, dataset: pl.DataFrame) -> None:
    assert split.train.height + split.calibration.height + split.evaluation.height == (
        dataset.height
    )
    assert split.train["ts"].max() <= split.calibration["ts"].min()
    assert split.calibration["ts"].max() <= split.evaluation["ts"].min()
    assert split.train["ts"].max() <= split.evaluation["ts"].min()
    assert abs(split.train.height / dataset.height - 0.7) < 0.01
    assert not set(split.train["match_id"]) & set(split.evaluation["match_id"])


def test_features_use_only_earlier_matches(league_history: pl.DataFrame) -> None:
    mp = league_history
    order = mp.sort("ts")
    cut = order["ts"][order.height // 2]
    base = mo.build_dataset(mp)
    # perturb every later match: stats, results and Elo-after change wildly
    later = pl.col("ts") >= cut
    noisy = mp.with_columns(
        pl.when(later).then(pl.col("kills") * 3 + 7).otherwise(pl.col("kills")).alias("kills"),
        pl.when(later).then(0).otherwise(pl.col("deaths")).alias("deaths"),
        pl.when(later).then(~pl.col("result")).otherwise(pl.col("result")).alias("result"),
        pl.when(later).then(pl.col("damage") * 2).otherwise(pl.col("damage")).alias("damage"),
        pl.when(later)
        .then(pl.col("sniper_kills") + 9)
        .otherwise(pl.col("sniper_kills"))
        .alias("sniper_kills"),
        pl.when(later).then(pl.col("assists") + 5).otherwise(pl.col("assists")).alias("assists"),
        # the team scores (the kill and death shares' denominators) swap
        pl.when(later)
        .then(pl.col("faction2_score"))
        .otherwise(pl.col("faction1_score"))
        .alias("faction1_score"),
        pl.when(later)
        .then(pl.col("faction1_score"))
        .otherwise(pl.col("faction2_score"))
        .alias("faction2_score"),
    )
    changed = mo.build_dataset(noisy)
    cols = ["match_id", *mo.FEATURES]
    before = base.filter(pl.col("ts") < cut).select(cols)
    after = changed.filter(pl.col("ts") < cut).select(cols)
    assert before.height > 100
    assert before.equals(after)
    # the matches at or after the cut do see the perturbed history (the test has teeth)
    late_base = base.filter(pl.col("ts") > cut).select(cols)
    late_changed = changed.filter(pl.col("ts") > cut).select(cols)
    assert not late_base.equals(late_changed)


def test_row_features_ignore_own_match(league_history: pl.DataFrame) -> None:
    mp = league_history
    last = mp.sort("ts", "match_id")["match_id"][-1]
    noisy = mp.with_columns(
        pl.when(pl.col("match_id") == last).then(99).otherwise(pl.col("kills")).alias("kills")
    )
    a = mo.build_dataset(mp).filter(pl.col("match_id") == last)
    b = mo.build_dataset(noisy).filter(pl.col("match_id") == last)
    assert a.select(mo.FEATURES).equals(b.select(mo.FEATURES))


def test_contributions_sum_to_margin(model: mo.MatchOutcomeModel, split: mo.Split) -> None:
    x = mo.feature_matrix(split.evaluation.head(50), model.features)
    contrib = model.contributions(x)
    m_ab, m_ba = model.margins(x)
    assert np.allclose(contrib.sum(axis=1), m_ab, atol=1e-4)
    sym = model.symmetric_contributions(x)
    assert np.allclose(sym.sum(axis=1), 0.5 * (m_ab - m_ba), atol=1e-4)


def test_save_and_reload_predicts_identically(model: mo.MatchOutcomeModel, split: mo.Split) -> None:
    data = model.to_bytes()
    assert b"pickle" not in data[:200]
    again = mo.MatchOutcomeModel.from_bytes(data)
    assert again.features == model.features
    assert again.calibration_slope == model.calibration_slope
    x = mo.feature_matrix(split.evaluation, model.features)
    assert np.array_equal(model.predict_proba(x), again.predict_proba(x))


def test_model_beats_elo_on_held_out(
    model: mo.MatchOutcomeModel, split: mo.Split, small_league: League
) -> None:
    oracle = dict(zip(small_league.match_ids, small_league.p_faction1.tolist(), strict=True))
    report = mo.evaluate(model, split.evaluation, oracle)
    assert set(report) == {"model", "elo", "oracle"}
    assert report["model"]["logloss"] < report["elo"]["logloss"]
    assert report["oracle"]["logloss"] < report["elo"]["logloss"]
    for row in report.values():
        assert set(row) >= {"logloss", "brier", "auc", "accuracy", "ece"}
        assert 0.0 <= row["ece"] <= 1.0


def test_metrics_on_known_values() -> None:
    y = np.array([1, 0, 1, 0])
    p = np.array([0.9, 0.1, 0.8, 0.3])
    m = mo.metrics(y, p)
    assert m["auc"] == 1.0 and m["accuracy"] == 1.0
    assert m["brier"] == pytest.approx(np.mean([0.01, 0.01, 0.04, 0.09]))
    assert m["logloss"] == pytest.approx(-np.mean(np.log([0.9, 0.9, 0.8, 0.7])))
    assert mo.elo_expected(1200, 1200) == pytest.approx(0.5)
    assert float(mo.elo_expected(1600, 1200)) == pytest.approx(10 / 11)


def test_predict_and_veto(
    model: mo.MatchOutcomeModel,
    league_history: pl.DataFrame,
    small_league: League,
) -> None:
    ids = small_league.player_ids
    a, b = ids[:5], ids[5:10]
    pred = mo.predict(model, a, b, "de_mirage", league_history)
    back = mo.predict(model, b, a, "de_mirage", league_history)
    assert 0 < pred.probability < 1
    assert pred.probability + back.probability == pytest.approx(1.0, abs=1e-9)
    assert pred.sentences and "largest factor" in pred.sentences[0]
    assert pred.factors[0]["effect_pct"] * back.factors[0]["effect_pct"] <= 0
    # latest state: the Elo used is each player's Elo after their last match
    history = mo.model_frame(league_history)
    row = mo.lineup_features(a, b, "de_mirage", history)
    last_elo = (
        history.filter(pl.col("player_id").is_in(a))
        .sort("ts")
        .group_by("player_id")
        .agg(pl.col("elo_after").last())["elo_after"]
        .mean()
    )
    assert row["elo_a"][0] == pytest.approx(last_elo)
    advice = mo.veto_advice(model, a, b, league_history)
    probs = advice["probabilities"]
    assert set(probs) == set(MAP_POOL)
    assert advice["pick"] == max(probs, key=probs.__getitem__)
    assert advice["bans"][0] == min(probs, key=probs.__getitem__)
    assert len(advice["bans"]) == 2 and advice["pick"] not in advice["bans"]


def test_database_shape_frames_work(league_history: pl.DataFrame) -> None:
    """The database's history knows only the Elo after each match: the Elo before is derived
    from the player's previous one, and the dataset is otherwise the league's."""
    db_shape = league_history.with_columns(pl.lit(None, dtype=pl.Int64).alias("elo_before"))
    ds = mo.build_dataset(db_shape)
    ref = mo.build_dataset(league_history)
    assert ds.height == ref.height
    assert ds["y"].to_list() == ref["y"].to_list()
    # elo_before derived from the previous elo_after equals the simulator's elo_before
    # everywhere except players' first matches (undone by one step)
    close = (ds["d_elo"] - ref["d_elo"]).abs() < 1e-6
    assert close.mean() > 0.5


def test_team_feature_arrays_equal_team_features(league_history: pl.DataFrame) -> None:
    """The array form a served prediction uses (no frame per request) computes every team
    feature as the frame form training uses, on real matches of the demo league."""
    players = mo.player_prior_features(mo.model_frame(league_history))
    matches = players["match_id"].unique(maintain_order=True).head(200).to_list()
    players = players.filter(pl.col("match_id").is_in(matches)).sort("match_id", "player_id")
    expected = mo.team_features(players).sort("match_id")
    teams = {
        faction: np.stack(
            [
                players.filter((pl.col("match_id") == m) & (pl.col("faction") == faction))
                .select(mo.TEAM_INPUTS)
                .to_numpy()
                for m in expected["match_id"]
            ]
        )
        for faction in (1, 2)
    }
    got = mo.team_feature_arrays(teams[1], teams[2])
    for column in (*mo.FEATURES, "elo_a", "elo_b"):
        want = expected[column].to_numpy()
        assert np.allclose(got[column], want, rtol=0, atol=1e-9), column
    assert set(mo.FEATURES) <= set(got)
