"""Match-outcome model quality vs the Elo baseline and the oracle, plus 1M-row training time.

A fresh demo league (seed 9001, used by no test). Prints every figure; the last line is one
JSON object. Run: ``uv run python bench/model_quality.py [--players 3000 --matches 60000]``.
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np
import xgboost as xgb

from core.demo_league import generate_league
from models import match_outcome as mo


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--players", type=int, default=3000)
    parser.add_argument("--matches", type=int, default=60000)
    parser.add_argument("--seed", type=int, default=9001)
    parser.add_argument("--rows-1m", type=int, default=1_000_000)
    args = parser.parse_args()

    t = time.perf_counter()
    league = generate_league(args.players, args.matches, seed=args.seed)
    print(
        f"league: {args.players} players, {args.matches} matches in {time.perf_counter() - t:.1f} s"
    )
    t = time.perf_counter()
    dataset = mo.build_dataset(league.match_players_frame(), league.matches_frame())
    print(f"dataset: {dataset.shape} in {time.perf_counter() - t:.1f} s")
    split = mo.time_split(dataset)
    t = time.perf_counter()
    model = mo.train(split)
    fit_s = time.perf_counter() - t
    print(
        f"train: {split.train.height} matches ({2 * split.train.height} rows), "
        f"{model.info['trees']} trees, {fit_s:.1f} s; calibration slope "
        f"{model.calibration_slope:.3f}; evaluation {split.evaluation.height} matches"
    )
    oracle = dict(zip(league.match_ids, league.p_faction1.tolist(), strict=True))
    report = mo.evaluate(model, split.evaluation, oracle)
    cols = ("logloss", "brier", "auc", "accuracy", "ece")
    print(f"{'':<8}" + "".join(f"{c:>10}" for c in cols))
    for name, row in report.items():
        print(f"{name:<8}" + "".join(f"{row[c]:>10.4f}" for c in cols))
    ll_m, ll_e, ll_o = (report[k]["logloss"] for k in ("model", "elo", "oracle"))
    gap_closed = (ll_e - ll_m) / (ll_e - ll_o)
    auc_gain = report["model"]["auc"] - report["elo"]["auc"]
    print(f"gap closed (elo->oracle log-loss): {gap_closed:.3f}; AUC gain {auc_gain:+.4f}")

    # training time on 1,000,000 rows: the training matrix (both orientations) tiled with
    # small noise to 1M rows, fixed 300 trees (no early stopping), 2 threads
    x = mo.feature_matrix(split.train, model.features)
    y = split.train["y"].to_numpy().astype(np.float64)
    xx, yy = mo.both_orientations(x, y, model.signs)
    reps = int(np.ceil(args.rows_1m / xx.shape[0]))
    rng = np.random.default_rng(0)
    big_x = np.tile(xx, (reps, 1))[: args.rows_1m]
    big_x = big_x + rng.normal(0, 1e-3, big_x.shape) * big_x.std(axis=0)
    big_y = np.tile(yy, reps)[: args.rows_1m]
    t = time.perf_counter()
    dtrain = xgb.DMatrix(big_x, label=big_y, feature_names=model.features)
    xgb.train(mo.DEFAULT_PARAMS, dtrain, num_boost_round=mo.DEFAULT_ROUNDS)
    train_s_1m = time.perf_counter() - t
    print(
        f"training on {big_x.shape[0]:,} rows x {big_x.shape[1]} features, "
        f"{mo.DEFAULT_ROUNDS} trees, 2 threads: {train_s_1m:.1f} s"
    )
    print(
        json.dumps(
            {
                "players": args.players,
                "matches": args.matches,
                "seed": args.seed,
                "logloss_model": round(ll_m, 5),
                "logloss_elo": round(ll_e, 5),
                "logloss_oracle": round(ll_o, 5),
                "gap_closed": round(gap_closed, 4),
                "auc_model": round(report["model"]["auc"], 4),
                "auc_elo": round(report["elo"]["auc"], 4),
                "auc_oracle": round(report["oracle"]["auc"], 4),
                "auc_gain": round(auc_gain, 4),
                "ece": round(report["model"]["ece"], 4),
                "brier_model": round(report["model"]["brier"], 5),
                "brier_elo": round(report["elo"]["brier"], 5),
                "train_s": round(fit_s, 2),
                "train_s_1m": round(train_s_1m, 2),
            }
        )
    )


if __name__ == "__main__":
    main()
