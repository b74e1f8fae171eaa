"""Benchmark: where a varied lineup analysis spends its time (pyinstrument), served from the
materialized serving features vs recomputed from the ten histories, in the same run.

    uv run python bench/analyze_profile.py [--players 60] [--matches 1500] [--requests 200]
                                           [--database-url URL (an EMPTY database)]

Prepares a database like bench/api.py (default a fresh SQLite file; the demo league ingested
through the project's client, the models trained and promoted, which also materializes every
player's serving row), then answers ``--requests`` questions with two random 5-player lineups
each (the same questions on both paths):

- ``history``: what models.analysis.analyze_lineups did before the serving rows: the ten
  players' histories loaded, model_frame, then lineup_features and a predict per map;
- ``materialized``: models.analysis.analyze_lineups now: ten rows, one batched predict.

Prints each path's milliseconds per question and its profile's top-10 functions by own time;
the last line is one JSON object (``speedup`` = history ms / materialized ms).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pyinstrument import Profiler  # noqa: E402

from bench.api import prepare  # noqa: E402
from core.db.engine import make_engine, make_session_factory  # noqa: E402


def own_times(profiler: Profiler) -> list[tuple[str, float]]:
    """(function at file:line, seconds spent in it and not in its callees), largest first."""
    session = profiler.last_session
    assert session is not None
    totals: dict[str, float] = defaultdict(float)

    def name(frame: Any) -> str:
        return f"{frame.function} ({Path(frame.file_path_short or '?').name}:{frame.line_no})"

    stack = [(session.root_frame(), "?")]
    while stack:
        frame, parent = stack.pop()
        if frame is None:
            continue
        # pyinstrument's synthetic frames ([self]: time in the caller's own code or in the C
        # code it called, e.g. polars or a database driver) count for the function above them
        where = parent if frame.function.startswith("[") else name(frame)
        stack.extend((child, where) for child in frame.children)
        totals[where] += frame.time - sum(child.time for child in frame.children)
    return sorted(totals.items(), key=lambda item: -item[1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--players", type=int, default=60)
    parser.add_argument("--matches", type=int, default=1500)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--database-url", default=None, help="an EMPTY database (default: SQLite)")
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="bench-profile-"))
    try:
        database_url = args.database_url or f"sqlite:///{tmp / 'bench.db'}"
        nicknames = prepare(database_url, args.players, args.matches)
        from models import analysis, serving_features

        engine = make_engine(database_url)
        sessions = make_session_factory(engine)
        models = analysis.AnalysisModels.for_sessions(sessions)
        rng = random.Random(11)
        questions = []
        for _ in range(args.requests):
            ten = rng.sample(nicknames, 10)
            questions.append((ten[:5], ten[5:]))

        def from_history(a: list[str], b: list[str]) -> Any:
            model = models.outcome_model()
            with sessions() as session:
                team_a, team_b = analysis._lineups(session, a, b)
                matches = analysis._history(session, [*team_a, *team_b])
            current = {p.id: float(p.faceit_elo) for p in [*team_a, *team_b] if p.faceit_elo}
            version = models.match_outcome.version
            return analysis._analysis(model, version, team_a, team_b, None, matches, current)

        def materialized(a: list[str], b: list[str]) -> Any:
            return analysis.analyze_lineups(sessions, models, a, b)

        rebuilt: list[int] = []
        build = serving_features.materialize

        def counted(*a: Any, **kw: Any) -> Any:
            built = build(*a, **kw)
            rebuilt.append(len(built))
            return built

        serving_features.materialize = counted  # type: ignore[assignment]
        results: dict[str, Any] = {}
        for name, answer in (("history", from_history), ("materialized", materialized)):
            answer(*questions[0])  # warm-up: the model cache, imports
            rebuilt.clear()
            t0 = time.perf_counter()
            answers = [answer(a, b) for a, b in questions]
            ms = (time.perf_counter() - t0) * 1000 / len(questions)
            profiler = Profiler(interval=0.001)
            with profiler:
                for a, b in questions:
                    answer(a, b)
            times = own_times(profiler)
            total = sum(seconds for _, seconds in times) or 1.0
            print(f"\n{name}: {ms:.2f} ms per question (unprofiled); top-10 by own time:")
            for where, seconds in times[:10]:
                print(f"  {100 * seconds / total:5.1f}%  {seconds:7.3f} s  {where}")
            results[name] = {"ms": ms, "answers": answers, "rebuilt": sum(rebuilt)}
        worst = max(
            abs(x.per_map[m] - y.per_map[m])
            for x, y in zip(
                results["history"]["answers"], results["materialized"]["answers"], strict=True
            )
            for m in x.per_map
        )
        summary = {
            "history_ms": round(results["history"]["ms"], 2),
            "materialized_ms": round(results["materialized"]["ms"], 2),
            "speedup": round(results["history"]["ms"] / results["materialized"]["ms"], 1),
            "max_probability_difference": worst,
            "requests": len(questions),
            "rows_rebuilt_while_serving": results["materialized"]["rebuilt"],
            "database": database_url.split(":")[0],
            "load_average_1m": round(os.getloadavg()[0], 1),
        }
        engine.dispose()
        print(json.dumps(summary))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
