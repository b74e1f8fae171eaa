"""Match-outcome model quality where users ask: matchmade lobbies and typed lineups.

A fresh demo league (seed 9001 by default, used by no test), split in time (oldest 70% to fit,
10% to calibrate, newest 20% to evaluate). Reports, on the held-out matches and at the start of
their window:
(a) matchmade evaluation matches: log-loss, AUC, ECE against outcomes, KL to the oracle;
(b) five random players vs five random players, (c) top-Elo-fifth vs bottom-fifth lineups:
KL to the oracle probability (hypothetical lineups have no outcome);
(d) matchmade matches with a player who had fewer than 10 earlier matches.
Contenders: the symmetric logistic model (the champion), the XGBoost model (the previous
champion, kept as a baseline), a plain logistic regression on the XGBoost model's features, the
FACEIT Elo formula, a refit Elo logistic curve and OpenSkill (PlackettLuce) rated in time order
(raw, and seeded from the first Elo with a Platt slope). Then the training time of the model on
1,000,000 rows (wall and CPU seconds, with the load average). Every figure comes from
``models.match_outcome.quality.quality_report`` (the
same as notebook 2). The last line is one JSON object.
Run: ``uv run python bench/model_quality.py [--players 3000 --matches 60000 --seed 9001]``.
"""

from __future__ import annotations

import argparse
import json
import os
import time

import numpy as np
import polars as pl

from core.demo_league import generate_league
from models.match_outcome import linear as lin
from models.match_outcome.quality import quality_report

COLUMNS = ("logloss", "auc", "accuracy", "ece", "kl")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--players", type=int, default=3000)
    parser.add_argument("--matches", type=int, default=60000)
    parser.add_argument("--seed", type=int, default=9001)
    parser.add_argument("--lineups-per-map", type=int, default=300)
    parser.add_argument(
        "--without",
        default="",
        help="comma-separated features to leave out of the model (to measure what they earn)",
    )
    parser.add_argument("--rows-1m", type=int, default=1_000_000)
    args = parser.parse_args()

    t = time.perf_counter()
    league = generate_league(args.players, args.matches, seed=args.seed)
    print(
        f"league: {args.players} players, {args.matches} matches ({time.perf_counter() - t:.0f} s)"
    )
    left_out = {f for f in args.without.split(",") if f}
    feats = [f for f in lin.LINEAR_FEATURES if f not in left_out]
    q = quality_report(league, features=feats, lineups_per_map=args.lineups_per_map, seed=args.seed)
    split, model = q.split, q.model
    print(
        f"train {split.train.height}, calibration {split.calibration.height}, evaluation "
        f"{split.evaluation.height} matches; seconds: "
        + ", ".join(f"{k} {v:.1f}" for k, v in q.seconds.items())
    )
    assert isinstance(model, lin.LinearOutcomeModel)
    print(
        "model weights:",
        dict(zip(model.features, np.round(model.weights, 5).tolist(), strict=True)),
    )

    print(f"\n(a) matchmade evaluation matches: {split.evaluation.height}")
    print(f"{'':<18}" + "".join(f"{c:>10}" for c in COLUMNS))
    for name, row in q.matchmade.items():
        print(f"{name:<18}" + "".join(f"{row[c]:>10.5f}" for c in COLUMNS))
    print(f"\n(d) matches with a player of < 10 earlier matches: {q.newcomer_matches}")
    for name, row in q.newcomers.items():
        print(f"{name:<18}{row['logloss']:>10.5f}{row['kl']:>10.5f}")
    print("\nKL to the oracle on typed lineups, (b) random and (c) lopsided")
    names = list(q.lineups["random"])
    print(f"{'':<10}" + "".join(f"{n:>10}" for n in names))
    for s, row in q.lineups.items():
        print(f"{s:<10}" + "".join(f"{row[n]:>10.5f}" for n in names))
    print(f"\ngap closed (elo->oracle log-loss): {q.gap_closed:.3f}; AUC gain {q.auc_gain:+.4f}")

    # training time on 1,000,000 rows: the training matrix tiled with small noise
    x = model.matrix(split.train)
    y = split.train["y"].to_numpy().astype(np.float64)
    reps = int(np.ceil(args.rows_1m / x.shape[0]))
    rng = np.random.default_rng(0)
    big_x = np.tile(x, (reps, 1))[: args.rows_1m]
    big_x = big_x + rng.normal(0, 1e-3, big_x.shape) * big_x.std(axis=0)
    big = pl.DataFrame(big_x, schema=model.features).with_columns(
        pl.Series("y", np.tile(y, reps)[: args.rows_1m]), pl.lit(0, pl.Int64).alias("ts")
    )
    t, cpu = time.perf_counter(), time.process_time()
    lin.train_linear(big, big.head(0), features=model.features)
    train_s_1m = time.perf_counter() - t
    # the CPU seconds of this process too: on a shared machine the wall time mostly measures
    # the others' load (os.getloadavg() at the end says how much)
    train_cpu_s_1m = time.process_time() - cpu
    print(
        f"model training on {big.height:,} rows x {len(model.features)}: {train_s_1m:.1f} s "
        f"({train_cpu_s_1m:.1f} CPU s, load {os.getloadavg()[0]:.1f})"
    )

    mm, kl = q.matchmade, q.lineups
    print(
        json.dumps(
            {
                "players": args.players,
                "matches": args.matches,
                "seed": args.seed,
                "without": sorted(left_out),
                "logloss_model": round(mm["model"]["logloss"], 5),
                "logloss_xgboost": round(mm["xgboost"]["logloss"], 5),
                "logloss_lr": round(mm["lr"]["logloss"], 5),
                "logloss_elo": round(mm["elo"]["logloss"], 5),
                "logloss_elo_fit": round(mm["elo_fit"]["logloss"], 5),
                "logloss_openskill": round(
                    min(mm["openskill"]["logloss"], mm["openskill_seeded"]["logloss"]), 5
                ),
                "logloss_openskill_raw": round(mm["openskill"]["logloss"], 5),
                "logloss_oracle": round(mm["oracle"]["logloss"], 5),
                "gap_closed": round(q.gap_closed, 4),
                "auc_model": round(mm["model"]["auc"], 4),
                "auc_elo": round(mm["elo"]["auc"], 4),
                "auc_gain": round(q.auc_gain, 4),
                "ece": round(mm["model"]["ece"], 4),
                "kl_matchmade": round(mm["model"]["kl"], 5),
                "kl_random": round(kl["random"]["model"], 5),
                "kl_random_elo": round(kl["random"]["elo"], 5),
                "kl_random_xgboost": round(kl["random"]["xgboost"], 5),
                "kl_random_lr": round(kl["random"]["lr"], 5),
                "kl_lopsided": round(kl["lopsided"]["model"], 5),
                "kl_lopsided_elo": round(kl["lopsided"]["elo"], 5),
                "kl_lopsided_xgboost": round(kl["lopsided"]["xgboost"], 5),
                "kl_lopsided_lr": round(kl["lopsided"]["lr"], 5),
                "logloss_newcomers": round(q.newcomers["model"]["logloss"], 5),
                "logloss_newcomers_elo": round(q.newcomers["elo"]["logloss"], 5),
                "newcomer_matches": q.newcomer_matches,
                "train_s": round(q.seconds["fit_model"], 2),
                "train_s_1m": round(train_s_1m, 2),
                "train_cpu_s_1m": round(train_cpu_s_1m, 2),
                "load_avg_1m": round(os.getloadavg()[0], 2),
            }
        )
    )


if __name__ == "__main__":
    main()
