"""Engines and sessions, built from a URL on demand (never at import time)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from core.db.deadline import install_response_timeout


def make_engine(
    url: str,
    *,
    connect_timeout: int | None = None,
    statement_timeout: float | None = None,
    pool_timeout: float | None = None,
    response_timeout: float | None = None,
    **kwargs: Any,
) -> Engine:
    """An engine for ``url``. The timeouts (seconds; None: the driver's defaults) bound what a
    sick database can cost a caller: ``connect_timeout`` a new connection (PostgreSQL),
    ``statement_timeout`` one SQL statement (PostgreSQL's own; 0 disables it), ``pool_timeout``
    the wait for a pooled connection when every one is in use, ``response_timeout`` any wait
    for an answer on an open connection, enforced by the client (PostgreSQL; a frozen server
    enforces no timeout of its own: core.db.deadline). Settings name them (core.resources
    builds the application's engine with them)."""
    parsed = make_url(url)
    if pool_timeout is not None:
        kwargs["pool_timeout"] = pool_timeout
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30}, **kwargs)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    if parsed.drivername in {"postgresql", "postgres"}:
        url = parsed.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)
    connect_args = dict(kwargs.pop("connect_args", {}))
    if connect_timeout is not None:
        connect_args.setdefault("connect_timeout", connect_timeout)
    if statement_timeout is not None:
        option = f"-c statement_timeout={round(statement_timeout * 1000)}"
        connect_args["options"] = " ".join(filter(None, [connect_args.get("options"), option]))
    engine = create_engine(url, pool_pre_ping=True, connect_args=connect_args, **kwargs)
    if response_timeout:
        install_response_timeout(engine, response_timeout)
    return engine


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """A session whose work is committed on success and rolled back on any error."""
    with factory() as session, session.begin():
        yield session


def serialize(session: Session, key: str, wait_seconds: float = 600.0) -> None:
    """Hold the lock named ``key`` until ``session``'s transaction ends: concurrent transactions
    that take the same key run this part one after another, each seeing what the previous one
    committed (PostgreSQL's transaction-scoped advisory lock; the key is hashed to its 64 bits).
    The wait is polled, not one blocking statement, so that the holder may take longer than
    the statement timeout; past ``wait_seconds`` it fails with TimeoutError. SQLite: nothing to
    do, the demo's one process writes through one database lock."""
    if session.get_bind().dialect.name != "postgresql":
        return
    deadline = time.monotonic() + wait_seconds
    take = text("SELECT pg_try_advisory_xact_lock(hashtextextended(:key, 0))")
    while not session.scalar(take, {"key": key}):
        if time.monotonic() > deadline:
            raise TimeoutError(f"{key!r} was held by another transaction for {wait_seconds:.0f} s")
        time.sleep(0.1)
