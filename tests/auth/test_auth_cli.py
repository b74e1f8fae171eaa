"""`faceit-ai users` sub-commands and the API factory's own start-up (default set-up)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from api.main import create_app
from core import auth
from core.db.engine import make_engine, make_session_factory
from core.settings import get_settings
from pipelines.cli_users import users_app


@pytest.fixture
def env_db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("DATA_DIR", str(tmp_path))
    monkeypatch.delenv("REDIS_URL", raising=False)
    get_settings.cache_clear()
    yield url
    get_settings.cache_clear()


def test_users_add_set_role_list(env_db: str) -> None:
    runner = CliRunner()
    added = runner.invoke(
        users_app,
        ["add", "Kate", "--email", "kate@example.com", "--password-stdin"],
        input="correct-horse-42\n",
    )
    assert added.exit_code == 0, added.output
    assert "Created user kate" in added.output
    weak = runner.invoke(
        users_app, ["add", "lee", "--email", "lee@example.com", "--password-stdin"], input="x\n"
    )
    assert weak.exit_code == 1
    assert "Password too weak" in weak.output
    sql = runner.invoke(
        users_app,
        ["add", "'; DROP TABLE users;--", "--email", "m@example.com", "--password-stdin"],
        input="correct-horse-42\n",
    )
    assert sql.exit_code == 1 and "Username must be" in sql.output
    assert runner.invoke(users_app, ["set-role", "kate", "admin"]).exit_code == 0
    bad_role = runner.invoke(users_app, ["set-role", "kate", "god"])
    assert bad_role.exit_code == 1 and "Unknown role" in bad_role.output
    listed = runner.invoke(users_app, ["list"])
    assert listed.exit_code == 0
    assert "kate" in listed.output and "admin" in listed.output
    engine = make_engine(env_db)
    with make_session_factory(engine)() as s:
        assert [u.username for u in auth.list_users(s)] == ["kate"]
        assert auth.is_premium(s, auth.list_users(s)[0].id)
    engine.dispose()


async def test_create_app_builds_resources_from_settings_on_startup(env_db: str) -> None:
    app = create_app()
    async with app.router.lifespan_context(app):
        assert app.state.resources is not None
        assert app.state.resources.billing.demo  # the default set-up: the demo checkout
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://api") as client:
            assert (await client.get("/healthz")).json() == {"status": "ok"}
    assert app.state.resources is None
