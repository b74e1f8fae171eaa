"""Benchmark: ingest a demo league over HTTP (rate limit R, latency L) into PostgreSQL.

    uv run python bench/ingest.py [--players 200] [--matches 20000] [--rate 10] [--latency 0.08]
                                  [--workers N] [--concurrency N] [--quick]
                                  [--database-url postgresql://postgres@127.0.0.1:5432/test]

The demo league (core.demo_league) is served by uvicorn in a separate process on 127.0.0.1 with
a per-key token bucket of R requests/s and L seconds of latency per request. Every player of the
league is ingested with the project's FaceitClient (rate_limit=R) and Ingestor into a fresh
PostgreSQL database (created here, dropped at the end), through the Ingestor's own concurrency
(``Ingestor.ingest_many``): ``--workers`` is its ``concurrency``, the players ingested at a time
(default: the Ingestor's). ``--batch-size`` and ``--burst`` default to the Ingestor's and the
client's defaults.

Figures:
- rate_ratio: requests served (sent minus 429s and connection errors) / ingest wall time / R
  (goal >= 0.9);
- copy_ratio: rows/s of the Ingestor's batch writes / rows/s of a raw psycopg COPY
  (``cursor.copy`` + ``write_row``, one transaction) of the ingested match_players rows into an
  empty table of the same shape (``LIKE match_players INCLUDING ALL``) (goal >= 0.5). Both are
  timed after the ingest, alone: the writes as ``Ingestor.store_batch`` of the ingested matches
  in batches of ``--batch-size`` into a fresh database (``replay_store``; rows = matches +
  match_players + player stubs handed to it). During the ingest the writes run in threads
  beside the event loop, so their wall time there (``store_batch_s``) also counts the waits for
  the interpreter lock; it is reported too;
- requests_per_match: requests sent (every attempt, 429s included) / matches stored (goal <= 1.1;
  the floor is 1 + (profiles + history pages) / matches: one profile and ceil(n / 100) history
  pages per player);
- peak_mb: peak RSS of this (ingest) process, taken before the raw COPY phase; the server's
  peak (VmHWM) is reported as server_peak_mb;
- cpu_s / server_cpu_s: CPU seconds of this process and of the demo API server during the
  ingest, and load_avg_1m at its end: on a shared machine a rate_ratio below the goal with
  both processes far below a core each, at a load average above the cores, is the machine's
  CPU, not the client's pacing.

The 20,000 matches at the real API's ~10 requests/s take over half an hour; ``--quick`` uses
R=100 and L=0.05 (unless given) and takes about 5 minutes. The last line is one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import inspect
import json
import logging
import os
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import psycopg
from psycopg.rows import dict_row
from sqlalchemy.engine import make_url

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core.db.engine import make_engine, make_session_factory
from core.db.migrate import upgrade
from core.faceit import FaceitClient
from core.ingest import Ingestor, IngestSummary, MatchBatch
from tests.utils.ports import free_port

ROOT = Path(__file__).resolve().parents[1]
API_KEY = "demo-league"
DEFAULT_DATABASE_URL = "postgresql://postgres@127.0.0.1:5432/test"

# Runs in the server process: generate the league, hand the nicknames over, serve it.
SERVER_CODE = """
import json, os, sys
import uvicorn
from core.demo_league import Faults, create_app, generate_league

cfg = json.loads(sys.argv[1])
league = generate_league(cfg["players"], cfg["matches"], seed=cfg["seed"])
nicknames = [str(n) for n in league.players_frame()["nickname"]]
with open(cfg["names_path"] + ".tmp", "w") as f:
    json.dump({"nicknames": nicknames, "matches": league.n_matches}, f)
os.replace(cfg["names_path"] + ".tmp", cfg["names_path"])
app = create_app(league, rate_limit=cfg["rate"], faults=Faults(latency=cfg["latency"]))
uvicorn.run(app, host="127.0.0.1", port=cfg["port"], log_level="warning", access_log=False)
"""


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--players", type=int, default=200, help="players in the league (all)")
    parser.add_argument("--matches", type=int, default=20_000, help="matches in the league")
    parser.add_argument("--rate", type=float, default=None, help="R, requests/s (default 10)")
    parser.add_argument("--latency", type=float, default=None, help="L, s/request (default 0.08)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--concurrency", type=int, default=None, help="client max_concurrency (default: its own)"
    )
    parser.add_argument(
        "--burst", type=float, default=None, help="client burst (default: the client's)"
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=None,
        help="players ingested at a time: the Ingestor's concurrency (default: the Ingestor's)",
    )
    parser.add_argument(
        "--batch-size", type=int, default=None, help="Ingestor batch_size (default: its own)"
    )
    parser.add_argument("--roster-depth", type=int, default=10, help="Ingestor roster_depth")
    parser.add_argument("--database-url", default=DEFAULT_DATABASE_URL)
    parser.add_argument("--quick", action="store_true", help="R=100, L=0.05 unless given")
    parser.add_argument("--verbose", action="store_true", help="show client retry warnings")
    args = parser.parse_args()
    if args.rate is None:
        args.rate = 100.0 if args.quick else 10.0
    if args.latency is None:
        args.latency = 0.05 if args.quick else 0.08
    if args.players < 200 or args.matches < 20_000:
        print(
            f"note: below the issue's size (>= 200 players, >= 20,000 matches): {args.players}"
            f" players, {args.matches} matches"
        )
    return args


# -- demo API server ------------------------------------------------------------------------------


def start_server(args: argparse.Namespace, port: int, names_path: Path) -> subprocess.Popen[bytes]:
    config = {
        "players": args.players,
        "matches": args.matches,
        "seed": args.seed,
        "rate": args.rate,
        "latency": args.latency,
        "port": port,
        "names_path": str(names_path),
    }
    return subprocess.Popen([sys.executable, "-c", SERVER_CODE, json.dumps(config)], cwd=ROOT)


def wait_for_server(process: subprocess.Popen[bytes], port: int, names_path: Path) -> None:
    """Until the league is generated and the server answers (an unauthenticated request: a 401
    comes back before the latency and the rate limiter, so no token is used)."""
    deadline = time.monotonic() + 300
    url = f"http://127.0.0.1:{port}/data/v4/players?nickname=probe"
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"demo API server exited with code {process.returncode}")
        if names_path.exists():
            try:
                if httpx.get(url, timeout=2).status_code == 401:
                    return
            except httpx.TransportError:
                pass
        time.sleep(0.2)
    raise RuntimeError("demo API server did not answer within 300 s")


def stop_server(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def peak_mb_of(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def cpu_s_of(pid: int) -> float | None:
    """User + system CPU seconds of a process so far (/proc/PID/stat)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def self_cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def self_peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


# -- database -------------------------------------------------------------------------------------


def libpq_url(url: str, database: str | None = None) -> str:
    parsed = make_url(url).set(drivername="postgresql")
    if database is not None:
        parsed = parsed.set(database=database)
    return parsed.render_as_string(hide_password=False)


def create_database(admin_url: str, name: str) -> None:
    with psycopg.connect(libpq_url(admin_url), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')


def drop_database(admin_url: str, name: str) -> None:
    with psycopg.connect(libpq_url(admin_url), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# -- ingest ---------------------------------------------------------------------------------------


class TimedIngestor(Ingestor):
    """The project's Ingestor, timing its database work (in threads: core.ingest.off_the_loop)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, step=self._timed_step, **kwargs)
        self.step_s: Counter[str] = Counter()
        self.batch_s = 0.0
        self.batches = 0
        self.rows: Counter[str] = Counter()
        self.other_db_s: Counter[str] = Counter()

    def store_batch(self, batch: MatchBatch) -> None:
        started = time.perf_counter()
        super().store_batch(batch)
        self.batch_s += time.perf_counter() - started
        self.batches += 1
        self.rows["matches"] += len(batch.matches)
        self.rows["match_players"] += len(batch.match_players)
        self.rows["players"] += len(batch.players)

    def _timed_step(self, function: Any, name: str) -> Any:
        """Wall time of each step (summed over the players running at once)."""

        if not inspect.iscoroutinefunction(function):
            return function

        async def timed(*args: Any) -> Any:
            started = time.perf_counter()
            try:
                return await function(*args)
            finally:
                self.step_s[name] += time.perf_counter() - started

        return timed

    def _timed(self, name: str, function: Any, *args: Any) -> Any:
        started = time.perf_counter()
        try:
            return function(*args)
        finally:
            self.other_db_s[name] += time.perf_counter() - started

    def store_profile(self, profile: Any) -> None:
        self._timed("store_profile", super().store_profile, profile)

    def watermark(self, player_id: str) -> Any:
        return self._timed("watermark", super().watermark, player_id)

    def finish_player(self, *args: Any) -> None:
        self._timed("finish_player", super().finish_player, *args)


async def ingest_all(
    ingestor: Ingestor, nicknames: list[str], report_every: float = 30.0
) -> tuple[IngestSummary, list[str]]:
    """Every nickname through the Ingestor's own job (``ingest_nicknames``: its concurrency, then
    the queued teammates' profiles)."""
    done = 0

    def progress(stage: str, finished: int, _total: int) -> None:
        nonlocal done
        if stage == "players":
            done = finished

    ingestor.progress = progress

    async def reporter() -> None:
        started = time.perf_counter()
        client = ingestor.client
        while True:
            await asyncio.sleep(report_every)
            elapsed = time.perf_counter() - started
            print(
                f"  [{elapsed:6.0f}s] players {done}/{len(nicknames)}, requests "
                f"{client.request_count} ({client.request_count / elapsed:.1f}/s), "
                f"429s {client.status_counts.get(429, 0)}",
                flush=True,
            )

    report = asyncio.create_task(reporter())
    try:
        total = await ingestor.ingest_nicknames(nicknames)
    finally:
        report.cancel()
    return total, list(total.messages) if total.failed else []


# -- raw COPY reference ---------------------------------------------------------------------------


def raw_copy(url: str, table: str) -> tuple[int, float]:
    """COPY every row of `table` (exported first, not timed) into an empty table of the same
    shape with raw psycopg, in one transaction; returns (rows, seconds)."""
    target = f"copy_{table}"
    with psycopg.connect(url) as conn:
        with conn.cursor() as cur:
            cur.execute(f'SELECT * FROM "{table}"')
            assert cur.description is not None
            columns = [d.name for d in cur.description]
            rows = cur.fetchall()
        conn.execute(f'CREATE TABLE "{target}" (LIKE "{table}" INCLUDING ALL)')
        conn.commit()
        quoted = ", ".join(f'"{c}"' for c in columns)
        started = time.perf_counter()
        with conn.cursor() as cur, cur.copy(f'COPY "{target}" ({quoted}) FROM STDIN') as copy:
            for row in rows:
                copy.write_row(row)
        conn.commit()
        seconds = time.perf_counter() - started
        conn.execute(f'DROP TABLE "{target}"')
        conn.commit()
    return len(rows), seconds


def replay_store(admin_url: str, source_url: str, batch_size: int) -> tuple[int, float, int]:
    """The Ingestor's batch writes timed on their own, as the raw COPY is: the ingested matches
    (newest last), ``batch_size`` at a time with their match_players rows, written by
    ``Ingestor.store_batch`` one after another into a fresh database, with nothing else
    running. During the ingest the writes run in threads (core.ingest.off_the_loop) beside the
    event loop, so their wall time there also counts the waits for the interpreter lock.
    Returns (rows handed to it, seconds, batches)."""
    name = f"bench_ingest_replay_{uuid.uuid4().hex[:12]}"
    create_database(admin_url, name)
    engine = make_engine(libpq_url(admin_url, name))
    try:
        upgrade(engine)
        with psycopg.connect(source_url, row_factory=dict_row) as conn:
            matches = conn.execute("SELECT * FROM matches ORDER BY finished_at, id").fetchall()
            by_match: dict[str, list[dict[str, Any]]] = {}
            for row in conn.execute("SELECT * FROM match_players ORDER BY match_id, player_id"):
                by_match.setdefault(row["match_id"], []).append(row)
        client = FaceitClient()  # store_batch sends nothing
        ingestor = Ingestor(client, make_session_factory(engine), concurrency=1)
        rows = batches = 0
        seconds = 0.0
        for start in range(0, len(matches), batch_size):
            batch = MatchBatch()
            for match in matches[start : start + batch_size]:
                batch.matches.append({k: v for k, v in match.items() if k != "created_at"})
                for row in by_match.get(match["id"], []):
                    batch.match_players.append(row)
                    batch.players.setdefault(row["player_id"], row["nickname"] or row["player_id"])
            started = time.perf_counter()
            ingestor.store_batch(batch)
            seconds += time.perf_counter() - started
            rows += len(batch.matches) + len(batch.match_players) + len(batch.players)
            batches += 1
        asyncio.run(client.aclose())
        return rows, seconds, batches
    finally:
        engine.dispose()
        drop_database(admin_url, name)


def table_counts(url: str) -> dict[str, int]:
    with psycopg.connect(url) as conn:
        return {
            table: int(conn.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0])  # type: ignore[index]
            for table in ("players", "matches", "match_players", "elo_history")
        }


# -- main -----------------------------------------------------------------------------------------


async def run_ingest(
    args: argparse.Namespace, port: int, nicknames: list[str], db_url: str, server_pid: int
) -> dict[str, Any]:
    engine = make_engine(db_url)
    try:
        upgrade(engine)
        sessions = make_session_factory(engine)
        async with FaceitClient(
            api_key=API_KEY,
            base_url=f"http://127.0.0.1:{port}/data/v4",
            rate_limit=args.rate,
            max_concurrency=args.concurrency,
            burst=args.burst,
        ) as client:
            options: dict[str, Any] = {"roster_depth": args.roster_depth}
            if args.batch_size is not None:
                options["batch_size"] = args.batch_size
            if args.workers is not None:
                options["concurrency"] = args.workers
            ingestor = TimedIngestor(client, sessions, **options)
            args.batch_size, args.workers = ingestor.batch_size, ingestor.concurrency
            args.burst = client.burst
            args.concurrency = client.max_concurrency
            started, cpu_started = time.perf_counter(), self_cpu_s()
            server_cpu_started = cpu_s_of(server_pid)
            summary, errors = await ingest_all(ingestor, nicknames)
            wall = time.perf_counter() - started
            server_cpu = cpu_s_of(server_pid)
            return {
                "wall_s": wall,
                "requests": client.request_count,
                "status": dict(sorted(client.status_counts.items())),
                "retries": client.retry_count,
                "summary": summary,
                "errors": errors,
                "batch_s": ingestor.batch_s,
                "batches": ingestor.batches,
                "rows": dict(ingestor.rows),
                "other_db_s": dict(ingestor.other_db_s),
                "step_s": dict(ingestor.step_s),
                "peak_mb": self_peak_mb(),
                "cpu_s": self_cpu_s() - cpu_started,
                "server_cpu_s": (
                    server_cpu - server_cpu_started
                    if server_cpu is not None and server_cpu_started is not None
                    else None
                ),
            }
    finally:
        engine.dispose()


def main() -> None:
    args = parse_args()
    if not args.verbose:
        logging.getLogger("core.faceit.client").setLevel(logging.ERROR)
    print(
        f"demo league: {args.players} players, {args.matches} matches, seed {args.seed}; "
        f"R={args.rate:g} req/s, L={args.latency:g} s; client max_concurrency "
        f"{args.concurrency or 'default'}, burst {args.burst or 'default'}, "
        f"{args.workers or 'default'} player(s) at a time, batch_size "
        f"{args.batch_size or 'default'}, roster_depth {args.roster_depth}",
        flush=True,
    )
    db_name = f"bench_ingest_{uuid.uuid4().hex[:12]}"
    db_url = libpq_url(args.database_url, db_name)
    port = free_port()
    tmp = tempfile.TemporaryDirectory(prefix="bench_ingest_")
    names_path = Path(tmp.name) / "nicknames.json"
    server = start_server(args, port, names_path)
    created = False
    try:
        t0 = time.perf_counter()
        wait_for_server(server, port, names_path)
        league_info = json.loads(names_path.read_text())
        nicknames: list[str] = league_info["nicknames"]
        print(
            f"server pid {server.pid} on http://127.0.0.1:{port}/data/v4 ready in "
            f"{time.perf_counter() - t0:.1f}s",
            flush=True,
        )
        create_database(args.database_url, db_name)
        created = True
        print(f"database {db_name} created; ingesting {len(nicknames)} players...", flush=True)

        result = asyncio.run(run_ingest(args, port, nicknames, db_url, server.pid))
        server_peak = peak_mb_of(server.pid)
        stop_server(server)

        counts = table_counts(db_url)
        copy_rows, copy_s = raw_copy(db_url, "match_players")
        replay_rows, replay_s, replay_batches = replay_store(
            args.database_url, db_url, args.batch_size
        )
    finally:
        stop_server(server)
        tmp.cleanup()
        if created:
            drop_database(args.database_url, db_name)

    wall = result["wall_s"]
    requests = result["requests"]
    status = result["status"]
    # Requests the server served (a 429 or a failed connection is not throughput).
    served = requests - status.get(429, 0) - status.get(0, 0)
    achieved = served / wall
    rate_ratio = achieved / args.rate
    rows = result["rows"]
    ours_rows = sum(rows.values())
    in_ingest_rps = ours_rows / result["batch_s"] if result["batch_s"] else 0.0
    ours_rps = replay_rows / replay_s if replay_s else 0.0
    raw_rps = copy_rows / copy_s if copy_s else 0.0
    copy_ratio = ours_rps / raw_rps if raw_rps else 0.0
    requests_per_match = requests / counts["matches"] if counts["matches"] else 0.0
    stored = counts["players"] + counts["matches"] + counts["match_players"]
    stored_rps = stored / result["batch_s"] if result["batch_s"] else 0.0
    other_db = result["other_db_s"]
    db_blocking = result["batch_s"] + sum(other_db.values())
    summary: IngestSummary = result["summary"]

    print()
    print(f"ingest wall time       {wall:9.1f} s")
    print(
        f"requests               {requests:9d} sent ({requests_per_match:.3f} per stored match), "
        f"{served} served ({achieved:.2f}/s vs "
        f"R={args.rate:g}: rate_ratio {rate_ratio:.3f}); statuses {status}; "
        f"retries {result['retries']}"
    )
    print(
        f"matches                {counts['matches']:9d} stored of {league_info['matches']} "
        f"(fetched {rows['matches'] if rows else 0}, "
        f"{summary.skipped_matches} skipped); players {counts['players']}, "
        f"match_players {counts['match_players']}, elo_history {counts['elo_history']}"
    )
    if result["errors"]:
        print(f"failed players         {len(result['errors'])}: {result['errors'][:3]}")
    print(
        f"store_batch            {result['batch_s']:9.2f} s for {result['batches']} batches, "
        f"{ours_rows} rows {rows} -> {in_ingest_rps:,.0f} rows/s (in threads, during the ingest)"
    )
    print(
        f"store_batch alone      {replay_s:9.2f} s for {replay_batches} batches, "
        f"{replay_rows} rows -> {ours_rps:,.0f} rows/s (replayed into a fresh database)"
    )
    print(
        "other DB calls         "
        + ", ".join(f"{k} {v:.2f}s" for k, v in sorted(other_db.items()))
        + f"; timed DB calls (in threads, off the event loop) {db_blocking:.1f}s "
        f"({100 * db_blocking / wall:.1f}% of wall)"
    )
    print(
        f"raw psycopg COPY       {copy_s:9.2f} s for {copy_rows} match_players rows "
        f"-> {raw_rps:,.0f} rows/s; copy_ratio {copy_ratio:.3f} "
        f"(distinct stored rows / store_batch time: {stored_rps:,.0f} rows/s, "
        f"ratio {stored_rps / raw_rps if raw_rps else 0:.3f})"
    )
    print(
        "steps (wall s, summed) "
        + ", ".join(f"{k} {v:.1f}" for k, v in sorted(result["step_s"].items()))
    )
    server_peak_text = f"{server_peak:.0f} MB" if server_peak is not None else "n/a"
    server_cpu = result["server_cpu_s"]
    print(
        f"CPU during the ingest  ingest process {result['cpu_s']:.1f} s "
        f"({100 * result['cpu_s'] / wall:.0f}% of a core), demo API server "
        + (
            f"{server_cpu:.1f} s ({100 * server_cpu / wall:.0f}% of a core)"
            if server_cpu
            else "n/a"
        )
        + f"; load average at the end {os.getloadavg()[0]:.2f}"
    )
    print(
        f"peak memory            ingest process {result['peak_mb']:.0f} MB, "
        f"server process {server_peak_text}"
    )
    print(
        f"goals                  rate_ratio >= 0.9: {'met' if rate_ratio >= 0.9 else 'NOT met'}; "
        f"copy_ratio >= 0.5: {'met' if copy_ratio >= 0.5 else 'NOT met'}; "
        f"requests_per_match <= 1.1: {'met' if requests_per_match <= 1.1 else 'NOT met'}"
    )
    out = {
        "rate_ratio": round(rate_ratio, 4),
        "copy_ratio": round(copy_ratio, 4),
        "requests_per_match": round(requests_per_match, 4),
        "peak_mb": round(result["peak_mb"], 1),
        "server_peak_mb": round(server_peak, 1) if server_peak is not None else None,
        "requests": requests,
        "requests_served": served,
        "requests_per_s": round(achieved, 2),
        "status_429": status.get(429, 0),
        "wall_s": round(wall, 2),
        "cpu_s": round(result["cpu_s"], 1),
        "server_cpu_s": round(server_cpu, 1) if server_cpu is not None else None,
        "load_avg_1m": round(os.getloadavg()[0], 2),
        "rate": args.rate,
        "latency": args.latency,
        "players": args.players,
        "matches": args.matches,
        "matches_stored": counts["matches"],
        "rows": ours_rows,
        "store_batch_s": round(result["batch_s"], 3),
        "store_batch_rows_per_s": round(in_ingest_rps, 1),
        "replay_rows": replay_rows,
        "replay_s": round(replay_s, 3),
        "ours_rows_per_s": round(ours_rps, 1),
        "raw_copy_rows": copy_rows,
        "raw_copy_s": round(copy_s, 3),
        "raw_copy_rows_per_s": round(raw_rps, 1),
        "workers": args.workers,
        "concurrency": args.concurrency,
        "burst": args.burst,
        "batch_size": args.batch_size,
    }
    print(json.dumps(out))


if __name__ == "__main__":
    main()
