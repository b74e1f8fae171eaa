"""End to end in Chromium: register, log in, paywall, pay on (fake) Stripe, predict, log out.

Started by the test: the demo league (30 players) ingested into a SQLite file and a trained model;
the FastAPI app (the Stripe webhook) served by uvicorn in a thread; a fake Stripe served over HTTP
whose hosted checkout page sends signed webhooks to that API; the Streamlit app as a subprocess;
Debian's Chromium driven by Playwright. Premium is granted only by verified paths: the signed
webhook and/or ``confirm_checkout`` on the success return (both idempotent on the session id).

Screenshots of every step go to test-artifacts/e2e/NN-step.png (repo root, gitignored).
"""

from __future__ import annotations

import asyncio
import os
import re
import secrets
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from sqlalchemy import select

from core.db.engine import make_engine
from core.db.migrate import upgrade
from core.db.schema import AuditLog, MatchPlayer, Player, User
from core.fake_stripe import FakeStripe
from core.resources import Resources
from core.settings import get_settings
from core.sources import demo_league, run_ingest
from tests.utils.browser import FIRST_PAGE_MS, ROOT, VIEWPORT, Shots, wait_http
from tests.utils.ports import free_port

pytestmark = pytest.mark.browser

COOKIE = "faceit_ai_auth"
PRICE = "price_test_e2e_premium"
WHSEC = "whsec_test_e2e"
USERNAME = "e2e-player"
PASSWORD = "Headshot-Tap-42"
TIMEOUT_MS = 30_000


@dataclass
class Stack:
    app_url: str
    api_url: str
    stripe: FakeStripe
    resources: Resources
    log: Path


def serve_api(resources: Resources, port: int) -> tuple[uvicorn.Server, threading.Thread]:
    from api.main import create_app

    server = uvicorn.Server(
        uvicorn.Config(create_app(resources), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, name="e2e-api", daemon=True)
    thread.start()
    return server, thread


def seed(resources: Resources) -> None:
    """The demo league's players and their matches, plus the trained models."""
    from pipelines.train import run_training

    settings = resources.settings
    nicknames = list(demo_league(settings).players_frame()["nickname"])

    async def job(ingestor: Any) -> None:
        for nickname in nicknames:
            await ingestor.ingest_nickname(nickname)

    # in a thread of its own: the session's Playwright browser keeps an event loop running here
    with ThreadPoolExecutor(max_workers=1) as worker:
        worker.submit(lambda: asyncio.run(run_ingest(resources, job, roster_depth=0))).result()
    run_training(resources.sessions)


@pytest.fixture
def stack(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Stack]:
    app_port, api_port = free_port(), free_port()
    app_url, api_url = f"http://127.0.0.1:{app_port}", f"http://127.0.0.1:{api_port}"
    stripe = FakeStripe(
        webhook_secret=WHSEC, webhook_url=f"{api_url}/webhooks/stripe", prices={PRICE}
    )
    stripe_base = stripe.serve_in_thread(free_port())
    db = tmp_path / "e2e.db"
    env = {
        "ENVIRONMENT": "test",
        "DATABASE_URL": f"sqlite:///{db}",
        "DATA_DIR": str(tmp_path),
        "DEMO_PLAYERS": "30",
        "SECRET_KEY": secrets.token_urlsafe(48),
        "STRIPE_SECRET_KEY": stripe.api_key,
        "STRIPE_WEBHOOK_SECRET": WHSEC,
        "STRIPE_PRICE_ID": PRICE,
        "STRIPE_API_BASE": stripe_base,
        "PUBLIC_URL": app_url,
    }
    for name in ("FACEIT_API_KEY", "REDIS_URL"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    engine = make_engine(env["DATABASE_URL"])
    upgrade(engine)
    engine.dispose()
    resources = Resources.from_settings(get_settings())
    seed(resources)

    api_server, api_thread = serve_api(resources, api_port)
    log = tmp_path / "streamlit.log"
    child_env = {k: v for k, v in os.environ.items() if k not in {"FACEIT_API_KEY", "REDIS_URL"}}
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "streamlit",
                "run",
                str(ROOT / "app" / "server.py"),
                "--server.port",
                str(app_port),
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
            env=child_env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_http(f"{api_url}/healthz", 20)
        wait_http(f"{app_url}/_stcore/health", 60, proc)
        yield Stack(app_url, api_url, stripe, resources, log)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
        api_server.should_exit = True
        api_thread.join(timeout=10)
        stripe.stop()
        resources.close()
        get_settings.cache_clear()
        if proc.returncode not in (0, -15, None):
            print(log.read_text(errors="replace")[-5000:])


def auth_cookie(context: Any) -> dict[str, Any] | None:
    return next((c for c in context.cookies() if c["name"] == COOKIE), None)


def wait_for_cookie(context: Any, present: bool, seconds: float = 20) -> dict[str, Any] | None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        cookie = auth_cookie(context)
        if (cookie is not None) is present:
            return cookie
        time.sleep(0.2)
    raise AssertionError(f"the {COOKIE} cookie is {'missing' if present else 'still there'}")


def sidebar_link(page: Any, title: str) -> Any:
    return page.get_by_test_id("stSidebarNav").get_by_role("link", name=title)


def test_register_upgrade_predict_logout(stack: Stack, browser: Any) -> None:
    from playwright.sync_api import expect

    expect.set_options(timeout=TIMEOUT_MS)
    shot = Shots("e2e")
    context = browser.new_context(viewport=VIEWPORT)
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    try:
        # 1. register
        page.goto(f"{stack.app_url}/account")
        expect(page.get_by_role("tab", name="Create account")).to_be_visible(timeout=FIRST_PAGE_MS)
        page.get_by_role("tab", name="Create account").click()
        page.get_by_label("New username", exact=True).fill(USERNAME)
        page.get_by_label("E-mail", exact=True).fill(f"{USERNAME}@example.com")
        page.get_by_label("Choose a password", exact=True).fill(PASSWORD)
        page.get_by_label("Repeat the password", exact=True).fill(PASSWORD)
        page.get_by_role("button", name="Create account").click()
        expect(page.get_by_text(f"Account {USERNAME} created")).to_be_visible()
        shot(page, "registered")

        # 2. log in
        page.get_by_role("tab", name="Log in").click()
        page.get_by_label("Username", exact=True).fill(USERNAME)
        page.get_by_label("Password", exact=True).fill(PASSWORD)
        page.get_by_role("button", name="Log in", exact=True).click()
        expect(page.get_by_text(f"Logged in as {USERNAME}").first).to_be_visible()
        login_cookie = wait_for_cookie(context, present=True)
        assert login_cookie is not None and login_cookie["expires"] > time.time() + 6 * 86400
        # set by the server (the app's cookie route), out of reach of page scripts
        assert login_cookie["httpOnly"] is True and login_cookie["sameSite"] == "Lax"
        assert COOKIE not in page.evaluate("document.cookie")
        shot(page, "logged-in")

        # a reload (a new Streamlit session on the same page) logs in again from the cookie
        page.reload()
        expect(page.get_by_text(f"Logged in as {USERNAME}").first).to_be_visible()
        assert COOKIE not in page.evaluate("document.cookie")

        # 3. a new tab (a brand-new Streamlit session) is still logged in
        tab = context.new_page()
        tab.goto(f"{stack.app_url}/account")
        expect(tab.get_by_text(f"Logged in as {USERNAME}").first).to_be_visible()
        shot(tab, "new-tab-still-logged-in")
        tab.close()

        # 4. the predictor is premium: blocked with the upgrade call-to-action
        sidebar_link(page, "Match predictor").click()
        expect(page.get_by_text("The match predictor is a premium analysis")).to_be_visible()
        upgrade = page.get_by_role("button", name="Upgrade to premium")
        expect(upgrade).to_be_visible()
        expect(page.get_by_role("button", name="Predict", exact=True)).to_have_count(0)
        shot(page, "premium-blocked")

        # 5. Stripe Checkout (the fake's hosted page), pay, come back
        upgrade.click()
        page.wait_for_url(re.compile(r".*/checkout/cs_test_\w+$"))
        expect(page.locator("#pay")).to_be_visible()
        shot(page, "stripe-checkout")
        page.locator("#pay").click()
        page.wait_for_url(re.compile(re.escape(stack.app_url) + r"/account\?session_id=cs_"))
        expect(page.get_by_text("Payment confirmed: premium is active")).to_be_visible()
        expect(page.get_by_text("Premium", exact=True).first).to_be_visible()
        shot(page, "premium-granted")

        # 6. the predictor now predicts, its lineups pre-filled from the player being viewed
        with stack.resources.sessions() as session:
            nickname = session.scalar(
                select(Player.nickname)
                .join(MatchPlayer, MatchPlayer.player_id == Player.id)
                .order_by(Player.nickname)
                .limit(1)
            )
        page.goto(f"{stack.app_url}/predictor?player={nickname}")
        page.get_by_role("button", name="Predict", exact=True).click()
        probability = page.get_by_test_id("stMetric").filter(has_text="Win probability").first
        expect(probability).to_be_visible()
        expect(probability).to_contain_text(re.compile(r"\d{1,3}\s?%"))
        shot(page, "prediction")

        # 7. log out; the cookie is deleted
        sidebar_link(page, "Account").click()
        page.get_by_role("button", name="Log out").click()
        expect(page.get_by_text("You are logged out.")).to_be_visible()
        expect(page.get_by_role("tab", name="Log in")).to_be_visible()
        wait_for_cookie(context, present=False)
        shot(page, "logged-out")

        # 8. a refresh stays logged out
        page.reload()
        expect(page.get_by_role("tab", name="Log in")).to_be_visible()
        expect(page.get_by_text("Not logged in")).to_be_visible()
        expect(page.get_by_text(f"Logged in as {USERNAME}")).to_have_count(0)
        shot(page, "refresh-still-logged-out")

        # 9. even if the browser had kept the old cookie, the server refuses it after the logout
        context.add_cookies([login_cookie])  # type: ignore[list-item]
        page.reload()
        expect(page.get_by_role("tab", name="Log in")).to_be_visible()
        expect(page.get_by_text("Not logged in")).to_be_visible()
        shot(page, "old-cookie-refused")
    except Exception:
        shot(page, "failure")
        print("streamlit log:\n" + stack.log.read_text(errors="replace")[-4000:])
        raise
    finally:
        context.close()
        print("screenshots: " + ", ".join(shot.taken))

    # premium came from verified paths only: the signed webhook and the confirmed checkout
    assert stack.stripe.deliveries and all(status == 200 for _, status in stack.stripe.deliveries)
    with stack.resources.sessions() as session:
        user = session.scalar(select(User).where(User.username == USERNAME))
        assert user is not None
        grants = list(
            session.scalars(
                select(AuditLog).where(
                    AuditLog.action == "grant_premium", AuditLog.subject == USERNAME
                )
            )
        )
        actions = list(session.scalars(select(AuditLog.action).where(AuditLog.subject == USERNAME)))
    assert len(grants) == 1 and grants[0].actor == "stripe"
    assert actions[0] == "register" and "login" in actions and actions[-1] == "logout"
