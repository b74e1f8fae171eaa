"""Seeded databases for the API tests: the demo league ingested and the models trained once per
backend for the whole session (about 3 s each), plus an app and client per test."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from apitest_helpers import Seeded, build_app, client, login, seed
from sqlalchemy import text

from core import auth
from core.db.engine import make_engine
from core.demo_league import League, generate_league


@pytest.fixture(autouse=True)
def fast_bcrypt(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(auth, "BCRYPT_ROUNDS", 4)


@pytest.fixture(scope="session")
def api_league() -> League:
    return generate_league(30, 300, seed=5)


@pytest.fixture(scope="session")
def seeded_sqlite(tmp_path_factory: pytest.TempPathFactory, api_league: League) -> Iterator[Seeded]:
    url = f"sqlite:///{tmp_path_factory.mktemp('api-db') / 'api.db'}"
    engine = make_engine(url)
    try:
        yield seed("sqlite", url, engine, api_league)
    finally:
        engine.dispose()


@pytest.fixture(scope="session")
def seeded_postgresql(
    postgres_url: str, api_league: League, seeded_sqlite: Seeded
) -> Iterator[Seeded]:
    """The same league on PostgreSQL: rows copied from the SQLite ingest (ingestion itself is
    tested in tests/ingest; this keeps the API tests independent of the bulk-write path)."""
    schema = f"api_{uuid.uuid4().hex[:12]}"
    admin = make_engine(postgres_url)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    engine = make_engine(postgres_url, connect_args={"options": f"-csearch_path={schema}"})
    try:
        yield seed("postgresql", postgres_url, engine, api_league, source=seeded_sqlite.engine)
    finally:
        engine.dispose()
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def seeded(request: pytest.FixtureRequest) -> Seeded:
    """The seeded database, once per backend."""
    return request.getfixturevalue(f"seeded_{request.param}")


@pytest.fixture
def app(seeded: Seeded, tmp_path: Path) -> Any:
    return build_app(seeded, tmp_path)


@pytest.fixture
async def http(app: Any) -> AsyncIterator[httpx.AsyncClient]:
    async with client(app) as c:
        yield c


@pytest.fixture
async def tokens(http: httpx.AsyncClient, seeded: Seeded) -> dict[str, dict]:
    """A token pair per user kind (free, premium, admin, subscriber)."""
    return {kind: await login(http, username) for kind, username in seeded.users.items()}
