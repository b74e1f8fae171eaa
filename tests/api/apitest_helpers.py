"""Helpers shared by the API tests: seeding a database, building an app and clients."""

from __future__ import annotations

import asyncio
import importlib.util
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from api.main import create_app
from core import auth
from core.cache import FeatureCache
from core.db.engine import make_session_factory
from core.db.migrate import upgrade
from core.resources import Resources
from core.settings import ApiSettings, Settings, load_settings

SECRET = "test-secret-key-" + "x" * 56
PASSWORD = "Api-test-Passw0rd"
USERS = {
    "free": ("api-free", "free"),
    "premium": ("api-premium", "premium"),
    "admin": ("api-admin", "admin"),
    "subscriber": ("api-subscriber", "free"),  # premium through an active subscription
}


def _ingest_module() -> Any:
    path = Path(__file__).resolve().parents[1] / "ingest" / "conftest.py"
    spec = importlib.util.spec_from_file_location("_api_tests_ingest_helpers", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@dataclass
class Seeded:
    backend: str
    url: str
    engine: Engine
    sessions: sessionmaker[Session]
    nicknames: list[str]
    match_ids: list[str]
    users: dict[str, str] = field(default_factory=dict)


DATA_TABLES = ("players", "matches", "match_players", "elo_history", "ingest_state")


def copy_data(source: Engine, target: Engine) -> None:
    """Copy the ingested rows of one database into another (same schema)."""
    from sqlalchemy import insert, select

    from core.db.schema import Base

    tables = [t for t in Base.metadata.sorted_tables if t.name in DATA_TABLES]
    with source.connect() as src, target.begin() as dst:
        for table in tables:
            rows = [dict(r._mapping) for r in src.execute(select(table))]
            if rows:
                dst.execute(insert(table), rows)


def seed(
    backend: str,
    url: str,
    engine: Engine,
    league: Any,
    *,
    train: bool = True,
    source: Engine | None = None,
) -> Seeded:
    """Migrate, ingest the demo league (or copy it from ``source``), train the models, register
    one user per role."""
    from datetime import UTC, datetime

    from sqlalchemy import select

    from core.db.schema import Match, Subscription

    upgrade(engine)
    sessions = make_session_factory(engine)
    if source is not None:
        copy_data(source, engine)
    else:
        ingest = _ingest_module().ingest_league
        with ThreadPoolExecutor(1) as pool:  # callable from inside a running event loop too
            pool.submit(asyncio.run, ingest(league, sessions)).result()
    if train:
        from pipelines.train import run_training

        run_training(sessions)
    rounds, auth.BCRYPT_ROUNDS = auth.BCRYPT_ROUNDS, 4
    try:
        users = {}
        with sessions() as session:
            for kind, (username, role) in USERS.items():
                user = auth.register_user(
                    session, username, f"{username}@example.com", PASSWORD, role
                )
                users[kind] = username
                if kind == "subscriber":
                    session.add(
                        Subscription(
                            user_id=user.id,
                            status="active",
                            last_event_at=datetime.now(UTC),
                            updated_at=datetime.now(UTC),
                        )
                    )
                    session.commit()
            match_ids = list(session.scalars(select(Match.id).order_by(Match.finished_at)))
    finally:
        auth.BCRYPT_ROUNDS = rounds
    return Seeded(
        backend=backend,
        url=url,
        engine=engine,
        sessions=sessions,
        nicknames=list(league.players_frame()["nickname"]),
        match_ids=match_ids,
        users=users,
    )


def make_settings(url: str, tmp: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "environment": "test",
        "database_url": url,
        "redis_url": None,
        "secret_key": SECRET,
        "data_dir": tmp,
        "cors_origins": ["https://app.example.com"],
    }
    values.update(overrides)
    return load_settings(**values)


def make_config(**overrides: Any) -> ApiSettings:
    """The API_* settings of a test app: limits out of the way, no micro-cache, plain logs."""
    values: dict[str, Any] = {
        "rate_limit_user": "100000/minute",
        "rate_limit_ip": "100000/minute",
        "player_cache_seconds": 0,
        "log_json": False,
    }
    values.update(overrides)
    return ApiSettings(**values)


def build_app(seeded: Seeded, tmp: Path, config: ApiSettings | None = None, **settings: Any) -> Any:
    resources = Resources(
        settings=make_settings(seeded.url, tmp, api=config or make_config(), **settings),
        engine=seeded.engine,
        cache=FeatureCache(None, ttl_seconds=600),
    )
    return create_app(resources)


def client(app: Any, **kwargs: Any) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app, raise_app_exceptions=False),
        base_url="http://testserver",
        **kwargs,
    )


async def login(http: httpx.AsyncClient, username: str, password: str = PASSWORD) -> dict:
    response = await http.post("/api/auth/login", json={"username": username, "password": password})
    assert response.status_code == 200, response.text
    return response.json()


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def assert_problem(response: httpx.Response, status: int) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["status"] == status
    assert isinstance(body["title"], str) and body["title"]
    assert isinstance(body["detail"], str) and body["detail"]
    assert body["type"].startswith(("https://", "about:blank"))
    assert "Traceback" not in response.text
    assert body.get("request_id") == response.headers["x-request-id"]
    return body
