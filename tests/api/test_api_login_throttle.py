"""Login throttling through the API: bursts, strangers, and no account enumeration.

The throttle counts failed logins per (account, client address) in one atomic statement before
the password is checked, so a burst of parallel attempts cannot check more passwords than the
limit, and a stranger's failures never lock the account for anyone else.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from apitest_helpers import PASSWORD, Seeded, assert_problem, build_app

from core import auth

BURST = 20
LIMIT = 5  # Settings.login_max_failures


def _client(app: Any, host: str) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app, raise_app_exceptions=False, client=(host, 40000)),
        base_url="http://testserver",
    )


@pytest.fixture
def counted_checks(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Every password bcrypt checks (the real check runs; the list records the candidates)."""
    checked: list[str] = []
    lock = threading.Lock()
    real = auth.check_password

    def counting(password: str, password_hash: str) -> bool:
        with lock:
            checked.append(password)
        return real(password, password_hash)

    monkeypatch.setattr(auth, "check_password", counting)
    yield checked


def _register(seeded: Seeded, username: str) -> None:
    # production-like bcrypt cost for this user, so the checks of a burst overlap in time
    rounds, auth.BCRYPT_ROUNDS = auth.BCRYPT_ROUNDS, 10
    try:
        with seeded.sessions() as session:
            auth.register_user(session, username, f"{username}@example.com", PASSWORD)
    finally:
        auth.BCRYPT_ROUNDS = rounds


async def _burst(http: httpx.AsyncClient, username: str, passwords: list[str]) -> list[int]:
    responses = await asyncio.gather(
        *(
            http.post("/api/auth/login", json={"username": username, "password": p})
            for p in passwords
        )
    )
    return [r.status_code for r in responses]


async def test_a_parallel_burst_checks_at_most_the_limit_and_never_accepts_after_it(
    seeded_postgresql: Seeded, tmp_path: Path, counted_checks: list[str]
) -> None:
    _register(seeded_postgresql, "burst-target")
    app = build_app(seeded_postgresql, tmp_path)
    async with _client(app, "198.51.100.7") as http:
        statuses = await _burst(
            http, "burst-target", [f"Wrong-guess-{i:02d}" for i in range(BURST)]
        )
        assert len(counted_checks) <= LIMIT, counted_checks
        assert statuses.count(200) == 0
        assert set(statuses) <= {401, 429}
        # after the limit, a burst carrying the right password is refused without any check
        counted_checks.clear()
        statuses = await _burst(http, "burst-target", [PASSWORD] * 5 + ["Wrong-again-1"] * 15)
        assert counted_checks == []
        assert statuses == [429] * BURST


async def test_a_stranger_cannot_lock_the_owner_out(
    seeded_postgresql: Seeded, tmp_path: Path
) -> None:
    with seeded_postgresql.sessions() as session:
        auth.register_user(session, "throttle-owner", "throttle-owner@example.com", PASSWORD)
    app = build_app(seeded_postgresql, tmp_path)
    async with _client(app, "203.0.113.66") as stranger, _client(app, "192.0.2.10") as owner:
        for _ in range(LIMIT + 3):
            await stranger.post(
                "/api/auth/login", json={"username": "throttle-owner", "password": "Guess-1234x"}
            )
        refused = await stranger.post(
            "/api/auth/login", json={"username": "throttle-owner", "password": PASSWORD}
        )
        assert_problem(refused, 429)
        ok = await owner.post(
            "/api/auth/login", json={"username": "throttle-owner", "password": PASSWORD}
        )
        assert ok.status_code == 200, ok.text


async def test_locked_and_unknown_accounts_answer_alike(
    seeded_postgresql: Seeded, tmp_path: Path
) -> None:
    """No 423 and no wording that tells an existing account from a made-up one."""
    with seeded_postgresql.sessions() as session:
        auth.register_user(session, "throttle-real", "throttle-real@example.com", PASSWORD)
    app = build_app(seeded_postgresql, tmp_path)
    answers: dict[str, list[tuple[int, str, bool]]] = {}
    async with _client(app, "198.51.100.99") as http:
        for username in ("throttle-real", "throttle-made-up"):
            seen = []
            for _ in range(LIMIT + 2):
                r = await http.post(
                    "/api/auth/login", json={"username": username, "password": "Guess-1234x"}
                )
                body = r.json()
                seen.append((r.status_code, body["detail"], "retry-after" in r.headers))
            answers[username] = seen
    assert answers["throttle-real"] == answers["throttle-made-up"]
    statuses = [status for status, _, _ in answers["throttle-real"]]
    assert 423 not in statuses
    assert statuses[-1] == 429 and answers["throttle-real"][-1][2]
    assert "locked" not in " ".join(detail for _, detail, _ in answers["throttle-real"])
