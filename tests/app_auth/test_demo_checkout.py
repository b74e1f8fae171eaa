"""The default set-up's upgrade path: pricing, the labelled demo checkout on Stripe's code path,
and login that returns to the page that asked for it (AppTest)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from streamlit.testing.v1 import AppTest

from app import auth as app_auth
from core import auth
from core.billing import BillingService
from core.db.schema import AuditLog, User
from core.fake_stripe import DEMO_PRICE_ID, demo_stripe
from core.settings import get_settings, load_settings
from tests.app.conftest import APP
from tests.app_auth.conftest import PASSWORD
from tests.app_auth.test_app_auth_gates import ACCOUNT, button, log_in, logged_in, texts

PRICING = "views/pricing.py"
CHECKOUT = "views/demo_checkout.py"
PREDICTOR = "views/predictor.py"


def link_targets(at: AppTest) -> list[str]:
    return [str(e.proto.url) for e in at.get("link_button")]


def test_billing_is_stripe_with_keys_demo_without_and_off_in_production(tmp_path: Path) -> None:
    demo = BillingService.from_settings(load_settings(_env_file=None, data_dir=tmp_path))
    assert demo.demo and demo.enabled and demo.price_id == DEMO_PRICE_ID
    price = demo.price()
    assert price is not None and price.label == "€4.99 / month"
    real = BillingService.from_settings(
        load_settings(
            _env_file=None,
            stripe_secret_key="sk_live_x",
            stripe_webhook_secret="whsec_x",
            stripe_price_id="price_x",
        )
    )
    assert not real.demo and real.secret_key == "sk_live_x"
    production = BillingService.from_settings(
        load_settings(_env_file=None, environment="production", secret_key="k" * 40)
    )
    assert not production.demo and not production.enabled


def test_the_demo_secrets_are_random_per_process(tmp_path: Path) -> None:
    fake = demo_stripe("http://127.0.0.1:8501")
    assert fake.webhook_secret and len(fake.webhook_secret) > 30
    assert fake.webhook_secret not in Path("core/fake_stripe.py").read_text()


def test_pricing_shows_both_plans_and_the_price(app_settings: Path) -> None:
    at = AppTest.from_file(APP, default_timeout=60).run()
    at.switch_page(PRICING).run()
    assert not at.exception, at.exception
    assert [s.value for s in at.subheader] == ["Free", "Premium"]
    shown = texts(at)
    assert "€4.99 / month" in shown and "€0" in shown
    for name, _ in app_auth.PREMIUM_FEATURES:
        assert name in shown
    assert "nothing is charged" in shown


def test_register_upgrade_through_the_demo_checkout_then_predict(
    users: dict[str, User], sessions: Callable[[], Session]
) -> None:
    at = logged_in("freddy")
    at.switch_page(PRICING).run()
    button(at, "Upgrade to premium").click().run()
    assert not at.exception, at.exception
    (target,) = [url for url in link_targets(at) if "demo_checkout" in url]
    assert target.startswith(f"{get_settings().public_url}/demo_checkout?id=cs_test_")
    sid = target.split("id=", 1)[1]

    at.query_params["id"] = sid
    at.switch_page(CHECKOUT).run()
    assert "Demo checkout: no real payment" in at.warning[0].value
    assert "€4.99 / month" in texts(at)
    button(at, "Pay (demo)").click().run()
    assert not at.exception, at.exception
    (back,) = [url for url in link_targets(at) if "session_id=" in url]
    assert back.endswith(f"/account?session_id={sid}")

    # the signed webhooks were delivered and verified in-process, as Stripe's would be
    fake = app_auth.billing().demo_checkout
    assert fake is not None
    assert [outcome for _, outcome in fake.deliveries][-2:] == ["processed", "processed"]
    at.query_params["session_id"] = sid
    at.switch_page(ACCOUNT).run()
    assert "Payment confirmed: premium is active" in at.success[0].value, texts(at)
    with sessions() as session:
        assert auth.is_premium(session, users["free"].id)
        grants = session.scalars(
            select(AuditLog).where(AuditLog.action == "grant_premium", AuditLog.subject == "freddy")
        ).all()
    assert len(grants) == 1
    at.switch_page(PRICING).run()
    assert "You have premium" in texts(at)


def test_an_unknown_demo_checkout_link_says_what_to_do(app_settings: Path) -> None:
    at = AppTest.from_file(APP, default_timeout=60).run()
    at.query_params["id"] = "cs_test_<script>"
    at.switch_page(CHECKOUT).run()
    assert not at.exception
    assert "Start again from the pricing page" in at.error[0].value


def test_login_returns_to_the_page_that_asked(users: dict[str, User]) -> None:
    at = AppTest.from_file(APP, default_timeout=60).run()
    at.switch_page(PREDICTOR).run()
    (link,) = [e for e in at.get("page_link") if "Log in" in e.proto.label]
    assert "next=predictor" in link.proto.query_string
    at.query_params["next"] = "predictor"
    log_in(at, "freddy", PASSWORD)
    assert not at.exception, at.exception
    # back on the predictor (a free user: its upgrade call-to-action), not on Account
    assert any("The match predictor is a premium analysis" in i.value for i in at.info), texts(at)
    assert not any(t.value == "Account" for t in at.title)


@pytest.mark.parametrize("target", ["https://evil.example/x", "../account", "admin_users x"])
def test_login_never_returns_outside_the_app(users: dict[str, User], target: str) -> None:
    assert app_auth.return_target(target) is None
    at = AppTest.from_file(APP, default_timeout=60).run()
    at.query_params["next"] = target
    log_in(at, "freddy", PASSWORD)
    assert not at.exception, at.exception
    assert "Logged in as **freddy**" in texts(at)


@pytest.mark.parametrize(("username", "password"), [("freddy", "Wrong-1x"), ("nobody", PASSWORD)])
def test_every_login_failure_reads_the_same(
    users: dict[str, User], username: str, password: str
) -> None:
    at = log_in(AppTest.from_file(APP, default_timeout=60).run(), username, password)
    assert [e.value for e in at.error] == [app_auth.LOGIN_FAILED]
