"""Log in with FACEIT against the demo league's stand-in provider, through the app's own routes
(app/routes.py) as a browser drives them: cookies kept, redirects followed one by one.

Every refusal (tampered state, a callback from another browser, a wrong nonce, a replayed
callback or code, a token signed by a key the provider does not publish, an expired token, a
PKCE verifier that does not match, a cancelled login) is checked for its message and for what
it left in the database: nothing linked, no account made.
"""

from __future__ import annotations

import asyncio
import html
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session
from starlette.applications import Starlette
from streamlit.testing.v1 import AppTest

from app import auth as app_auth
from app.routes import STATE_COOKIE, routes
from core.db.schema import AuditLog, FaceitLoginFlow, User
from core.demo_league.oidc import DemoOidcProvider, new_signing_key, provider_for
from core.faceit_login import REFUSALS
from core.settings import (
    DEMO_OIDC_CLIENT_ID,
    FACEIT_DISCOVERY_URL,
    get_settings,
    load_settings,
)
from core.sources import demo_league
from tests.app.conftest import APP, reset_app_state, shown

SECRET = "a-test-secret-key-that-is-long-enough-0123456789"
PUBLIC = "http://127.0.0.1:8599"


@pytest.fixture
def demo(app_settings: Path, monkeypatch: pytest.MonkeyPatch) -> DemoOidcProvider:
    """The default set-up's settings (demo league, SQLite) and its stand-in provider, reset."""
    monkeypatch.setenv("SECRET_KEY", SECRET)
    monkeypatch.setenv("PUBLIC_URL", PUBLIC)
    reset_app_state()
    provider = provider_for(get_settings())
    provider.signing_key = provider.key
    provider.id_token_seconds = 300
    provider.nonce_override = None
    return provider


def league_players(count: int) -> list[tuple[str, str]]:
    frame = demo_league(get_settings()).players_frame()
    return list(zip(frame["player_id"], frame["nickname"], strict=True))[:count]


class Browser:
    """One browser: a cookie jar, every request to the app's routes (and the stand-in it
    serves under /demo-faceit) in process."""

    def __init__(self) -> None:
        transport = httpx.ASGITransport(app=Starlette(routes=routes))
        self.http = httpx.AsyncClient(transport=transport, base_url=PUBLIC)

    async def start(self, link: str | None = None) -> httpx.Response:
        """Press "Log in with FACEIT" (or the Account page's link button): 302 to FACEIT."""
        answer = await self.http.get(
            "/auth/faceit/login", params={"link": link} if link is not None else None
        )
        return answer

    async def authorize(self, authorize_url: str, player_id: str, action: str = "login") -> str:
        """On the (stand-in) FACEIT page, pick the player and press the button: the callback
        URL FACEIT sends the browser back to."""
        page = await self.http.get(authorize_url)
        assert page.status_code == 200, page.text
        assert "Demo FACEIT" in page.text and player_id in page.text
        fields = {
            name: html.unescape(value)
            for name, value in re.findall(r'name="([^"]+)" value="([^"]*)"', page.text)
        }
        fields.update(player_id=player_id, action=action)
        answer = await self.http.post(authorize_url.split("?")[0], data=fields)
        assert answer.status_code == 303, answer.text
        return answer.headers["location"]

    async def login(self, player_id: str, link: str | None = None) -> tuple[str, httpx.Response]:
        """The whole round trip: (the callback URL, the callback's answer)."""
        started = await self.start(link)
        assert started.status_code == 302, started.text
        callback = await self.authorize(started.headers["location"], player_id)
        return callback, await self.http.get(callback)

    async def close(self) -> None:
        await self.http.aclose()


def run(scenario: Callable[[Browser], Any]) -> Any:
    async def go() -> Any:
        browser = Browser()
        try:
            return await scenario(browser)
        finally:
            await browser.close()

    return asyncio.run(go())


def refusal(answer: httpx.Response) -> str | None:
    """The refusal a callback answered with (its redirect to the Account page), else None."""
    assert answer.status_code == 303, answer.text
    location = urlsplit(answer.headers["location"])
    if location.path != "/account":
        return None
    return parse_qs(location.query).get("faceit", [None])[0]


def login_grant(answer: httpx.Response) -> str | None:
    for header in answer.headers.get_list("set-cookie"):
        name, _, rest = header.partition("=")
        if name == app_auth.LOGIN_COOKIE:
            return rest.split(";")[0]
    return None


def linked(sessions: Callable[[], Session]) -> list[tuple[str, str | None]]:
    with sessions() as session:
        rows = session.execute(
            select(User.username, User.faceit_player_id).where(User.faceit_player_id.is_not(None))
        ).all()
    return [(row[0], row[1]) for row in rows]


def count_users(sessions: Callable[[], Session]) -> int:
    with sessions() as session:
        return int(session.scalar(select(func.count()).select_from(User)) or 0)


def open_with(monkeypatch: pytest.MonkeyPatch, grant: str | None, page: str) -> AppTest:
    """A new page load in the browser that carries the login grant cookie."""
    monkeypatch.setattr(app_auth, "_login_grant_from_request", lambda: grant)
    monkeypatch.setattr(app_auth, "_cookie_from_request", lambda: None)
    at = AppTest.from_file(APP, default_timeout=90).run()
    at.switch_page(page).run()
    assert not at.exception, at.exception
    return at


def redirect_target(at: AppTest) -> str:
    """Where the page sends the browser (app.auth.redirect: a script, and a link as fallback)."""
    links = {b.proto.label: b.proto.url for b in at.get("link_button")}
    url = links["Continue to FACEIT"]
    assert any(
        f"window.location.assign({json.dumps(url)})" in str(e.proto.body) for e in at.get("html")
    )
    return url


def logged_in_as(at: AppTest) -> str | None:
    for element in at.markdown:
        if str(element.value).startswith("Logged in as **"):
            return shown(str(element.value).split("**")[1])
    return None


# ---------------------------------------------------------------------------------------------


def test_the_settings_default_to_the_stand_in_and_to_faceit_in_production(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in ("FACEIT_API_KEY", "FACEIT_OAUTH_CLIENT_ID", "FACEIT_OAUTH_CLIENT_SECRET"):
        monkeypatch.delenv(name, raising=False)
    demo = load_settings(public_url="https://faceit-ai.example/").faceit_oauth
    assert demo is not None and demo.demo and demo.client_id == DEMO_OIDC_CLIENT_ID
    assert demo.discovery_url == (
        "https://faceit-ai.example/demo-faceit/.well-known/openid-configuration"
    )
    assert demo.redirect_url == "https://faceit-ai.example/auth/faceit/callback"
    # with the real FACEIT API and no OAuth client, nobody is sent to a stand-in
    assert load_settings(faceit_api_key="key").faceit_oauth is None
    real = load_settings(
        faceit_api_key="key", faceit_oauth_client_id="cid", faceit_oauth_client_secret="s"
    ).faceit_oauth
    assert real is not None and not real.demo
    assert real.discovery_url == FACEIT_DISCOVERY_URL
    assert real.client_secret == "s" and "client_secret" not in repr(real)


def test_login_makes_an_account_linked_to_the_player_and_opens_its_dashboard(
    demo: DemoOidcProvider, sessions: Callable[[], Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    (player_id, nickname), *_ = league_players(1)
    before = count_users(sessions)

    async def scenario(browser: Browser) -> httpx.Response:
        started = await browser.start()
        assert started.status_code == 302
        authorize = urlsplit(started.headers["location"])
        query = parse_qs(authorize.query)
        assert f"{authorize.scheme}://{authorize.netloc}{authorize.path}" == (
            f"{PUBLIC}/demo-faceit/authorize"
        )
        assert query["code_challenge_method"] == ["S256"] and query["code_challenge"]
        assert query["state"] and query["nonce"] and query["client_id"] == [DEMO_OIDC_CLIENT_ID]
        assert "code_verifier" not in query  # the verifier never leaves the server
        state_cookie = browser.http.cookies.get(STATE_COOKIE)
        assert state_cookie == query["state"][0]
        callback = await browser.authorize(started.headers["location"], player_id)
        return await browser.http.get(callback)

    answer = run(scenario)
    assert refusal(answer) is None
    assert answer.headers["location"] == f"/player?player={nickname}"
    assert count_users(sessions) == before + 1
    assert linked(sessions) == [(nickname.lower(), player_id)]
    with sessions() as session:
        user = session.scalar(select(User).where(User.faceit_player_id == player_id))
        assert user is not None and user.faceit_nickname == nickname and user.role == "free"
        assert user.password_hash == "!faceit-login"  # no password: it logs in with FACEIT

    # the page the browser lands on is logged in and shows me, without naming me in the URL
    grant = login_grant(answer)
    assert grant is not None
    at = open_with(monkeypatch, grant, "views/player.py")
    assert shown(at.title[0].value) == nickname
    account = open_with(monkeypatch, None, "views/account.py")
    assert logged_in_as(account) is None  # the grant worked once
    # logging in again as the same player opens the same account
    again = run(lambda browser: browser.login(player_id))[1]
    assert refusal(again) is None and count_users(sessions) == before + 1
    at = open_with(monkeypatch, login_grant(again), "views/account.py")
    assert logged_in_as(at) == nickname.lower()
    assert any("Linked to the FACEIT player" in str(m.value) for m in at.markdown)


def test_a_logged_in_account_links_its_faceit_player_from_the_account_page(
    demo: DemoOidcProvider,
    users: dict[str, User],
    sessions: Callable[[], Session],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    (player_id, nickname), *_ = league_players(1)
    before = count_users(sessions)
    # the Account page of a logged-in user without a FACEIT player offers the link
    monkeypatch.setattr(app_auth, "_cookie_from_request", lambda: None)
    at = AppTest.from_file(APP, default_timeout=90)
    at.session_state["auth_user_id"] = users["free"].id
    at.run()
    at.switch_page("views/account.py").run()
    assert not at.exception, at.exception
    next(b for b in at.button if b.label == "Link my FACEIT account").click().run()
    url = redirect_target(at)
    assert url.startswith(f"{PUBLIC}/auth/faceit/login?link=")
    grant = parse_qs(urlsplit(url).query)["link"][0]

    async def scenario(browser: Browser) -> tuple[httpx.Response, httpx.Response]:
        _, answer = await browser.login(player_id, link=grant)
        reused = await browser.start(link=grant)  # the link grant works once
        return answer, reused

    answer, reused = run(scenario)
    assert answer.headers["location"] == "/account?faceit=linked"
    assert refusal(reused) == "account"
    assert count_users(sessions) == before  # linked, not a new account
    assert linked(sessions) == [("freddy", player_id)]
    at = open_with(monkeypatch, login_grant(answer), "views/account.py")
    at.query_params["faceit"] = "linked"
    at.run()
    assert logged_in_as(at) == "freddy"
    assert any(f"linked to the FACEIT player {nickname}" in shown(s.value) for s in at.success)

    # a second account cannot take the same FACEIT player
    other = app_auth.issue_link_grant(users["admin"])
    taken = run(lambda browser: browser.login(player_id, link=other))[1]
    assert refusal(taken) == "taken" and login_grant(taken) is None
    assert linked(sessions) == [("freddy", player_id)]


def test_forged_and_replayed_callbacks_are_refused_and_link_nothing(
    demo: DemoOidcProvider, sessions: Callable[[], Session]
) -> None:
    (player_id, _), *_ = league_players(1)
    before = count_users(sessions)

    async def callback_with(browser: Browser, change: Callable[[str], str]) -> httpx.Response:
        started = await browser.start()
        callback = await browser.authorize(started.headers["location"], player_id)
        return await browser.http.get(change(callback))

    def tamper_state(url: str) -> str:
        state = parse_qs(urlsplit(url).query)["state"][0]
        return url.replace(state, state[:-4] + ("AAAA" if not state.endswith("AAAA") else "BBBB"))

    async def other_browser(browser: Browser) -> httpx.Response:
        started = await browser.start()
        callback = await browser.authorize(started.headers["location"], player_id)
        stranger = Browser()  # the victim's browser opens the attacker's callback
        try:
            return await stranger.http.get(callback)
        finally:
            await stranger.close()

    async def replayed(browser: Browser) -> tuple[httpx.Response, httpx.Response, httpx.Response]:
        callback, first = await browser.login(player_id)
        # the same callback twice, even from the browser that still sends the state cookie
        state = parse_qs(urlsplit(callback).query)["state"][0]
        again = await browser.http.get(callback, headers={"Cookie": f"{STATE_COOKIE}={state}"})
        # the same code with a fresh login of this browser: FACEIT refuses a used code
        started = await browser.start()
        state = parse_qs(urlsplit(started.headers["location"]).query)["state"][0]
        code = parse_qs(urlsplit(callback).query)["code"][0]
        old_code = await browser.http.get(
            "/auth/faceit/callback", params={"code": code, "state": state}
        )
        return first, again, old_code

    cases = {
        "tampered state": (lambda b: callback_with(b, tamper_state), "state"),
        "no state": (lambda b: callback_with(b, lambda u: u.split("&state=")[0]), "state"),
        "another browser": (other_browser, "state"),
    }
    for name, (scenario, expected) in cases.items():
        answer = run(scenario)
        assert refusal(answer) == expected, name
        assert login_grant(answer) is None, name
        assert linked(sessions) == [] and count_users(sessions) == before, name

    first, again, old_code = run(replayed)
    assert refusal(first) is None and count_users(sessions) == before + 1
    assert refusal(again) == "used" and login_grant(again) is None
    assert refusal(old_code) == "code" and login_grant(old_code) is None
    assert count_users(sessions) == before + 1 and len(linked(sessions)) == 1


def test_bad_tokens_a_wrong_verifier_and_a_cancel_are_refused_and_link_nothing(
    demo: DemoOidcProvider, sessions: Callable[[], Session]
) -> None:
    (player_id, _), *_ = league_players(1)
    before = count_users(sessions)

    def misbehave(**knobs: Any) -> Callable[[Browser], Any]:
        async def scenario(browser: Browser) -> httpx.Response:
            for name, value in knobs.items():
                setattr(demo, name, value)
            try:
                return (await browser.login(player_id))[1]
            finally:
                demo.signing_key, demo.id_token_seconds, demo.nonce_override = demo.key, 300, None

        return scenario

    async def wrong_verifier(browser: Browser) -> httpx.Response:
        started = await browser.start()
        state = parse_qs(urlsplit(started.headers["location"]).query)["state"][0]
        with sessions() as session:  # the verifier the server sends is not the challenge's
            session.execute(
                update(FaceitLoginFlow)
                .where(FaceitLoginFlow.state == state)
                .values(code_verifier="x" * 64)
            )
            session.commit()
        callback = await browser.authorize(started.headers["location"], player_id)
        return await browser.http.get(callback)

    async def cancelled(browser: Browser) -> httpx.Response:
        started = await browser.start()
        callback = await browser.authorize(started.headers["location"], player_id, "cancel")
        assert "error=access_denied" in callback
        return await browser.http.get(callback)

    cases = {
        "signed by another key": (misbehave(signing_key=new_signing_key()), "signature"),
        "expired": (misbehave(id_token_seconds=-120), "expired"),
        "wrong nonce": (misbehave(nonce_override="a-nonce-of-another-login"), "claims"),
        "PKCE verifier mismatch": (wrong_verifier, "code"),
        "cancelled": (cancelled, "denied"),
    }
    for name, (scenario, expected) in cases.items():
        answer = run(scenario)
        assert refusal(answer) == expected, name
        assert login_grant(answer) is None, name
        assert linked(sessions) == [] and count_users(sessions) == before, name
    with sessions() as session:  # every flow was used up by its callback
        assert (
            session.scalar(
                select(func.count())
                .select_from(FaceitLoginFlow)
                .where(FaceitLoginFlow.used_at.is_(None))
            )
            == 0
        )
        assert not session.scalar(
            select(func.count())
            .select_from(AuditLog)
            .where(AuditLog.action.in_(["faceit_link", "register"]))
        )


def test_the_account_page_says_why_a_login_was_refused(
    demo: DemoOidcProvider, monkeypatch: pytest.MonkeyPatch
) -> None:
    at = open_with(monkeypatch, None, "views/account.py")
    at.query_params["faceit"] = "state"
    at.run()
    assert [e.value for e in at.error] == [REFUSALS["state"]]
    next(b for b in at.button if b.label == "Log in with FACEIT").click().run()
    assert redirect_target(at) == f"{PUBLIC}/auth/faceit/login"
    # only the fixed messages: anything else in the address shows nothing
    at = open_with(monkeypatch, None, "views/account.py")
    at.query_params["faceit"] = "<img src=x onerror=alert(1)>"
    at.run()
    assert not at.error and not at.exception


def test_the_stand_in_sends_nothing_to_an_unregistered_redirect_uri(
    demo: DemoOidcProvider,
) -> None:
    async def scenario(browser: Browser) -> httpx.Response:
        started = await browser.start()
        url = started.headers["location"].replace("auth%2Ffaceit%2Fcallback", "evil")
        return await browser.http.get(url)

    answer = run(scenario)
    assert answer.status_code == 400 and "location" not in answer.headers
    assert "nothing was sent back" in answer.text
