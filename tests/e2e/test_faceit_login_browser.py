"""End to end in Chromium: "Log in with FACEIT" on the Account page, the demo league's stand-in
FACEIT page, the redirect back, and the dashboard opening on "me".

Started by the test: a fresh SQLite database (migrated, no players: the callback fetches the
player who logs in from the demo league) and the Streamlit app (app/server.py, which serves the
login routes and the stand-in provider) as a subprocess. Screenshots go to
test-artifacts/faceit-login/NN-step.png.
"""

from __future__ import annotations

import os
import re
import secrets
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from core.db.engine import make_engine
from core.db.migrate import upgrade
from core.db.schema import User
from core.settings import get_settings
from core.sources import demo_league
from tests.utils.browser import FIRST_PAGE_MS, ROOT, VIEWPORT, Shots, settle, wait_http
from tests.utils.ports import free_port

pytestmark = pytest.mark.browser

TIMEOUT_MS = 30_000
LOGIN_COOKIE = "faceit_ai_login"
RELOGIN_COOKIE = "faceit_ai_auth"


@pytest.fixture
def app_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[str, str]]:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    db = f"sqlite:///{tmp_path / 'faceit.db'}"
    env = {
        "ENVIRONMENT": "test",
        "DATABASE_URL": db,
        "DATA_DIR": str(tmp_path),
        "DEMO_PLAYERS": "30",
        "DEMO_LIVE": "false",
        "SECRET_KEY": secrets.token_urlsafe(48),
        "PUBLIC_URL": url,
    }
    for name in ("FACEIT_API_KEY", "REDIS_URL", "STRIPE_SECRET_KEY"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    engine = make_engine(db)
    upgrade(engine)
    engine.dispose()
    log = tmp_path / "streamlit.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "streamlit",
                "run",
                str(ROOT / "app" / "server.py"),
                "--server.port",
                str(port),
                "--server.address",
                "127.0.0.1",
                "--server.headless",
                "true",
                "--server.fileWatcherType",
                "none",
                "--browser.gatherUsageStats",
                "false",
            ],
            cwd=ROOT,
            env=dict(os.environ),
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        # a fresh app process imports for a while on a loaded machine (see FIRST_PAGE_MS)
        wait_http(f"{url}/_stcore/health", FIRST_PAGE_MS / 1000, proc)
        yield url, db
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
        get_settings.cache_clear()
        if proc.returncode not in (0, -15, None):
            print(log.read_text(errors="replace")[-5000:])


def cookie(context: Any, name: str) -> dict[str, Any] | None:
    return next((c for c in context.cookies() if c["name"] == name), None)


def test_log_in_with_faceit_opens_my_dashboard(app_url: tuple[str, str], browser: Any) -> None:
    from playwright.sync_api import expect

    url, db = app_url
    frame = demo_league(get_settings()).players_frame()
    player_id, nickname = frame["player_id"][0], frame["nickname"][0]
    expect.set_options(timeout=TIMEOUT_MS)
    shot = Shots("faceit-login")
    context = browser.new_context(viewport=VIEWPORT)
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    try:
        page.goto(f"{url}/account")
        button = page.get_by_role("button", name="Log in with FACEIT")
        expect(button).to_be_visible(timeout=FIRST_PAGE_MS)
        expect(page.get_by_text("FACEIT's login is played by the demo league")).to_be_visible()
        settle(page)
        shot(page, "account-log-in-with-faceit")

        # the button goes to FACEIT (the stand-in), with PKCE and a state kept in the browser
        button.click()
        page.wait_for_url(re.compile(re.escape(url) + r"/demo-faceit/authorize\?.*"))
        assert "code_challenge_method=S256" in page.url and "state=" in page.url
        state = cookie(context, "faceit_ai_oidc_state")
        assert state is not None and state["httpOnly"] and state["path"] == "/auth/faceit"
        expect(page.get_by_role("heading", name="Demo FACEIT")).to_be_visible()
        page.get_by_label("Demo player").select_option(label=nickname)
        page.screenshot(path=str(shot.dir / "02-stand-in-faceit-login.png"), full_page=True)
        shot.count = 2

        # back in the app: logged in, on my own overview
        page.get_by_role("button", name="Log in as this player").click()
        page.wait_for_url(re.compile(re.escape(url) + r"/player\?player=.*"))
        expect(page.get_by_role("heading", name=nickname).first).to_be_visible(
            timeout=FIRST_PAGE_MS
        )
        expect(page.get_by_text(f"Logged in as {nickname.lower()}").first).to_be_visible()
        assert LOGIN_COOKIE not in page.evaluate("document.cookie")  # HttpOnly
        settle(page, FIRST_PAGE_MS)
        shot(page, "overview-opens-on-me")

        # the Account page names the linked player; a new tab stays logged in (re-login cookie)
        page.goto(f"{url}/account")
        expect(page.get_by_text("Linked to the FACEIT player")).to_be_visible()
        settle(page)
        shot(page, "account-linked")
        relogin = cookie(context, RELOGIN_COOKIE)
        assert relogin is not None and relogin["httpOnly"]
        tab = context.new_page()
        tab.goto(f"{url}/compare")
        expect(tab.get_by_text(f"Logged in as {nickname.lower()}").first).to_be_visible()
        # Compare starts with me (and my most frequent recent teammate)
        chosen = tab.get_by_test_id("stMultiSelect").first
        expect(chosen.get_by_text(nickname, exact=True)).to_be_visible()
        settle(tab)
        shot(tab, "compare-starts-with-me")
        tab.close()
    finally:
        context.close()

    engine = make_engine(db)
    try:
        with engine.connect() as conn:
            row = conn.execute(
                select(User.username, User.faceit_player_id).where(
                    User.faceit_player_id.is_not(None)
                )
            ).all()
    finally:
        engine.dispose()
    assert [tuple(r) for r in row] == [(nickname.lower(), player_id)]
