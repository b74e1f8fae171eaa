"""A demo league ingested and its models trained, built once and copied for each test module that
needs one (ingesting and training a league is the longest setup of the analysis tests: ~20 s
quiet, a minute or more under load, and two modules built the same kind of database).

The built SQLite file is kept in ``.cache/test-databases/`` under a key made of the build's
name (the league's size and seed), the date and the content of every file the build runs
(core/, models/, pipelines/, the ingest helpers, uv.lock): a change to any of them builds anew,
an unchanged tree reuses the file the same day, across runs and across pytest-xdist workers (a
file lock makes the second wait for the first). Each caller gets its own copy, free to change
it.
"""

from __future__ import annotations

import asyncio
import fcntl
import hashlib
import os
import shutil
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Engine, Integer, func, insert, select, text

REPO = Path(__file__).resolve().parents[2]
CACHE = REPO / ".cache" / "test-databases"
BUILD_INPUTS = ("core", "models", "pipelines")
EXTRA_INPUTS = ("uv.lock", "tests/ingest/conftest.py", "tests/utils/trained_db.py")


def content_key(name: str) -> str:
    """The cache key: the build's name (its parameters), today's date (a build records when it
    ran: sync and training times stay within a day of the tests that read them) and the bytes
    of every file it runs."""
    today = datetime.now(UTC).date().isoformat()
    digest = hashlib.sha256(f"{name}:{today}".encode())
    files = sorted(
        path
        for folder in BUILD_INPUTS
        for path in (REPO / folder).rglob("*")
        if path.is_file() and path.suffix in {".py", ".json", ".ini", ".mako", ".sql"}
    )
    for path in [*files, *(REPO / name for name in EXTRA_INPUTS)]:
        digest.update(str(path.relative_to(REPO)).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:20]


def cached_sqlite(name: str, build: Callable[[Path], None], copy: Path) -> Path:
    """``copy``: a fresh copy of the SQLite database ``build(path)`` makes at ``path`` (built
    once per ``name`` and content of the tree; ``name`` must say everything the build depends
    on besides the tree, e.g. the league's size and seed)."""
    CACHE.mkdir(parents=True, exist_ok=True)
    built = CACHE / f"{name}-{content_key(name)}.db"
    with (CACHE / f"{built.name}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # one build; the other worker waits, then copies
        if not built.exists():
            partial = built.with_suffix(f".{os.getpid()}.tmp")
            partial.unlink(missing_ok=True)
            try:
                build(partial)
                partial.rename(built)
            finally:
                partial.unlink(missing_ok=True)
    copy.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(built, copy)
    return copy


def _build_league(path: Path, players: int, matches: int, seed: int) -> None:
    from core.db.engine import make_engine, make_session_factory
    from core.db.migrate import upgrade
    from core.demo_league import generate_league
    from pipelines.train import run_training
    from tests.ingest.conftest import ingest_league

    engine = make_engine(f"sqlite:///{path}")
    try:
        upgrade(engine)
        sessions = make_session_factory(engine)
        asyncio.run(ingest_league(generate_league(players, matches, seed=seed), sessions))
        run_training(sessions)
    finally:
        engine.dispose()


def trained_sqlite(directory: Path, players: int, matches: int, seed: int) -> Path:
    """A fresh copy, in ``directory``, of a SQLite database holding the demo league
    ``generate_league(players, matches, seed=seed)`` ingested (every player, no roster depth)
    and ``run_training`` done on it."""
    name = f"league-{players}-{matches}-{seed}"
    return cached_sqlite(
        name,
        lambda path: _build_league(path, players, matches, seed),
        directory / f"{name}.db",
    )


def copy_database(source: Engine, target: Engine) -> None:
    """Every row of ``source`` into the migrated, empty ``target`` (same schema), then, on
    PostgreSQL, each serial key's sequence moved past the copied ids (a later insert would
    otherwise collide with a copied row)."""
    from core.db.schema import Base

    tables = Base.metadata.sorted_tables
    with source.connect() as src, target.begin() as dst:
        for table in tables:
            rows = [dict(r._mapping) for r in src.execute(select(table))]
            if rows:
                dst.execute(insert(table), rows)
        if target.dialect.name != "postgresql":
            return
        for table in tables:
            serial = [
                c.name
                for c in table.primary_key.columns
                if isinstance(c.type, Integer) and c.autoincrement in (True, "auto")
            ]
            if len(serial) != 1:
                continue
            (column,) = serial
            sequence = dst.execute(
                text("SELECT pg_get_serial_sequence(:table, :column)"),
                {"table": table.name, "column": column},
            ).scalar()
            if sequence is None:
                continue
            top = dst.execute(select(func.max(table.c[column]))).scalar() or 0
            dst.execute(
                text("SELECT setval(:sequence, :next, false)"),
                {"sequence": sequence, "next": top + 1},
            )
