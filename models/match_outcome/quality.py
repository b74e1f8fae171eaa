"""Quality of the match-outcome model where users ask, not only where matchmaking plays.

The held-out matchmade matches have outcomes; typed lineups (five random players against five
random players, the top Elo fifth against the bottom fifth) do not, so they are scored by the
KL divergence to the true probability, which a demo league knows
(:func:`core.demo_league.lineup_oracle`). Baselines next to the model: the FACEIT Elo formula,
a refit Elo logistic curve, OpenSkill (PlackettLuce) rated match by match in time order and a
plain logistic regression. :func:`quality_report` computes every figure of
bench/model_quality.py and of notebook 2 (one home for both).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import polars as pl

from core.demo_league import MAPS, League, lineup_oracle
from models import history
from models.match_outcome.evaluation import (
    Split,
    dataset_window,
    elo_expected,
    metrics,
    time_split,
)
from models.match_outcome.features import (
    FEATURES,
    UNPLAYED_ZEROS,
    feature_matrix,
    model_frame,
    player_prior_features,
    team_features,
)
from models.match_outcome.linear import (
    LINEAR_FEATURES,
    fit_platt_slope,
    fit_weights,
    train_linear,
)
from models.match_outcome.model import MatchOutcomeModel, OutcomeModel, train

Predictor = Callable[[pl.DataFrame], np.ndarray]
"""Maps a dataset (match_outcome shape) to P(faction1 / lineup A wins)."""


def kl_bernoulli(p_true: np.ndarray, p: np.ndarray) -> float:
    """Mean KL(Bernoulli(p_true) || Bernoulli(p)) in nats."""
    t = np.clip(np.asarray(p_true, dtype=np.float64), 1e-12, 1 - 1e-12)
    q = np.clip(np.asarray(p, dtype=np.float64), 1e-12, 1 - 1e-12)
    return float(np.mean(t * np.log(t / q) + (1 - t) * np.log((1 - t) / (1 - q))))


def state_at(canonical: pl.DataFrame, ts: int, map_name: str) -> pl.DataFrame:
    """Every player's prior features for a match on ``map_name`` starting at ``ts``.

    One row per player with at least one match before ``ts`` (columns of
    ``player_prior_features`` plus ``n_prior``), computed exactly as for a real match: a next
    row is appended after each player's last match before ``ts``.
    """
    before = canonical.filter(pl.col("ts") < ts)
    last = (
        before.sort("ts")
        .group_by("player_id")
        .agg(pl.col("elo_after").last(), pl.col("elo_before").last(), pl.len().alias("n_prior"))
    )
    nxt = last.select(
        "player_id",
        pl.lit("__state__").alias("match_id"),
        pl.lit(ts, pl.Int64).alias("ts"),
        pl.lit(map_name).alias("map"),
        pl.lit(1, pl.Int8).alias("faction"),
        pl.lit(None, pl.Float64).alias("result"),
        pl.coalesce("elo_after", "elo_before").cast(pl.Float64).alias("elo_before"),
        pl.lit(None, pl.Float64).alias("elo_after"),
    ).with_columns(pl.lit(0.0).alias(c) for c in UNPLAYED_ZEROS)
    rows = pl.concat([before, nxt.select(before.columns)], how="vertical_relaxed")
    state = player_prior_features(rows).filter(pl.col("match_id") == "__state__")
    # in player order: the bench draws its hypothetical lineups from these rows by position, and
    # neither group_by nor join keeps an order, so the same seed drew other lineups run to run
    return state.join(last.select("player_id", "n_prior"), on="player_id").sort("player_id")


def lineup_dataset(
    state: pl.DataFrame, teams_a: np.ndarray, teams_b: np.ndarray, prefix: str
) -> pl.DataFrame:
    """The dataset rows (match_outcome shape, order of the lineups) of hypothetical matches
    ``teams_a[k]`` vs ``teams_b[k]``, given as row numbers of ``state``."""
    k = len(teams_a)
    ids = [f"{prefix}{i}" for i in range(k)]
    parts = []
    for faction, teams in ((1, teams_a), (2, teams_b)):
        rows = state[np.asarray(teams).ravel().tolist()]
        parts.append(
            rows.with_columns(
                pl.Series("match_id", np.repeat(ids, np.asarray(teams).shape[1])),
                pl.lit(faction, pl.Int8).alias("faction"),
            )
        )
    data = team_features(pl.concat(parts))
    order = pl.DataFrame({"match_id": ids, "_k": np.arange(k)})
    return data.join(order, on="match_id").sort("_k").drop("_k")


@dataclass
class LineupSlice:
    name: str
    dataset: pl.DataFrame
    oracle: np.ndarray


def lineup_slices(
    league: League,
    canonical: pl.DataFrame,
    ts: int,
    *,
    per_map: int = 300,
    seed: int = 0,
) -> list[LineupSlice]:
    """(b) five random players vs five random players and (c) five of the top Elo fifth vs five
    of the bottom fifth (sides at random), ``per_map`` lineups on every map of the pool, all at
    time ``ts``, each with its oracle probability."""
    rng = np.random.default_rng(seed)
    out: dict[str, list[tuple[pl.DataFrame, np.ndarray]]] = {"random": [], "lopsided": []}
    for map_name in MAPS:
        state = state_at(canonical, ts, map_name)
        index = np.array([league.player_index[p] for p in state["player_id"]])
        elo = state["elo"].to_numpy()
        n = state.height
        lo, hi = np.quantile(elo, [0.2, 0.8])
        top, bottom = np.flatnonzero(elo >= hi), np.flatnonzero(elo <= lo)
        picks = {
            "random": np.stack([rng.choice(n, 10, replace=False) for _ in range(per_map)]),
            "lopsided": np.stack(
                [
                    np.r_[rng.choice(top, 5, replace=False), rng.choice(bottom, 5, replace=False)]
                    for _ in range(per_map)
                ]
            ),
        }
        flip = rng.random(per_map) < 0.5
        picks["lopsided"][flip] = np.roll(picks["lopsided"][flip], 5, axis=1)
        for name, rows in picks.items():
            a, b = rows[:, :5], rows[:, 5:]
            data = lineup_dataset(state, a, b, f"{name}-{map_name}-")
            oracle = lineup_oracle(league, index[a], index[b], [map_name] * per_map, ts)
            out[name].append((data, oracle))
    return [
        LineupSlice(
            name,
            pl.concat([d for d, _ in parts], how="vertical_relaxed"),
            np.concatenate([o for _, o in parts]),
        )
        for name, parts in out.items()
    ]


def newcomer_mask(canonical: pl.DataFrame, dataset: pl.DataFrame, below: int = 10) -> np.ndarray:
    """Rows of ``dataset`` (matchmade) where at least one player had fewer than ``below``
    earlier matches."""
    prior = (
        canonical.sort("player_id", "ts", "match_id")
        .with_columns(pl.int_range(pl.len()).over("player_id").alias("n_prior"))
        .group_by("match_id")
        .agg(pl.col("n_prior").min().alias("min_prior"))
    )
    joined = dataset.select("match_id").join(
        prior, on="match_id", how="left", maintain_order="left"
    )
    return (joined["min_prior"].fill_null(0) < below).to_numpy()


def openskill_probabilities(canonical: pl.DataFrame, *, seeded: bool) -> dict[str, float]:
    """P(faction1 wins) of OpenSkill PlackettLuce for every match, rated in time order (each
    match predicted before its own result is applied). ``seeded``: a player's rating starts
    at ``mu = elo / 40, sigma = 4`` from his first recorded Elo instead of the default."""
    from openskill.models import PlackettLuce

    model = PlackettLuce()
    ratings: dict[str, Any] = {}
    out: dict[str, float] = {}
    rows = (
        canonical.sort("ts", "match_id")
        .group_by("match_id", maintain_order=True)
        .agg("ts", "player_id", "faction", "result", "elo_before")
    )
    for match_id, _ts, players, factions, results, elos in rows.iter_rows():
        teams: list[list[Any]] = [[], []]
        team_ids: list[list[str]] = [[], []]
        for p, f, e in zip(players, factions, elos, strict=True):
            if p not in ratings:
                ratings[p] = model.rating(mu=e / 40.0, sigma=4.0) if seeded else model.rating()
            teams[int(f) - 1].append(ratings[p])
            team_ids[int(f) - 1].append(p)
        if not teams[0] or not teams[1]:
            continue
        out[match_id] = float(model.predict_win(teams)[0])
        won_1 = any(r == 1.0 for r, f in zip(results, factions, strict=True) if f == 1)
        rated = model.rate(teams, ranks=[0, 1] if won_1 else [1, 0])
        for ids, team in zip(team_ids, rated, strict=True):
            for p, r in zip(ids, team, strict=True):
                ratings[p] = r
    return out


def platt(z_cal: np.ndarray, y_cal: np.ndarray) -> Callable[[np.ndarray], np.ndarray]:
    """Odd logit recalibration fitted on a calibration window: p -> sigmoid(a * logit(p))."""
    slope = fit_platt_slope(np.concatenate([z_cal, -z_cal]), np.r_[y_cal, 1 - y_cal])
    return lambda z: 1.0 / (1.0 + np.exp(-slope * z))


def logit(p: np.ndarray) -> np.ndarray:
    q = np.clip(np.asarray(p, dtype=np.float64), 1e-12, 1 - 1e-12)
    return np.asarray(np.log(q) - np.log1p(-q))


def slice_table(
    predictors: Mapping[str, Predictor], slices: list[LineupSlice]
) -> dict[str, dict[str, float]]:
    """KL to the oracle of every predictor on every lineup slice: {slice: {predictor: kl}}."""
    return {
        s.name: {name: kl_bernoulli(s.oracle, f(s.dataset)) for name, f in predictors.items()}
        for s in slices
    }


@dataclass
class QualityReport:
    """Every figure of bench/model_quality.py (and notebook 2) for one league."""

    split: Split
    model: OutcomeModel
    xgboost: MatchOutcomeModel
    probabilities: dict[str, np.ndarray]
    """P(faction1 wins) on the evaluation matches, per predictor (and the oracle)."""
    matchmade: dict[str, dict[str, float]]
    """(a) per predictor: log-loss, Brier, AUC, accuracy, ECE, n and KL to the oracle."""
    newcomers: dict[str, dict[str, float]]
    """(d) matches with a player of fewer than 10 earlier matches: log-loss and KL."""
    newcomer_matches: int
    lineups: dict[str, dict[str, float]]
    """(b) "random" and (c) "lopsided": KL to the oracle per predictor."""
    seconds: dict[str, float]

    @property
    def gap_closed(self) -> float:
        """Share of the Elo formula -> oracle log-loss gap the model closes."""
        ll = {k: self.matchmade[k]["logloss"] for k in ("model", "elo", "oracle")}
        return (ll["elo"] - ll["model"]) / (ll["elo"] - ll["oracle"])

    @property
    def auc_gain(self) -> float:
        return self.matchmade["model"]["auc"] - self.matchmade["elo"]["auc"]


def quality_report(
    league: League,
    *,
    features: Sequence[str] = LINEAR_FEATURES,
    model: OutcomeModel | None = None,
    lineups_per_map: int = 300,
    seed: int = 0,
) -> QualityReport:
    """The model (trained here on the oldest 70%, or the given one, e.g. the registry's
    champion) against the XGBoost model, a plain logistic regression on the XGBoost features,
    the FACEIT formula, a refit Elo curve and OpenSkill, on the newest 20% of ``league``."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    seconds: dict[str, float] = {}
    canonical = model_frame(history.from_league(league))
    split = time_split(team_features(player_prior_features(canonical)))
    tr, cal, ev = split.train, split.calibration, split.evaluation
    y_ev = ev["y"].to_numpy().astype(np.float64)
    oracle_by_id = dict(zip(league.match_ids, league.p_faction1.tolist(), strict=True))
    p_oracle = np.array([oracle_by_id[m] for m in ev["match_id"]])

    t = time.perf_counter()
    candidate = model if model is not None else train_linear(tr, cal, features=features)
    seconds["fit_model"] = time.perf_counter() - t
    t = time.perf_counter()
    xgb_model = train(split)
    seconds["fit_xgboost"] = time.perf_counter() - t
    lr = make_pipeline(StandardScaler(), LogisticRegression(C=1.0, max_iter=1000))
    lr.fit(feature_matrix(tr, FEATURES), tr["y"].to_numpy())
    elo_w = fit_weights(tr.select("d_elo").to_numpy(), tr["y"].to_numpy().astype(float))[0]
    predictors: dict[str, Predictor] = {
        "model": candidate.predict_frame,
        "xgboost": xgb_model.predict_frame,
        "lr": lambda d: lr.predict_proba(feature_matrix(d, FEATURES))[:, 1],
        "elo": lambda d: elo_expected(d["elo_a"].to_numpy(), d["elo_b"].to_numpy()),
        "elo_fit": lambda d: 1.0 / (1.0 + np.exp(-elo_w * d["d_elo"].to_numpy())),
    }
    probs = {name: f(ev) for name, f in predictors.items()}

    t = time.perf_counter()
    os_raw = openskill_probabilities(canonical, seeded=False)
    os_seed = openskill_probabilities(canonical, seeded=True)
    cal_ids, ev_ids = cal["match_id"].to_list(), ev["match_id"].to_list()
    probs["openskill"] = np.array([os_raw[m] for m in ev_ids])
    recal = platt(logit(np.array([os_seed[m] for m in cal_ids])), cal["y"].to_numpy().astype(float))
    probs["openskill_seeded"] = recal(logit(np.array([os_seed[m] for m in ev_ids])))
    probs["oracle"] = p_oracle
    seconds["openskill"] = time.perf_counter() - t

    matchmade = {}
    for name, p in probs.items():
        matchmade[name] = metrics(y_ev, p)
        matchmade[name]["kl"] = kl_bernoulli(p_oracle, p)
    new = newcomer_mask(canonical, ev)
    newcomers = {
        name: {
            "logloss": metrics(y_ev[new], p[new])["logloss"],
            "kl": kl_bernoulli(p_oracle[new], p[new]),
        }
        for name, p in probs.items()
    }
    t = time.perf_counter()
    start, _ = dataset_window(ev)
    slices = lineup_slices(league, canonical, int(start or 0), per_map=lineups_per_map, seed=seed)
    lineups = slice_table(predictors, slices)
    seconds["lineups"] = time.perf_counter() - t
    return QualityReport(
        split=split,
        model=candidate,
        xgboost=xgb_model,
        probabilities=probs,
        matchmade=matchmade,
        newcomers=newcomers,
        newcomer_matches=int(new.sum()),
        lineups=lineups,
        seconds=seconds,
    )
