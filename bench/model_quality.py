"""Match-outcome model quality where users ask: matchmade lobbies and typed lineups.

A fresh demo league (seed 9001 by default, used by no test), split in time. Reports, on the
held-out (newest) matches and at the start of that window:
(a) matchmade evaluation matches: log-loss, AUC, ECE against outcomes, KL to the oracle;
(b) five random players vs five random players, (c) top-Elo-fifth vs bottom-fifth lineups:
KL to the oracle probability (hypothetical lineups have no outcome);
(d) matchmade matches with a player who had fewer than 10 earlier matches.
Contenders: the symmetric logistic model (the champion candidate), the XGBoost model (the
previous champion, kept as a baseline), a plain logistic regression on the XGBoost model's 18
features, the FACEIT Elo formula, a refit Elo logistic curve and OpenSkill (PlackettLuce) rated
in time order (raw, and seeded from the first Elo with a Platt slope). Then the training time
of the candidate on 1,000,000 rows. The last line is one JSON object.
Run: ``uv run python bench/model_quality.py [--players 3000 --matches 60000 --seed 9001]``.
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np
import polars as pl
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from core.demo_league import generate_league
from models import match_outcome as mo
from models.match_outcome import linear as lin
from models.match_outcome import slices as sl


def _ll(y: np.ndarray, p: np.ndarray) -> float:
    return mo.metrics(y, p)["logloss"]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--players", type=int, default=3000)
    parser.add_argument("--matches", type=int, default=60000)
    parser.add_argument("--seed", type=int, default=9001)
    parser.add_argument("--lineups-per-map", type=int, default=300)
    parser.add_argument(
        "--without",
        default="",
        help="comma-separated features to leave out of the candidate (to measure what they earn)",
    )
    parser.add_argument("--rows-1m", type=int, default=1_000_000)
    args = parser.parse_args()

    t = time.perf_counter()
    league = generate_league(args.players, args.matches, seed=args.seed)
    print(
        f"league: {args.players} players, {args.matches} matches ({time.perf_counter() - t:.1f} s)"
    )
    mp, matches = league.match_players_frame(), league.matches_frame()
    canonical = mo.normalise_frames(mp, matches)
    dataset = mo.team_features(mo.player_prior_features(canonical))
    split = mo.time_split(dataset)
    ev, cal, tr = split.evaluation, split.calibration, split.train
    y_ev = ev["y"].to_numpy().astype(np.float64)
    oracle_by_id = dict(zip(league.match_ids, league.p_faction1.tolist(), strict=True))
    p_oracle = np.array([oracle_by_id[m] for m in ev["match_id"]])

    t = time.perf_counter()
    left_out = {f for f in args.without.split(",") if f}
    feats = [f for f in lin.LINEAR_FEATURES if f not in left_out]
    model = lin.train_linear(tr, cal, features=feats)
    fit_s = time.perf_counter() - t
    t = time.perf_counter()
    xgb_model = mo.train(split)
    xgb_s = time.perf_counter() - t
    lr = make_pipeline(StandardScaler(), LogisticRegression(C=1.0, max_iter=1000))
    lr.fit(mo.feature_matrix(tr, mo.FEATURES), tr["y"].to_numpy())
    elo_w = lin.fit_weights(tr.select("d_elo").to_numpy(), tr["y"].to_numpy().astype(float))[0]
    print(
        f"fit: candidate {fit_s:.2f} s, XGBoost {xgb_s:.1f} s ({xgb_model.info['trees']} trees); "
        f"train {tr.height}, calibration {cal.height}, evaluation {ev.height} matches"
    )
    print("candidate weights:", dict(zip(model.features, np.round(model.weights, 5), strict=True)))

    predictors: dict[str, sl.Predictor] = {
        "model": model.predict_frame,
        "xgboost": xgb_model.predict_frame,
        "lr": lambda d: lr.predict_proba(mo.feature_matrix(d, mo.FEATURES))[:, 1],
        "elo": lambda d: mo.elo_expected(d["elo_a"].to_numpy(), d["elo_b"].to_numpy()),
        "elo_fit": lambda d: 1.0 / (1.0 + np.exp(-elo_w * d["d_elo"].to_numpy())),
    }
    probs = {name: f(ev) for name, f in predictors.items()}

    t = time.perf_counter()
    os_raw = sl.openskill_probabilities(canonical, seeded=False)
    os_seed = sl.openskill_probabilities(canonical, seeded=True)
    cal_ids, ev_ids = cal["match_id"].to_list(), ev["match_id"].to_list()
    probs["openskill"] = np.array([os_raw[m] for m in ev_ids])
    recal = sl.platt(
        sl.logit(np.array([os_seed[m] for m in cal_ids])), cal["y"].to_numpy().astype(float)
    )
    probs["openskill_seeded"] = recal(sl.logit(np.array([os_seed[m] for m in ev_ids])))
    print(f"openskill rated {len(os_raw)} matches twice in {time.perf_counter() - t:.1f} s")

    # (a) matchmade and (d) newcomers
    newcomer = sl.newcomer_mask(canonical, ev)
    cols = ("logloss", "auc", "accuracy", "ece")
    print(f"\n(a) matchmade evaluation matches: {ev.height}")
    print(f"{'':<18}" + "".join(f"{c:>10}" for c in cols) + f"{'KL orac.':>10}")
    table: dict[str, dict[str, float]] = {}
    for name, p in {**probs, "oracle": p_oracle}.items():
        table[name] = mo.metrics(y_ev, p)
        table[name]["kl"] = sl.kl_bernoulli(p_oracle, p)
        print(
            f"{name:<18}"
            + "".join(f"{table[name][c]:>10.5f}" for c in cols)
            + f"{table[name]['kl']:>10.5f}"
        )
    print(f"\n(d) matches with a player of < 10 earlier matches: {int(newcomer.sum())}")
    newcomers = {
        name: (_ll(y_ev[newcomer], p[newcomer]), sl.kl_bernoulli(p_oracle[newcomer], p[newcomer]))
        for name, p in {**probs, "oracle": p_oracle}.items()
    }
    for name, (ll, kl) in newcomers.items():
        print(f"{name:<18}{ll:>10.5f}{kl:>10.5f}")

    # (b), (c) typed lineups at the start of the evaluation window
    t = time.perf_counter()
    slices = sl.lineup_slices(
        league, canonical, int(ev["ts"].min()), per_map=args.lineups_per_map, seed=args.seed
    )
    kl = sl.slice_table(predictors, slices)
    print(f"\nKL to the oracle on typed lineups ({time.perf_counter() - t:.1f} s)")
    print(f"{'':<10}" + "".join(f"{name:>10}" for name in predictors))
    for s in slices:
        print(f"{s.name:<10}" + "".join(f"{kl[s.name][n]:>10.5f}" for n in predictors))

    ll_m, ll_e, ll_o = (table[k]["logloss"] for k in ("model", "elo", "oracle"))
    gap_closed = (ll_e - ll_m) / (ll_e - ll_o)
    auc_gain = table["model"]["auc"] - table["elo"]["auc"]
    print(f"\ngap closed (elo->oracle log-loss): {gap_closed:.3f}; AUC gain {auc_gain:+.4f}")

    # training time on 1,000,000 rows: the training matrix tiled with small noise
    x = model.matrix(tr)
    y = tr["y"].to_numpy().astype(np.float64)
    reps = int(np.ceil(args.rows_1m / x.shape[0]))
    rng = np.random.default_rng(0)
    big_x = np.tile(x, (reps, 1))[: args.rows_1m]
    big_x = big_x + rng.normal(0, 1e-3, big_x.shape) * big_x.std(axis=0)
    big_y = np.tile(y, reps)[: args.rows_1m]
    big = pl.DataFrame(big_x, schema=model.features).with_columns(
        pl.Series("y", big_y), pl.lit(0, pl.Int64).alias("ts")
    )
    t = time.perf_counter()
    lin.train_linear(big, big.head(0), features=model.features)
    train_s_1m = time.perf_counter() - t
    print(f"candidate training on {big.height:,} rows x {len(model.features)}: {train_s_1m:.1f} s")
    print(
        json.dumps(
            {
                "players": args.players,
                "matches": args.matches,
                "seed": args.seed,
                "without": sorted(left_out),
                "logloss_model": round(ll_m, 5),
                "logloss_xgboost": round(table["xgboost"]["logloss"], 5),
                "logloss_lr": round(table["lr"]["logloss"], 5),
                "logloss_elo": round(ll_e, 5),
                "logloss_elo_fit": round(table["elo_fit"]["logloss"], 5),
                "logloss_openskill": round(
                    min(table["openskill"]["logloss"], table["openskill_seeded"]["logloss"]), 5
                ),
                "logloss_openskill_raw": round(table["openskill"]["logloss"], 5),
                "logloss_oracle": round(ll_o, 5),
                "gap_closed": round(gap_closed, 4),
                "auc_model": round(table["model"]["auc"], 4),
                "auc_elo": round(table["elo"]["auc"], 4),
                "auc_gain": round(auc_gain, 4),
                "ece": round(table["model"]["ece"], 4),
                "kl_matchmade": round(table["model"]["kl"], 5),
                "kl_random": round(kl["random"]["model"], 5),
                "kl_random_elo": round(kl["random"]["elo"], 5),
                "kl_random_xgboost": round(kl["random"]["xgboost"], 5),
                "kl_random_lr": round(kl["random"]["lr"], 5),
                "kl_lopsided": round(kl["lopsided"]["model"], 5),
                "kl_lopsided_elo": round(kl["lopsided"]["elo"], 5),
                "kl_lopsided_xgboost": round(kl["lopsided"]["xgboost"], 5),
                "kl_lopsided_lr": round(kl["lopsided"]["lr"], 5),
                "logloss_newcomers": round(newcomers["model"][0], 5),
                "logloss_newcomers_elo": round(newcomers["elo"][0], 5),
                "newcomer_matches": int(newcomer.sum()),
                "train_s": round(fit_s, 2),
                "train_s_1m": round(train_s_1m, 2),
            }
        )
    )


if __name__ == "__main__":
    main()
