"""Shared fixtures: real PostgreSQL and Redis (TEST_DATABASE_URL, TEST_REDIS_URL), per test."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session, sessionmaker

from core.db.engine import make_engine, make_session_factory
from core.db.migrate import upgrade
from tests.utils.sentry_capture import SentryCapture


def required_env(name: str) -> str:
    value = os.environ.get(name)
    if not value:
        pytest.fail(
            f"{name} is not set: the suite needs a real service "
            "(`make test` sets it for the local PostgreSQL and Redis; CI sets it in .ci/run)",
            pytrace=False,
        )
    return value


@pytest.fixture(scope="session")
def postgres_url() -> str:
    return required_env("TEST_DATABASE_URL")


@pytest.fixture(scope="session")
def redis_url() -> str:
    return required_env("TEST_REDIS_URL")


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'faceit.db'}"


@pytest.fixture
def postgres_schema_engine(postgres_url: str) -> Iterator[Engine]:
    """An engine whose search_path is a brand-new schema, dropped after the test."""
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = make_engine(postgres_url)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    engine = make_engine(postgres_url, connect_args={"options": f"-csearch_path={schema}"})
    try:
        yield engine
    finally:
        engine.dispose()
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture
def sqlite_engine(sqlite_url: str) -> Iterator[Engine]:
    engine = make_engine(sqlite_url)
    yield engine
    engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_engine(request: pytest.FixtureRequest) -> Engine:
    """An engine on an empty database, once per supported backend."""
    fixture = "sqlite_engine" if request.param == "sqlite" else "postgres_schema_engine"
    return request.getfixturevalue(fixture)


@pytest.fixture
def engine(empty_engine: Engine) -> Engine:
    """A migrated database, once per backend."""
    upgrade(empty_engine)
    return empty_engine


@pytest.fixture
def pg_engine(postgres_schema_engine: Engine) -> Engine:
    """A migrated PostgreSQL database (for tests that only need one backend)."""
    upgrade(postgres_schema_engine)
    return postgres_schema_engine


@pytest.fixture
def sessions(engine: Engine) -> sessionmaker[Session]:
    return make_session_factory(engine)


@pytest.fixture
def sentry() -> Iterator[SentryCapture]:
    """A local endpoint standing in for Sentry; the SDK is inactive again afterwards."""
    import sentry_sdk

    with SentryCapture() as capture:
        yield capture
        client = sentry_sdk.get_client()
        client.flush(timeout=5)
        client.close()
        # no client for the rest of the suite (sentry_sdk.init() would read SENTRY_DSN, which
        # a test's monkeypatch may still hold here)
        sentry_sdk.get_global_scope().set_client(None)


@pytest.fixture(scope="session")
def prefect_harness() -> Iterator[None]:
    """One temporary Prefect API for the whole session (per xdist worker: each has its own
    SQLite file in a temporary folder). Starting one costs ~20 s quiet, minutes under load.
    Its port comes from this worker's slice of TEST_PORTS, not from the OS."""
    from unittest import mock

    from prefect.testing import utilities
    from prefect.testing.utilities import prefect_test_harness

    from tests.utils.ports import free_port

    with (
        mock.patch.object(utilities, "_find_available_port", free_port),
        prefect_test_harness(server_startup_timeout=300),
    ):
        yield


# -- order: the longest files start first, so parallel workers finish together ------------------

# files slower than most (minutes under load), after the stack and the browser tests
HEAVY_FILES = (
    "tests/notebooks/test_notebooks.py",
    "tests/analysis/test_serving_features.py",
    "tests/analysis/test_analysis.py",
    "tests/models/test_train_flow.py",
)


def _weight(item: pytest.Item) -> int:
    """0 for the stack test, 1 for a browser test, 2 for a heavy file, 3 for the rest."""
    if item.get_closest_marker("stack"):
        return 0
    if item.get_closest_marker("browser"):
        return 1
    if item.nodeid.split("::")[0] in HEAVY_FILES:
        return 2
    return 3


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Sort whole files by weight (a file's heaviest test decides), keeping the order of the
    files within a weight and of the tests within a file: under ``--dist loadfile`` xdist hands
    out files in this order, so the stack (~10 min under load) starts at once instead of last."""
    weight: dict[str, int] = {}
    first: dict[str, int] = {}
    for index, item in enumerate(items):
        path = item.nodeid.split("::")[0]
        weight[path] = min(weight.get(path, 3), _weight(item))
        first.setdefault(path, index)
    items.sort(key=lambda item: (weight[p := item.nodeid.split("::")[0]], first[p]))


@pytest.fixture
def default_setup(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Callable[[int], Path]]:
    """Point settings at the embedded default set-up: a fresh, migrated SQLite file under
    tmp_path, the demo league of `players` players, no FACEIT key, no Redis."""
    from core.settings import get_settings

    def configure(players: int) -> Path:
        db = tmp_path / "faceit.db"
        monkeypatch.setenv("DATABASE_URL", f"sqlite:///{db}")
        monkeypatch.setenv("DATA_DIR", str(tmp_path))
        monkeypatch.setenv("DEMO_PLAYERS", str(players))
        monkeypatch.delenv("FACEIT_API_KEY", raising=False)
        monkeypatch.delenv("REDIS_URL", raising=False)
        engine = make_engine(f"sqlite:///{db}")
        upgrade(engine)
        engine.dispose()
        get_settings.cache_clear()
        return db

    yield configure
    get_settings.cache_clear()
