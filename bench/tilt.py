"""Benchmark: the tilt verdict's error rates and its cost next to the vocabulary's window stats.

    uv run python bench/tilt.py [--seeds 200] [--matches 300]

Simulated players (tests/features/test_player_progress.simulated's model: a coin-flip win rate,
Poisson kills, sessions of matches 45-50 minutes apart or a day apart):

- ``false_verdict_rate``: share of players with *no* tilt who get any verdict (goal <= 0.05, the
  family error the Bonferroni-adjusted intervals promise);
- ``detection_rate``: share of tilted players (win rate 25% and fewer kills after two losses in
  a row) told so in a "losses in a row" verdict;
- ``cost_ratio``: seconds of one models.tilt.tilt_report over seconds of one
  models.features.window_stats on the same history, measured in the same run (the Overview
  draws both on every render).

The last line is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from models import features, tilt
from tests.features.test_player_progress import simulated


def seconds(call, repeat: int = 20) -> float:  # type: ignore[no-untyped-def]
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        call()
        best = min(best, time.perf_counter() - start)
    return best


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seeds", type=int, default=200)
    parser.add_argument("--matches", type=int, default=300)
    args = parser.parse_args()

    false = sum(
        bool(tilt.tilt_report(simulated(seed, args.matches)).verdicts) for seed in range(args.seeds)
    )
    told = sum(
        any(
            "losses in a row" in v and "less often" in v
            for v in tilt.tilt_report(simulated(seed, args.matches, tilted=True)).verdicts
        )
        for seed in range(args.seeds)
    )
    frame = simulated(0, args.matches)
    report_s = seconds(lambda: tilt.tilt_report(frame))
    window_s = seconds(lambda: features.window_stats(frame, last=20))
    result = {
        "bench": "tilt",
        "seeds": args.seeds,
        "matches": args.matches,
        "false_verdicts": false,
        "false_verdict_rate": round(false / args.seeds, 4),
        "detection_rate": round(told / args.seeds, 4),
        "tilt_report_ms": round(report_s * 1000, 2),
        "window_stats_ms": round(window_s * 1000, 2),
        "cost_ratio": round(report_s / window_s, 2),
        "ok": false / args.seeds <= 0.05,
    }
    print(
        f"no-tilt players with a verdict: {false}/{args.seeds}; tilted players told: "
        f"{told}/{args.seeds}; one report {report_s * 1000:.1f} ms vs window stats "
        f"{window_s * 1000:.1f} ms"
    )
    print(json.dumps(result))


if __name__ == "__main__":
    main()
