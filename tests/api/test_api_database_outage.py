"""A sick database, on a private PostgreSQL cluster (never the shared server): stopped, the API
answers 503 problems with Retry-After and recovers without a restart; frozen (SIGSTOP), /healthz
and /metrics still answer and every other request gets a 503 before the thaw (issue 16 items
6, 7: 500s without Retry-After; /healthz and /metrics timed out after 15 s with ~60 requests in
flight; requests holding a pooled connection hung for the whole freeze)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from apitest_helpers import (
    PASSWORD,
    assert_problem,
    bearer,
    client,
    login,
    make_config,
    make_settings,
)
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from api.main import create_app
from core import auth
from core.db.deadline import DatabaseNotAnswering
from core.db.engine import make_engine
from core.db.migrate import upgrade
from core.resources import Resources
from core.settings import Settings
from tests.utils.postgres_cluster import PrivateCluster, create_cluster

USER = "outage-user"
# what a liveness probe allows (Kubernetes' timeoutSeconds is 1 by default)
PROBE_TIMEOUT = 1.0
# more login attempts during an outage than the login throttle allows
LOGINS_DURING_OUTAGE = Settings.model_fields["login_max_failures"].default + 2
# parallel logins held up by a frozen database: fewer than the throttle's limit, which counts a
# login attempt before its password is checked (a burst beyond it is refused, by design)
LOGINS_IN_FLIGHT = Settings.model_fields["login_max_failures"].default - 1
# the client's deadline on a frozen database in these tests (seconds)
FROZEN_RESPONSE_TIMEOUT = 1.5
# turns a hung request into a failure; far above anything the deadlines allow
HANG_GUARD_SECONDS = 60


@pytest.fixture(scope="module")
def cluster() -> Iterator[PrivateCluster]:
    cluster = create_cluster()
    try:
        engine = make_engine(cluster.url)
        upgrade(engine)
        with engine.connect() as conn, auth_rounds():
            from sqlalchemy.orm import Session

            with Session(conn) as session:
                auth.register_user(session, USER, f"{USER}@example.com", PASSWORD, "free")
        engine.dispose()
        yield cluster
    finally:
        cluster.drop()


class auth_rounds:
    def __enter__(self) -> None:
        self.rounds, auth.BCRYPT_ROUNDS = auth.BCRYPT_ROUNDS, 4

    def __exit__(self, *exc: object) -> None:
        auth.BCRYPT_ROUNDS = self.rounds


@pytest.fixture
async def api(cluster: PrivateCluster, tmp_path: Path) -> AsyncIterator[Any]:
    """An app on the private cluster, its engine built from settings (with their timeouts)."""
    settings = make_settings(
        cluster.url,
        tmp_path,
        database_connect_timeout_seconds=2,
        database_pool_timeout_seconds=2,
        api=make_config(),
    )
    resources = Resources.from_settings(settings)
    app = create_app(resources)
    try:
        async with client(app) as http:
            yield http
    finally:
        resources.close()


async def _probe(http: Any, path: str) -> Any:
    return await asyncio.wait_for(http.get(path), PROBE_TIMEOUT)


async def test_stopped_database_is_503_with_retry_after_and_recovers(cluster, api) -> None:
    http = api
    tokens = await login(http, USER)
    headers = bearer(tokens["access_token"])
    assert (await http.get("/api/players/nobody", headers=headers)).status_code == 404
    cluster.stop()  # a crash (immediate stop) right after the login was acknowledged
    try:
        # more attempts than the login throttle allows: an outage is not a wrong password
        answers = [
            await http.post("/api/auth/login", json={"username": USER, "password": PASSWORD})
            for _ in range(LOGINS_DURING_OUTAGE)
        ] + [
            await http.post("/api/auth/refresh", json={"refresh_token": tokens["refresh_token"]}),
            await http.get("/api/players/nobody", headers=headers),
            await http.get("/api/players/nobody/matches", headers=headers),
        ]
        for answer in answers:
            problem = assert_problem(answer, 503)
            assert problem["type"].endswith("/database-unavailable")
            assert int(answer.headers["retry-after"]) >= 1
        health = await _probe(http, "/healthz")
        assert health.status_code == 200 and health.json() == {"status": "ok"}
        assert (await _probe(http, "/metrics")).status_code == 200
        ready = assert_problem(await http.get("/readyz"), 503)
        assert ready["checks"]["database"]["ok"] is False
    finally:
        cluster.start()
    # the same process recovers, no restart: the session from before the crash goes on (its
    # refresh token was committed before the crash), and the account is not throttled
    refresh = {"refresh_token": tokens["refresh_token"]}
    refreshed = await http.post("/api/auth/refresh", json=refresh)
    assert refreshed.status_code == 200, refreshed.text
    again = await login(http, USER)
    assert (
        await http.get("/api/players/nobody", headers=bearer(again["access_token"]))
    ).status_code == 404
    assert (await http.get("/readyz")).json()["status"] == "ready"


@pytest.fixture
async def frozen_api(cluster: PrivateCluster, tmp_path: Path) -> AsyncIterator[Any]:
    """An app on the private cluster with short deadlines: a statement 0.5 s on the server, any
    answer FROZEN_RESPONSE_TIMEOUT s on the client, connecting and a pooled connection 1 s."""
    settings = make_settings(
        cluster.url,
        tmp_path,
        database_connect_timeout_seconds=1,
        database_pool_timeout_seconds=1,
        database_statement_timeout_seconds=0.5,
        database_response_timeout_seconds=FROZEN_RESPONSE_TIMEOUT,
        api=make_config(),
    )
    resources = Resources.from_settings(settings)
    app = create_app(resources)
    try:
        async with client(app) as http:
            yield http
    finally:
        resources.close()


async def test_frozen_database_is_503_while_frozen_and_recovers(cluster, frozen_api) -> None:
    """SIGSTOP of the postmaster and every backend: the server enforces no statement_timeout
    and the kernel still acknowledges every packet, so only the client's own deadline ends the
    wait of a request that holds (or pings) a pooled connection. Every request is answered,
    503 problem+json with Retry-After, while the database is still frozen; /healthz and
    /metrics answer throughout; once thawed the same process serves again."""
    http = frozen_api
    tokens = await login(http, USER)
    headers = bearer(tokens["access_token"])
    # open connections in the pool: the requests below take them (and ping them) while frozen
    warm = await asyncio.gather(
        *(http.get(f"/api/players/warm-{i}", headers=headers) for i in range(8))
    )
    assert {a.status_code for a in warm} == {404}
    pids = cluster.freeze()
    try:
        in_flight = [
            asyncio.create_task(http.get(f"/api/players/nobody-{i}", headers=headers))
            for i in range(50)
        ] + [
            asyncio.create_task(
                http.post("/api/auth/login", json={"username": USER, "password": PASSWORD})
            )
            for _ in range(LOGINS_IN_FLIGHT)
        ]
        await asyncio.sleep(0.3)  # the requests are now waiting on the database
        for _ in range(3):
            health = await _probe(http, "/healthz")
            assert health.status_code == 200 and health.json() == {"status": "ok"}
            metrics = await _probe(http, "/metrics")
            assert metrics.status_code == 200 and "faceit_ai_api_requests_total" in metrics.text
        # answered while the database is still frozen (the guard turns a hang into a failure;
        # without the client's deadline these requests wait for the thaw, however long)
        answers = await asyncio.wait_for(asyncio.gather(*in_flight), HANG_GUARD_SECONDS)
        for answer in answers:
            problem = assert_problem(answer, 503)
            assert problem["type"].endswith("/database-unavailable")
            assert int(answer.headers["retry-after"]) >= 1
        # a request arriving now is answered too, and readiness says the database is down
        late = await asyncio.wait_for(
            http.get("/api/players/late", headers=headers), HANG_GUARD_SECONDS
        )
        assert_problem(late, 503)
        ready = await asyncio.wait_for(http.get("/readyz"), HANG_GUARD_SECONDS)
        assert assert_problem(ready, 503)["checks"]["database"]["ok"] is False
    finally:
        cluster.thaw(pids)
    # no restart: the broken connections were dropped, fresh ones serve, the session goes on
    after = await http.get("/api/players/nobody", headers=headers)
    assert after.status_code == 404, after.text
    refreshed = await http.post(
        "/api/auth/refresh", json={"refresh_token": tokens["refresh_token"]}
    )
    assert refreshed.status_code == 200, refreshed.text
    assert (await login(http, USER))["access_token"]
    assert (await http.get("/readyz")).json()["status"] == "ready"


def test_a_frozen_database_ends_a_statement_on_a_held_connection(cluster) -> None:
    """The mechanism underneath: a connection already open when the server froze (no new
    connect, no pool) gets DatabaseNotAnswering from its own deadline and is discarded; the
    next checkout connects afresh."""
    engine = make_engine(cluster.url, connect_timeout=1, response_timeout=FROZEN_RESPONSE_TIMEOUT)
    try:
        conn = engine.connect()
        assert conn.execute(text("SELECT 1")).scalar() == 1
        pids = cluster.freeze()
        try:
            with pytest.raises(OperationalError) as raised:
                conn.execute(text("SELECT 2"))
            assert isinstance(raised.value.orig, DatabaseNotAnswering)
            assert conn.invalidated
            conn.close()
        finally:
            cluster.thaw(pids)
        with engine.connect() as fresh:
            assert fresh.execute(text("SELECT 3")).scalar() == 3
    finally:
        engine.dispose()


def test_statement_timeout_from_settings(postgres_url: str, tmp_path: Path) -> None:
    """A statement running longer than DATABASE_STATEMENT_TIMEOUT_SECONDS is cancelled."""
    settings = make_settings(postgres_url, tmp_path, database_statement_timeout_seconds=0.2)
    resources = Resources.from_settings(settings)
    try:
        with resources.engine.connect() as conn:
            conn.execute(text("SELECT pg_sleep(0.05)"))
            with pytest.raises(OperationalError, match="statement timeout"):
                conn.execute(text("SELECT pg_sleep(3)"))
    finally:
        resources.close()
