"""Benchmark: generate the 10,000-player / 200,000-match demo league.

Prints generation time and peak memory, and ends with one JSON line.
Run: ``uv run python bench/demo_league.py [players] [matches]``.
"""

from __future__ import annotations

import json
import resource
import sys
import time

from core.demo_league import generate_league


def main() -> None:
    players = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
    matches = int(sys.argv[2]) if len(sys.argv) > 2 else 200_000
    t0 = time.perf_counter()
    league = generate_league(players, matches, seed=0)
    generate_s = time.perf_counter() - t0
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB
    print(f"generated {league.n_players} players, {league.n_matches} matches in {generate_s:.2f}s")
    print(f"peak memory {peak_mb:.0f} MB")
    result = {
        "players": league.n_players,
        "matches": league.n_matches,
        "generate_s": round(generate_s, 2),
        "peak_mb": round(peak_mb, 1),
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
