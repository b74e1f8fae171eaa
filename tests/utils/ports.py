"""Free loopback ports and fresh PostgreSQL databases for the tests and the benches that start
real servers (the benches import this module too, so both pick ports and databases one way).

Ports come from ``TEST_PORTS`` (``FIRST-LAST``, e.g. ``21000-21999``: a developer's own range on
a shared machine), by default 18000-18999. Both are below Linux's ephemeral range (32768+), so
the port of a server a test has stopped is not taken by an outgoing connection before the
server starts again (an OS-assigned port could be).

Under pytest-xdist each worker takes its own slice of the range (``PYTEST_XDIST_WORKER`` ``gwN``
of ``PYTEST_XDIST_WORKER_COUNT``): two workers never probe the same port, so a port one worker
found free cannot be taken by the other before it binds.
"""

from __future__ import annotations

import os
import random
import socket

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

DEFAULT_PORTS = range(18000, 19000)


def port_range() -> range:
    """The ports this process may use: ``TEST_PORTS`` (or ``DEFAULT_PORTS``), under xdist this
    worker's slice of it."""
    ports = configured_ports()
    worker = xdist_worker() or ""
    count = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1") or 1)
    if not worker.startswith("gw") or count <= 1:
        return ports
    index = int(worker[2:])
    size = len(ports) // count
    if size < 50:
        raise ValueError(
            f"TEST_PORTS has {len(ports)} ports: too few for {count} xdist workers "
            "(50 each at least; widen it or run fewer workers)"
        )
    start = ports.start + index * size
    return range(start, start + size)


def configured_ports() -> range:
    """``TEST_PORTS``, or ``DEFAULT_PORTS``: the whole range, every worker's slice included."""
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


def xdist_worker() -> str | None:
    """This pytest-xdist worker's id (``gw0``, ``gw1``...), None outside xdist."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    return worker or None


def fresh_database(url: str, name: str) -> str:
    """The URL of database ``name`` on ``url``'s server, dropped and created empty. Under xdist
    the worker's id is appended (``name_gw1``), so two workers never drop each other's."""
    worker = xdist_worker()
    if worker:
        name = f"{name}_{worker}"
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
