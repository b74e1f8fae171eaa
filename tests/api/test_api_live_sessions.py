"""With Redis, the token check reads users' session generations there (core.auth.LiveSessions):
an unchanged player answer costs no database statement, and a logout, a password change or a
deleted user still ends the tokens at once on every API process sharing the Redis."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
from apitest_helpers import (
    PASSWORD,
    Seeded,
    assert_problem,
    bearer,
    client,
    login,
    make_config,
    make_settings,
)
from sqlalchemy import event

from api.main import create_app
from core import auth
from core.cache import FeatureCache
from core.resources import Resources


def two_processes(seeded: Seeded, tmp: Path, redis_url: str) -> tuple[Any, Any]:
    """Two API applications on the same database and Redis (as two instances behind nginx)."""
    prefix = f"t-{uuid.uuid4().hex[:8]}"
    apps = []
    for _ in range(2):
        resources = Resources(
            settings=make_settings(seeded.url, tmp, api=make_config(player_cache_seconds=60)),
            engine=seeded.engine,
            cache=FeatureCache(redis_url, prefix=prefix, ttl_seconds=600),
        )
        apps.append(create_app(resources))
    return apps[0], apps[1]


@contextmanager
def statements(seeded: Seeded) -> Iterator[list[str]]:
    """Every SQL statement sent on the seeded engine meanwhile."""
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        seen.append(statement)

    event.listen(seeded.engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(seeded.engine, "before_cursor_execute", record)


def register(app: Any, username: str) -> None:
    """A new account, written through the app's own sessions (as the CLI's or the app's)."""
    with app.state.resources.sessions() as session:
        auth.register_user(session, username, f"{username}@example.com", PASSWORD)


async def player(http: httpx.AsyncClient, seeded: Seeded, token: str) -> httpx.Response:
    return await http.get(f"/api/players/{seeded.nicknames[0]}", headers=bearer(token))


async def test_an_unchanged_answer_reads_no_database(seeded, tmp_path, redis_url) -> None:
    one, two = two_processes(seeded, tmp_path, redis_url)
    name = f"quiet-{uuid.uuid4().hex[:6]}"
    register(one, name)
    async with client(one) as a, client(two) as b:
        pair = await login(a, name)
        for http in (a, b):  # first answers: computed, the generation learnt
            assert (await player(http, seeded, pair["access_token"])).status_code == 200
        with statements(seeded) as seen:
            for _ in range(5):
                for http in (a, b):
                    response = await player(http, seeded, pair["access_token"])
                    assert response.status_code == 200, response.text
        assert seen == []


async def test_a_logout_on_one_process_ends_the_token_on_the_other(
    seeded, tmp_path, redis_url
) -> None:
    one, two = two_processes(seeded, tmp_path, redis_url)
    name = f"leave-{uuid.uuid4().hex[:6]}"
    register(one, name)
    async with client(one) as a, client(two) as b:
        pair = await login(a, name)
        assert (await player(b, seeded, pair["access_token"])).status_code == 200  # b learns it
        out = await a.post("/api/auth/logout", headers=bearer(pair["access_token"]))
        assert out.status_code == 204, out.text
        assert_problem(await player(b, seeded, pair["access_token"]), 401)
        assert_problem(await player(a, seeded, pair["access_token"]), 401)
        again = await login(b, name)
        assert (await player(a, seeded, again["access_token"])).status_code == 200


async def test_a_password_change_and_a_deletion_end_tokens_everywhere(
    seeded, tmp_path, redis_url
) -> None:
    one, two = two_processes(seeded, tmp_path, redis_url)
    name = f"change-{uuid.uuid4().hex[:6]}"
    register(one, name)
    async with client(one) as a, client(two) as b:
        pair = await login(a, name)
        for http in (a, b):
            assert (await player(http, seeded, pair["access_token"])).status_code == 200
        with one.state.resources.sessions() as session:
            auth.change_password(session, name, "A-new-Passw0rd-9", actor=name)
        for http in (a, b):
            assert_problem(await player(http, seeded, pair["access_token"]), 401)
        fresh = await login(b, name, "A-new-Passw0rd-9")
        for http in (a, b):
            assert (await player(http, seeded, fresh["access_token"])).status_code == 200
        with two.state.resources.sessions() as session:
            session.delete(auth.get_user(session, name))
            session.commit()
        for http in (a, b):
            assert_problem(await player(http, seeded, fresh["access_token"]), 401)
        # a new account under the same name logs in and is served
        register(two, name)
        newcomer = await login(a, name)
        for http in (a, b):
            assert (await player(http, seeded, newcomer["access_token"])).status_code == 200
