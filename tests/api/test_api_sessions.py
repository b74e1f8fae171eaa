"""Sessions through the API: refresh-token rotation with reuse detection, logout, password change
and deleted users revoke tokens everywhere; token responses are never cached."""

from __future__ import annotations

import httpx
from apitest_helpers import PASSWORD, Seeded, assert_problem, bearer, login

from core import auth


def _register(seeded: Seeded, username: str) -> None:
    with seeded.sessions() as session:
        auth.register_user(session, username, f"{username}@example.com", PASSWORD)


async def _refresh(http: httpx.AsyncClient, token: str) -> httpx.Response:
    return await http.post("/api/auth/refresh", json={"refresh_token": token})


async def _player(http: httpx.AsyncClient, seeded: Seeded, access: str) -> httpx.Response:
    return await http.get(f"/api/players/{seeded.nicknames[0]}", headers=bearer(access))


async def test_a_refresh_token_works_once_and_its_reuse_revokes_the_session(http, seeded) -> None:
    _register(seeded, "rotate-me")
    first = await login(http, "rotate-me")
    second = await _refresh(http, first["refresh_token"])
    assert second.status_code == 200, second.text
    pair = second.json()
    assert pair["refresh_token"] != first["refresh_token"]
    assert (await _player(http, seeded, pair["access_token"])).status_code == 200
    # the old refresh token again: a replay (stolen?) -> refused, and the whole session ends
    replay = await _refresh(http, first["refresh_token"])
    assert_problem(replay, 401)
    assert_problem(await _refresh(http, pair["refresh_token"]), 401)
    assert_problem(await _player(http, seeded, pair["access_token"]), 401)
    # a new login works again
    again = await login(http, "rotate-me")
    assert (await _player(http, seeded, again["access_token"])).status_code == 200


async def test_logout_revokes_access_and_refresh_tokens(http, seeded) -> None:
    _register(seeded, "leave-me")
    pair = await login(http, "leave-me")
    other_device = await login(http, "leave-me")
    out = await http.post("/api/auth/logout", headers=bearer(pair["access_token"]))
    assert out.status_code == 204, out.text
    for tokens in (pair, other_device):
        assert_problem(await _player(http, seeded, tokens["access_token"]), 401)
        assert_problem(await _refresh(http, tokens["refresh_token"]), 401)
    assert_problem(await http.post("/api/auth/logout", headers=bearer(pair["access_token"])), 401)


async def test_a_password_change_revokes_every_token(http, seeded) -> None:
    _register(seeded, "change-me")
    pair = await login(http, "change-me")
    with seeded.sessions() as session:
        auth.change_password(session, "change-me", "A-new-Passw0rd-9", actor="change-me")
    assert_problem(await _player(http, seeded, pair["access_token"]), 401)
    assert_problem(await _refresh(http, pair["refresh_token"]), 401)
    fresh = await login(http, "change-me", "A-new-Passw0rd-9")
    assert (await _player(http, seeded, fresh["access_token"])).status_code == 200


async def test_a_deleted_users_token_is_refused_on_free_routes_too(http, seeded) -> None:
    _register(seeded, "delete-me")
    pair = await login(http, "delete-me")
    assert (await _player(http, seeded, pair["access_token"])).status_code == 200
    with seeded.sessions() as session:
        session.delete(auth.get_user(session, "delete-me"))
        session.commit()
    assert_problem(await _player(http, seeded, pair["access_token"]), 401)
    # the same id re-used by a new account does not revive the old token
    _register(seeded, "delete-me")
    assert_problem(await _player(http, seeded, pair["access_token"]), 401)


async def test_token_responses_are_not_stored_by_caches(http, seeded) -> None:
    _register(seeded, "no-cache-me")
    response = await http.post(
        "/api/auth/login", json={"username": "no-cache-me", "password": PASSWORD}
    )
    assert response.status_code == 200
    assert "no-store" in response.headers["cache-control"]
    refreshed = await _refresh(http, response.json()["refresh_token"])
    assert refreshed.status_code == 200
    assert "no-store" in refreshed.headers["cache-control"]
