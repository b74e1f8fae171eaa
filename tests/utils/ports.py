"""Free loopback ports and fresh PostgreSQL databases for the tests and the benches that start
real servers (the benches import this module too, so both pick ports and databases one way)."""

from __future__ import annotations

import socket

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url


def free_port() -> int:
    """A port the OS says is free now (it may be taken again before it is used: bind soon)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def free_port_range(span: int) -> int:
    """A base port with ``span`` free ports after it (OS-assigned, then each one checked)."""
    for _ in range(50):
        base = free_port()
        if base + span >= 65000:
            continue
        try:
            for port in range(base, base + span):
                with socket.socket() as probe:
                    probe.bind(("127.0.0.1", port))
        except OSError:
            continue
        return base
    raise RuntimeError(f"no {span} free ports in a row on 127.0.0.1")


def fresh_database(url: str, name: str) -> str:
    """The URL of database ``name`` on ``url``'s server, dropped and created empty."""
    base = make_url(url)
    admin = create_engine(
        base.set(drivername="postgresql+psycopg", database="postgres"), isolation_level="AUTOCOMMIT"
    )
    try:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        admin.dispose()
    return base.set(database=name).render_as_string(hide_password=False)
