"""Free loopback ports and fresh PostgreSQL databases for the tests and the benches that start
real servers (the benches import this module too, so both pick ports and databases one way).

Ports come from ``TEST_PORTS`` (``FIRST-LAST``, e.g. ``21000-21999``: a developer's own range on
a shared machine), by default 18000-18999. Both are below Linux's ephemeral range (32768+), so
the port of a server a test has stopped is not taken by an outgoing connection before the
server starts again (an OS-assigned port could be).
"""

from __future__ import annotations

import os
import random
import socket

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

DEFAULT_PORTS = range(18000, 19000)


def port_range() -> range:
    """The ports the tests may use: ``TEST_PORTS``, or ``DEFAULT_PORTS``."""
    value = os.environ.get("TEST_PORTS", "").strip()
    if not value:
        return DEFAULT_PORTS
    try:
        first, last = (int(part) for part in value.split("-"))
    except ValueError:
        raise ValueError(f"TEST_PORTS={value!r}: expected FIRST-LAST, e.g. 21000-21999") from None
    if not 1024 <= first <= last <= 65535:
        raise ValueError(f"TEST_PORTS={value!r}: expected 1024 <= FIRST <= LAST <= 65535")
    return range(first, last + 1)


def _free(port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def free_port() -> int:
    """A port of ``port_range()`` that is free now (it may be taken before it is used: bind
    soon)."""
    return free_port_range(1)


def free_port_range(span: int) -> int:
    """A base port with ``span`` free ports from it, all within ``port_range()``."""
    ports = port_range()
    bases = range(ports.start, ports.stop - span + 1)
    for base in random.sample(bases, min(len(bases), 200)):
        if all(_free(port) for port in range(base, base + span)):
            return base
    raise RuntimeError(
        f"no {span} free ports in a row in {ports.start}-{ports.stop - 1} (set TEST_PORTS)"
    )


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
