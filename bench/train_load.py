"""Benchmark: the training loader against a raw binary COPY of the same rows, same run.

    uv run python bench/train_load.py [--rows 5000000] [--database-url postgresql://...]
                                      [--loader module:function] [--keep] [--no-joined]

Generates ``--rows`` player-match rows (10 players a match, one Elo point each, a player every
100 rows) into a fresh PostgreSQL database next to ``--database-url`` (default
TEST_DATABASE_URL), migrated to the product's schema, with SQL (generate_series), then, each in
its own fresh process so peak memory is the load's own:

- raw: ``COPY (the loader's query, joined, derived and sorted by the server) TO STDOUT (FORMAT
  binary)``, drained (the floor: what the server and the wire cost, no parsing at all);
- ours: the training loader (default ``pipelines.train:load_history``: the one match history,
  the columns training reads), which returns polars frames of the same rows and columns;
- joined (unless ``--no-joined``): the portable loader ``models.history.load_joined`` on the
  same columns (two queries joined, derived and sorted by polars: the training loader until
  issue 15 item 5), so ``joined_ratio`` (its time over ours) compares the two in one run.

load_ratio = our rows/s over raw rows/s (goal >= 0.5); peak_mb_per_m_rows = the loader process'
peak RSS above a process that only imported the same modules, per million player-match rows
(goal <= 300); the same for the portable loader with ``joined_``. The last line is one JSON
object.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.utils.ports import fresh_database  # noqa: E402

MAPS = "array['de_mirage','de_inferno','de_nuke','de_ancient','de_anubis','de_dust2','de_train']"

GENERATE = """
INSERT INTO players (id, nickname, created_at, updated_at)
SELECT 'p' || g, 'player' || g, now(), now() FROM generate_series(0, {players} - 1) g;

INSERT INTO matches (id, map, started_at, finished_at, rounds, winner_faction, created_at)
SELECT 'm' || g, ({maps})[1 + g % 7], t - interval '40 minutes', t, 16 + g % 14,
       CASE WHEN g % 2 = 0 THEN 'faction1' ELSE 'faction2' END, now()
FROM generate_series(0, {matches} - 1) g,
     LATERAL (SELECT timestamptz '2024-01-01' + g * interval '1 minute' AS t) AS s;

INSERT INTO match_players (
    match_id, player_id, nickname, faction, finished_at, map, result, premade,
    kills, deaths, assists, headshots, headshots_pct, mvps, kd_ratio, kr_ratio,
    triple_kills, quadro_kills, penta_kills, adr, damage, double_kills, first_kills,
    entry_count, entry_wins, one_v_one_count, one_v_one_wins, utility_damage, flash_successes)
SELECT 'm' || m, 'p' || ((m * 10 + s) % {players}), 'player' || ((m * 10 + s) % {players}),
       CASE WHEN s < 5 THEN 'faction1' ELSE 'faction2' END,
       timestamptz '2024-01-01' + m * interval '1 minute', ({maps})[1 + m % 7],
       (s < 5) = (m % 2 = 0), s % 3 = 0,
       5 + (m + s) % 25, 5 + (m * 3 + s) % 22, (m + 2 * s) % 9, (m + s) % 12,
       ((m + s) % 70)::float, (m + s) % 5, 0.5 + ((m + s) % 30) / 20.0, 0.3 + ((m + s) % 10) / 20.0,
       (m + s) % 3, (m + s) % 2, 0,
       CASE WHEN m % 4 = 0 THEN NULL ELSE 40 + (m * 7 + s) % 80 + 0.25 END,
       CASE WHEN m % 4 = 0 THEN NULL ELSE 800 + (m * 7 + s) % 1600 END,
       (m + s) % 4, (m + s) % 3, (m + s) % 5, (m + s) % 3, (m + s) % 2, (m + s) % 2,
       (m + s) % 300, (m + s) % 4
FROM generate_series(0, {matches} - 1) m, generate_series(0, 9) s;

INSERT INTO elo_history (player_id, match_id, elo, recorded_at, estimated)
SELECT player_id, match_id, 800 + (length(match_id) * 97 + kills * 13) % 1400, finished_at, false
FROM match_players;
ANALYZE;
"""


def raw_queries() -> tuple[str, ...]:
    """What the default loader reads (models.history.sorted_query for the training columns,
    in the loader's order), as SQL for a raw binary COPY."""
    from sqlalchemy.dialects import postgresql

    from core.db.columnar import order_list
    from models.history import SORT, columns_for, sorted_query
    from pipelines.train import TRAINING_COLUMNS

    query, schema = sorted_query(columns_for(TRAINING_COLUMNS))
    sql = str(query.compile(dialect=postgresql.dialect(), compile_kwargs={"literal_binds": True}))
    return (f"SELECT * FROM ({sql}) AS q ORDER BY {order_list(schema, SORT)}",)


CHILD = r"""
import json, resource, sys, time
sys.path.insert(0, {repo!r})
import polars, psycopg, sqlalchemy
from sqlalchemy.orm import Session
from core.db.engine import make_engine
import importlib
module, _, function = {loader!r}.partition(":")
loader = getattr(importlib.import_module(module), function)
mode, url = {mode!r}, {url!r}
engine = make_engine(url)
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
started = time.perf_counter()
rows = 0
if mode in ("ours", "joined"):
    if mode == "joined":
        from models.history import load_joined
        from pipelines.train import TRAINING_COLUMNS
        loader = lambda session: load_joined(session, columns=TRAINING_COLUMNS)  # noqa: E731
    with Session(engine) as session:
        frames = loader(session)
    rows = (frames[0] if isinstance(frames, tuple) else frames).height
elif mode == "raw":
    conninfo = engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(conninfo) as conn, conn.cursor() as cur:
        for query in {raw!r}:
            with cur.copy("COPY (" + query + ") TO STDOUT (FORMAT binary)") as copy:
                for _ in copy:
                    pass
        rows = cur.execute("SELECT count(*) FROM match_players").fetchone()[0]
seconds = time.perf_counter() - started
print(json.dumps({{"seconds": seconds, "rows": rows,
                   "peak_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
                   "before_kb": before}}))
"""


def child(mode: str, url: str, loader: str, raw: tuple[str, ...]) -> dict[str, float]:
    code = CHILD.format(repo=str(REPO), loader=loader, mode=mode, url=url, raw=raw)
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False, cwd=REPO
    )
    if out.returncode != 0:
        raise SystemExit(f"{mode} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=5_000_000)
    parser.add_argument(
        "--database-url",
        default=os.environ.get("TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test"),
    )
    parser.add_argument("--loader", default="pipelines.train:load_history")
    parser.add_argument("--keep", action="store_true", help="keep the generated database")
    parser.add_argument("--no-joined", action="store_true", help="skip the portable loader")
    args = parser.parse_args()

    import psycopg
    from sqlalchemy.engine import make_url

    from core.db.engine import make_engine
    from core.db.migrate import upgrade

    name = f"{make_url(args.database_url).database}_train_load"
    url = fresh_database(args.database_url, name)
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    matches = args.rows // 10
    started = time.perf_counter()
    sql = GENERATE.format(players=max(10, args.rows // 100), matches=matches, maps=MAPS)
    conninfo = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute(sql)  # type: ignore[call-overload]
    print(f"generated {matches * 10:,} player-match rows in {time.perf_counter() - started:.1f} s")

    queries = raw_queries()
    try:
        baseline = child("import", url, args.loader, queries)
        raw = child("raw", url, args.loader, queries)
        ours = child("ours", url, args.loader, queries)
        joined = None if args.no_joined else child("joined", url, args.loader, queries)
    finally:
        if not args.keep:
            with psycopg.connect(args.database_url.replace("+psycopg", ""), autocommit=True) as c:
                c.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')  # type: ignore[call-overload]
    assert ours["rows"] == raw["rows"] == matches * 10, (ours, raw)
    million = ours["rows"] / 1e6
    result = {
        "rows": int(ours["rows"]),
        "raw_s": round(raw["seconds"], 2),
        "ours_s": round(ours["seconds"], 2),
        "raw_rows_per_s": round(raw["rows"] / raw["seconds"]),
        "ours_rows_per_s": round(ours["rows"] / ours["seconds"]),
        "load_ratio": round(raw["seconds"] / ours["seconds"], 3),
        "peak_mb_per_m_rows": round((ours["peak_kb"] - baseline["peak_kb"]) / 1024 / million, 1),
        "loader": args.loader,
        **(
            {}
            if joined is None
            else {
                "joined_s": round(joined["seconds"], 2),
                "joined_ratio": round(joined["seconds"] / ours["seconds"], 2),
                "joined_peak_mb_per_m_rows": round(
                    (joined["peak_kb"] - baseline["peak_kb"]) / 1024 / million, 1
                ),
            }
        ),
        "load_average_1m": round(os.getloadavg()[0], 2),
    }
    print(f"raw binary COPY {result['raw_s']} s, loader {result['ours_s']} s")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
