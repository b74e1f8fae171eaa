"""Login, refresh, token checks and the database-backed premium gate."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta

import jwt
import pytest
from apitest_helpers import PASSWORD, SECRET, assert_problem, bearer, login
from sqlalchemy import select

from core import auth
from core.db.schema import AuditLog, Subscription, User


async def test_login_issues_access_and_refresh_tokens(http, seeded) -> None:
    pair = await login(http, seeded.users["premium"])
    assert pair["token_type"] == "bearer"
    assert pair["role"] == "premium" and pair["premium"] is True
    header = jwt.get_unverified_header(pair["access_token"])
    assert header["alg"] == "HS256"
    access = jwt.decode(pair["access_token"], SECRET, algorithms=["HS256"])
    refresh = jwt.decode(pair["refresh_token"], SECRET, algorithms=["HS256"])
    assert access["purpose"] == "access" and refresh["purpose"] == "refresh"
    assert access["exp"] - access["iat"] == pair["expires_in"] == 900
    assert refresh["exp"] - refresh["iat"] == pair["refresh_expires_in"] > pair["expires_in"]
    assert access["role"] == "premium" and access["sub"].isdigit()


async def test_login_free_user_is_not_premium(http, seeded) -> None:
    pair = await login(http, seeded.users["free"])
    assert pair["role"] == "free" and pair["premium"] is False
    sub = await login(http, seeded.users["subscriber"])
    assert sub["role"] == "free" and sub["premium"] is True


async def test_wrong_password_and_unknown_user_get_the_same_401(http, seeded) -> None:
    wrong = await http.post(
        "/api/auth/login", json={"username": seeded.users["admin"], "password": "Nope-12345x"}
    )
    unknown = await http.post(
        "/api/auth/login", json={"username": "nobody-here", "password": "Nope-12345x"}
    )
    assert assert_problem(wrong, 401)["detail"] == assert_problem(unknown, 401)["detail"]
    # a success resets the counter again (the account stays usable for the other tests)
    await login(http, seeded.users["admin"])


async def test_repeated_failures_are_throttled_and_audited(http, seeded) -> None:
    with seeded.sessions() as session:
        auth.register_user(session, "api-lockme", "api-lockme@example.com", PASSWORD)
    statuses = []
    for _ in range(5):
        r = await http.post(
            "/api/auth/login", json={"username": "api-lockme", "password": "Wrong-pass-1"}
        )
        statuses.append(r.status_code)
    assert statuses == [401, 401, 401, 401, 429]
    throttled = await http.post(
        "/api/auth/login", json={"username": "api-lockme", "password": PASSWORD}
    )
    body = assert_problem(throttled, 429)
    assert "Too many failed logins" in body["detail"]
    assert 0 < int(throttled.headers["retry-after"]) <= 60
    with seeded.sessions() as session:
        actions = list(
            session.scalars(select(AuditLog.action).where(AuditLog.subject == "api-lockme"))
        )
    assert actions.count("login_failed") == 5
    assert "login_throttle" in actions and "login_throttled" in actions


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"username": "x"}, "body.password"),
        ({"password": "x"}, "body.username"),
        ({"username": "x", "password": "y", "extra": 1}, "body.extra"),
        ({"username": 3, "password": "y"}, "body.username"),
    ],
)
async def test_login_bad_body_is_422_naming_the_field(http, body, field) -> None:
    response = await http.post("/api/auth/login", json=body)
    problem = assert_problem(response, 422)
    assert field in [e["field"] for e in problem["errors"]]
    assert field in problem["detail"]


async def test_login_invalid_json_is_422(http) -> None:
    response = await http.post(
        "/api/auth/login", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert_problem(response, 422)


async def test_refresh_gives_a_new_pair_and_access_tokens_are_refused_there(http, tokens) -> None:
    pair = tokens["free"]
    refreshed = await http.post("/api/auth/refresh", json={"refresh_token": pair["refresh_token"]})
    assert refreshed.status_code == 200, refreshed.text
    new = refreshed.json()
    ok = await http.get("/api/players/nobody", headers=bearer(new["access_token"]))
    assert ok.status_code == 404  # authenticated, the player simply does not exist
    wrong = await http.post("/api/auth/refresh", json={"refresh_token": pair["access_token"]})
    assert_problem(wrong, 401)
    bad = await http.post("/api/auth/refresh", json={})
    assert "body.refresh_token" in [e["field"] for e in assert_problem(bad, 422)["errors"]]


async def test_refresh_token_is_not_an_access_token(http, tokens, seeded) -> None:
    nickname = seeded.nicknames[0]
    response = await http.get(
        f"/api/players/{nickname}", headers=bearer(tokens["premium"]["refresh_token"])
    )
    assert_problem(response, 401)


def _forge(claims: dict, header: dict) -> str:
    def enc(part: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(part).encode()).rstrip(b"=").decode()

    return f"{enc(header)}.{enc(claims)}."


async def test_tampered_expired_and_wrong_algorithm_tokens_are_refused(http, tokens, seeded):
    nickname = seeded.nicknames[0]
    good = tokens["free"]["access_token"]
    assert (await http.get(f"/api/players/{nickname}", headers=bearer(good))).status_code == 200
    claims = jwt.decode(good, SECRET, algorithms=["HS256"])
    head, payload, signature = good.split(".")
    elevated = dict(claims, role="admin")
    body = base64.urlsafe_b64encode(json.dumps(elevated).encode()).rstrip(b"=").decode()
    now = datetime.now(UTC)
    with seeded.sessions() as session:
        user = session.scalar(select(User).where(User.username == seeded.users["free"]))
        expired = auth.issue_token(SECRET, user, 60, "access", now=now - timedelta(hours=1))
    bad_tokens = {
        "tampered payload": f"{head}.{body}.{signature}",
        "tampered signature": f"{head}.{payload}.{signature[:-2]}xx",
        "expired": expired,
        "alg none": _forge(claims, {"alg": "none", "typ": "JWT"}),
        "other key": jwt.encode(claims, "another-secret-" + "y" * 40, algorithm="HS256"),
        "HS512": jwt.encode(claims, SECRET, algorithm="HS512"),
        "garbage": "not-a-jwt",
        "no purpose": jwt.encode({k: v for k, v in claims.items() if k != "purpose"}, SECRET),
    }
    for name, token in bad_tokens.items():
        response = await http.get(f"/api/players/{nickname}", headers=bearer(token))
        problem = assert_problem(response, 401)
        assert "Bearer" in response.headers["www-authenticate"], name
        assert token not in problem["detail"]


async def test_missing_or_malformed_authorization_is_401(http, seeded) -> None:
    nickname = seeded.nicknames[0]
    for headers in ({}, {"Authorization": "Basic Zm9vOmJhcg=="}, {"Authorization": "Bearer"}):
        response = await http.get(f"/api/players/{nickname}", headers=headers)
        assert_problem(response, 401)
        assert response.headers["www-authenticate"].startswith("Bearer")


async def test_role_and_subscription_changes_apply_immediately(http, seeded) -> None:
    body = {"lineup_a": seeded.nicknames[:2], "lineup_b": seeded.nicknames[2:4]}
    with seeded.sessions() as session:
        auth.register_user(session, "api-downgrade", "api-down@example.com", PASSWORD, "premium")
        auth.register_user(session, "api-cancel", "api-cancel@example.com", PASSWORD)
        user = auth.get_user(session, "api-cancel")
        session.add(Subscription(user_id=user.id, status="active", updated_at=datetime.now(UTC)))
        session.commit()
    down = await login(http, "api-downgrade")
    cancel = await login(http, "api-cancel")
    for pair in (down, cancel):
        ok = await http.post(
            "/api/analysis/analyze", json=body, headers=bearer(pair["access_token"])
        )
        assert ok.status_code == 200, ok.text
    with seeded.sessions() as session:
        auth.set_role(session, "api-downgrade", "free", actor="test")
        sub = session.scalar(select(Subscription).where(Subscription.user_id == user.id))
        sub.status = "canceled"
        session.commit()
    for pair in (down, cancel):  # same, still unexpired token
        refused = await http.post(
            "/api/analysis/analyze", json=body, headers=bearer(pair["access_token"])
        )
        assert assert_problem(refused, 403)["type"].endswith("premium-required")
    # the next token carries the current role
    refreshed = await http.post("/api/auth/refresh", json={"refresh_token": down["refresh_token"]})
    assert refreshed.json()["role"] == "free" and refreshed.json()["premium"] is False
    with seeded.sessions() as session:
        auth.set_role(session, "api-downgrade", "premium", actor="test")
    again = await http.post(
        "/api/analysis/analyze", json=body, headers=bearer(refreshed.json()["access_token"])
    )
    assert again.status_code == 200, again.text


async def test_deleted_user_token_is_refused_on_premium_routes(http, seeded) -> None:
    with seeded.sessions() as session:
        auth.register_user(session, "api-gone", "api-gone@example.com", PASSWORD, "premium")
    pair = await login(http, "api-gone")
    with seeded.sessions() as session:
        session.delete(auth.get_user(session, "api-gone"))
        session.commit()
    response = await http.get(
        f"/api/players/{seeded.nicknames[0]}/playstyle", headers=bearer(pair["access_token"])
    )
    assert_problem(response, 401)
    refresh = await http.post("/api/auth/refresh", json={"refresh_token": pair["refresh_token"]})
    assert_problem(refresh, 401)


async def test_a_verified_token_is_refused_once_it_expires(http, seeded, monkeypatch) -> None:
    """Verified tokens are remembered (api.deps.verified_tokens), but never past their expiry
    (the cache's clock is moved, nothing sleeps)."""
    from api.deps import verified_tokens

    issued = datetime.now(UTC)
    clock = {"now": issued}
    monkeypatch.setattr(verified_tokens, "clock", lambda: clock["now"])
    with seeded.sessions() as session:
        user = session.scalar(select(User).where(User.username == seeded.users["free"]))
        token = auth.issue_token(SECRET, user, 60, "access", now=issued)
    url = f"/api/players/{seeded.nicknames[0]}"
    for seconds in (0, 59):  # verified, then served from the cache of verified tokens
        clock["now"] = issued + timedelta(seconds=seconds)
        assert (await http.get(url, headers=bearer(token))).status_code == 200
    assert (SECRET, token) in verified_tokens._data
    exp = jwt.decode(token, SECRET, algorithms=["HS256"])["exp"]
    clock["now"] = datetime.fromtimestamp(exp, UTC)  # PyJWT's rule: expired at exp
    refused = await http.get(url, headers=bearer(token))
    assert assert_problem(refused, 401)["type"].endswith("invalid-token")
    assert (SECRET, token) not in verified_tokens._data
