"""Under pytest-xdist every worker picks ports from its own slice of TEST_PORTS and names its
databases apart, so two workers that start servers at once never race for one port or drop
each other's database."""

from __future__ import annotations

import pytest

from tests.utils import ports


def slices(monkeypatch: pytest.MonkeyPatch, workers: int) -> list[range]:
    monkeypatch.setenv("TEST_PORTS", "21000-21999")
    monkeypatch.setenv("PYTEST_XDIST_WORKER_COUNT", str(workers))
    found = []
    for index in range(workers):
        monkeypatch.setenv("PYTEST_XDIST_WORKER", f"gw{index}")
        found.append(ports.port_range())
    return found


def test_each_worker_has_its_own_slice_of_the_range(monkeypatch: pytest.MonkeyPatch) -> None:
    two = slices(monkeypatch, 2)
    assert two == [range(21000, 21500), range(21500, 22000)]
    three = slices(monkeypatch, 3)
    assert all(len(r) == 333 for r in three)
    assert not set(three[0]) & set(three[1]) and not set(three[1]) & set(three[2])
    monkeypatch.setenv("PYTEST_XDIST_WORKER", "gw1")
    monkeypatch.setenv("PYTEST_XDIST_WORKER_COUNT", "2")
    assert 21500 <= ports.free_port() <= 21999
    base = ports.free_port_range(14)
    assert base >= 21500 and base + 13 <= 21999


def test_outside_xdist_the_whole_range(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TEST_PORTS", "21000-21999")
    monkeypatch.delenv("PYTEST_XDIST_WORKER", raising=False)
    monkeypatch.delenv("PYTEST_XDIST_WORKER_COUNT", raising=False)
    assert ports.port_range() == range(21000, 22000)


def test_too_small_a_range_for_the_workers_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TEST_PORTS", "21000-21079")
    monkeypatch.setenv("PYTEST_XDIST_WORKER", "gw0")
    monkeypatch.setenv("PYTEST_XDIST_WORKER_COUNT", "2")
    with pytest.raises(ValueError, match="too few for 2 xdist workers"):
        ports.port_range()


def test_fresh_databases_of_two_workers_have_two_names(
    monkeypatch: pytest.MonkeyPatch, postgres_url: str
) -> None:
    from sqlalchemy.engine import make_url

    names = []
    for worker in ("gw0", "gw1"):
        monkeypatch.setenv("PYTEST_XDIST_WORKER", worker)
        names.append(make_url(ports.fresh_database(postgres_url, "faceit_ports_probe")).database)
    assert names == ["faceit_ports_probe_gw0", "faceit_ports_probe_gw1"]
    from sqlalchemy import create_engine, text

    admin = create_engine(
        make_url(postgres_url).set(drivername="postgresql+psycopg", database="postgres"),
        isolation_level="AUTOCOMMIT",
    )
    try:
        with admin.connect() as conn:
            for name in names:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()
