"""The re-login cookie: signed with SECRET_KEY, expiring, revoked by a logout (AppTest + unit)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from sqlalchemy.orm import Session
from starlette.applications import Starlette
from streamlit.testing.v1 import AppTest

from app import auth as app_auth
from app.auth import COOKIE_ROUTE
from app.routes import routes
from core import auth
from core.db.schema import User
from core.settings import get_settings
from tests.app.conftest import APP, reset_app_state

SECRET = "a-test-secret-key-that-is-long-enough-0123456789"


@pytest.fixture
def keyed(app_settings: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SECRET_KEY", SECRET)
    reset_app_state()


def token_for(user: User, **kwargs: object) -> str:
    return app_auth.issue_cookie_token(user, **kwargs)  # type: ignore[arg-type]


def test_a_valid_cookie_names_its_user(keyed: None, users: dict[str, User]) -> None:
    token = token_for(users["free"])
    assert app_auth.user_id_from_cookie(token) == users["free"].id
    claims = auth.verify_token(SECRET, token, app_auth.COOKIE_PURPOSE)  # signed with SECRET_KEY
    assert timedelta(days=6.9) < claims.expires_at - claims.issued_at <= timedelta(days=7)


def test_the_lifetime_is_configurable(
    keyed: None, users: dict[str, User], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AUTH_COOKIE_DAYS", "1")
    reset_app_state()
    claims = auth.verify_token(SECRET, token_for(users["free"]), app_auth.COOKIE_PURPOSE)
    assert claims.expires_at - claims.issued_at == timedelta(days=1)


def test_bad_cookies_are_refused(keyed: None, users: dict[str, User]) -> None:
    user = users["free"]
    good = token_for(user)
    header, payload, signature = good.split(".")
    forged_admin = jwt.encode(
        {
            "sub": str(users["admin"].id),
            "name": "ada",
            "role": "admin",
            "purpose": app_auth.COOKIE_PURPOSE,
            "iat": int(datetime.now(UTC).timestamp()),
            "exp": int((datetime.now(UTC) + timedelta(days=1)).timestamp()),
        },
        "not-the-secret-key-but-just-as-long-0123456789",
        algorithm="HS256",
    )
    bad = [
        None,
        "",
        "garbage",
        f"{header}.{payload}.{signature[:-2]}xx",  # tampered signature
        f"{header}.{payload[:-2]}AA.{signature}",  # tampered claims
        forged_admin,  # signed with another key
        token_for(user, now=datetime.now(UTC) - timedelta(days=8)),  # expired
        auth.issue_token(SECRET, user, 3600, "api"),  # an API token, wrong purpose
        jwt.encode({"username": "freddy", "exp_date": 9e9}, SECRET, algorithm="HS256"),
    ]
    for token in bad:
        assert app_auth.user_id_from_cookie(token) is None, token


def test_a_cookie_of_a_deleted_or_renamed_user_is_refused(
    keyed: None, users: dict[str, User], sessions: Callable[[], Session]
) -> None:
    token = token_for(users["free"])
    with sessions() as session:
        user = session.get(User, users["free"].id)
        assert user is not None
        session.delete(user)
        session.commit()
    assert app_auth.user_id_from_cookie(token) is None


def with_cookie(monkeypatch: pytest.MonkeyPatch, token: str | None) -> AppTest:
    """A brand-new browser session (a refresh or a new tab) that sends ``token``."""
    monkeypatch.setattr(app_auth, "_cookie_from_request", lambda: token)
    at = AppTest.from_file(APP, default_timeout=60).run()
    at.switch_page("views/account.py").run()
    assert not at.exception, at.exception
    return at


def logged_in_as(at: AppTest) -> str | None:
    for element in at.markdown:
        if str(element.value).startswith("Logged in as **"):
            return str(element.value).split("**")[1]
    return None


def post_to_cookie_route(**request: Any) -> httpx.Response:
    """POST to the app's own cookie route (app/routes.py: what app/server.py serves next to the
    pages)."""

    async def post() -> httpx.Response:
        transport = httpx.ASGITransport(app=Starlette(routes=routes))
        async with httpx.AsyncClient(transport=transport, base_url="https://testserver") as http:
            return await http.post(COOKIE_ROUTE, **request)

    return asyncio.run(post())


def exchange(op: str, grant: str) -> httpx.Response:
    return post_to_cookie_route(json={"op": op, "grant": grant})


def set_cookie_header(response: Any) -> SimpleCookie:
    cookie: SimpleCookie = SimpleCookie()
    cookie.load(response.headers["set-cookie"])
    return cookie


def test_refresh_and_new_tab_stay_logged_in_and_logout_is_final(
    keyed: None, users: dict[str, User], monkeypatch: pytest.MonkeyPatch
) -> None:
    # log in with the form: the page posts a one-time grant until the cookie route used it
    at = with_cookie(monkeypatch, None)
    at.text_input(key="login_username").input("freddy")
    at.text_input(key="login_password").input("Correct-horse-42")
    next(b for b in at.button if b.label == "Log in").click().run()
    op, grant = at.session_state["auth_cookie_op"]
    assert op == "set"
    assert any(COOKIE_ROUTE in str(element.proto.body) for element in at.get("html"))
    answer = exchange(op, grant)
    assert answer.status_code == 204, answer.text
    cookie = set_cookie_header(answer)[app_auth.COOKIE_NAME]
    assert cookie["httponly"] and cookie["samesite"].lower() == "lax" and cookie["path"] == "/"
    assert int(cookie["max-age"]) == 7 * 86400
    token = cookie.value
    assert app_auth.user_id_from_cookie(token) == users["free"].id
    # used: the page stops posting it, and it never works again
    at.run()
    assert "auth_cookie_op" not in at.session_state
    assert exchange(op, grant).status_code == 403

    # a refresh / new tab sends the cookie: logged in again without a password
    assert logged_in_as(with_cookie(monkeypatch, token)) == "freddy"
    assert logged_in_as(with_cookie(monkeypatch, token)) == "freddy"

    # a tampered cookie gets the login form
    assert logged_in_as(with_cookie(monkeypatch, token[:-3] + "abc")) is None

    # log out (from one of the sessions): a new session generation revokes every earlier token
    tab = with_cookie(monkeypatch, token)
    next(b for b in tab.button if b.label == "Log out").click().run()
    assert logged_in_as(tab) is None
    op, grant = tab.session_state["auth_cookie_op"]
    assert op == "clear"
    cleared = set_cookie_header(exchange(op, grant))[app_auth.COOKIE_NAME]
    assert cleared.value == "" and int(cleared["max-age"]) == 0 and cleared["httponly"]
    tab.run()  # this session ignores the cookie its browser may still send
    assert logged_in_as(tab) is None

    # a refresh whose browser failed to delete the cookie is still logged out (server revocation)
    assert logged_in_as(with_cookie(monkeypatch, token)) is None

    # logging in again issues a new cookie that works
    at = with_cookie(monkeypatch, None)
    at.text_input(key="login_username").input("freddy")
    at.text_input(key="login_password").input("Correct-horse-42")
    next(b for b in at.button if b.label == "Log in").click().run()
    new_token = set_cookie_header(exchange(*at.session_state["auth_cookie_op"]))
    assert logged_in_as(with_cookie(monkeypatch, new_token[app_auth.COOKIE_NAME].value)) == "freddy"


def test_the_cookie_is_secure_only_behind_tls(
    keyed: None, users: dict[str, User], monkeypatch: pytest.MonkeyPatch
) -> None:
    for public_url, secure in [("http://127.0.0.1:8501", False), ("https://faceit.example", True)]:
        monkeypatch.setenv("PUBLIC_URL", public_url)
        get_settings.cache_clear()
        answer = exchange("set", app_auth.issue_grant(users["free"], "set"))
        assert bool(set_cookie_header(answer)[app_auth.COOKIE_NAME]["secure"]) is secure


def test_the_cookie_route_refuses_bad_grants_and_sets_nothing(
    keyed: None, users: dict[str, User], sessions: Callable[[], Session]
) -> None:
    user = users["free"]
    two_minutes_ago = datetime.now(UTC) - timedelta(minutes=2)  # the grant expired a minute ago
    bad = [
        ("set", "garbage"),
        ("set", app_auth.issue_cookie_token(user)),  # the cookie itself is not a grant
        ("set", app_auth.issue_grant(user, "clear")),  # a clear grant cannot set
        ("set", auth.issue_token(SECRET, user, 60, "web-session-set", now=two_minutes_ago)),
        ("drop", app_auth.issue_grant(user, "set")),
    ]
    for op, grant in bad:
        answer = exchange(op, grant)
        assert answer.status_code == 403, (op, grant)
        assert "set-cookie" not in answer.headers
    for body in [b"", b"not json", b"[]", b'{"op": "set"}', b'{"op": 1, "grant": "x"}']:
        answer = post_to_cookie_route(content=body)
        assert answer.status_code == 422 and "set-cookie" not in answer.headers
    # a grant of a session revoked meanwhile (logout elsewhere, password change) sets nothing
    grant = app_auth.issue_grant(user, "set")
    with sessions() as session:
        auth.revoke_sessions(session, user.id, user.username, "logout")
    assert exchange("set", grant).status_code == 403


def test_the_cookie_never_carries_entitlement(
    keyed: None, users: dict[str, User], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A premium user's cookie after cancellation: logged in, but premium is read from the DB."""
    token = token_for(users["role"])
    with get_sessions()() as session:
        auth.set_role(session, users["role"].username, "free", actor="system")
    monkeypatch.setattr(app_auth, "_cookie_from_request", lambda: token)
    at = AppTest.from_file(APP, default_timeout=60).run()
    at.switch_page("views/account.py").run()
    assert logged_in_as(at) == users["role"].username
    assert any(m.label == "Plan" and m.value == "Free" for m in at.metric)


def get_sessions() -> Callable[[], Session]:
    from core.resources import Resources

    return Resources.from_settings(get_settings()).sessions


def test_an_api_logout_or_a_password_change_revokes_the_cookie(
    keyed: None, users: dict[str, User], sessions: Callable[[], Session]
) -> None:
    """One revocation rule for both front doors (core.auth.live_user)."""
    user = users["free"]
    token = token_for(user)
    assert app_auth.user_id_from_cookie(token) == user.id
    with sessions() as session:
        auth.revoke_sessions(session, user.id, user.username, "logout")  # what the API's does
    assert app_auth.user_id_from_cookie(token) is None
    with sessions() as session:
        fresh = session.get(User, user.id)
        assert fresh is not None
        token = token_for(fresh)
        assert app_auth.user_id_from_cookie(token) == user.id
        auth.change_password(session, user.username, "Brand-new-Passw0rd", actor="ops")
    assert app_auth.user_id_from_cookie(token) is None
