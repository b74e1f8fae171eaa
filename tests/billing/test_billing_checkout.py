"""Checkout, confirmation and portal through the official stripe library against the fake."""

from __future__ import annotations

import httpx
import pytest
import stripe
from billing_helpers import PRICE, WHSEC, actions, make_resources, make_user
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from api.main import create_app
from core import auth
from core.billing import BillingDisabled, BillingError, BillingService, CheckoutRefused
from core.db.schema import StripeEvent, Subscription
from core.fake_stripe import FakeStripe, asgi_client
from core.settings import load_settings


def test_disabled_billing_names_the_missing_variables() -> None:
    billing = BillingService()
    assert not billing.enabled
    with pytest.raises(BillingDisabled) as caught:
        billing._require()
    for name in ("STRIPE_SECRET_KEY", "STRIPE_WEBHOOK_SECRET", "STRIPE_PRICE_ID"):
        assert name in str(caught.value)
    partial = BillingService.from_settings(
        load_settings(_env_file=None, stripe_secret_key="sk_test_x", stripe_price_id="price_x")
    )
    assert partial.missing == ["STRIPE_WEBHOOK_SECRET"]
    assert partial.disabled_message is not None
    assert "STRIPE_WEBHOOK_SECRET" in partial.disabled_message
    assert "STRIPE_SECRET_KEY" not in partial.disabled_message


def test_disabled_billing_refuses_checkout(sessions: sessionmaker[Session]) -> None:
    with sessions() as s:
        user = make_user(s)
        with pytest.raises(BillingDisabled, match="STRIPE_SECRET_KEY"):
            BillingService().create_checkout_session(s, user, "http://app/ok", "http://app/no")


def test_checkout_creates_a_subscription_session_and_reuses_the_customer(
    sessions: sessionmaker[Session], fake: FakeStripe, billing: BillingService
) -> None:
    with sessions() as s:
        user = make_user(s)
        url = billing.create_checkout_session(s, user, "http://app/ok", "http://app/cancel")
        billing.create_checkout_session(s, user, "http://app/ok?x=1", "http://app/no")
        assert url.startswith(f"{fake.base_url}/checkout/cs_test_")
        first, second = fake.checkout_sessions.values()
        assert first["mode"] == "subscription"
        assert first["_price"] == PRICE
        assert first["client_reference_id"] == str(user.id)
        assert first["success_url"] == "http://app/ok?session_id={CHECKOUT_SESSION_ID}"
        assert second["success_url"] == "http://app/ok?x=1&session_id={CHECKOUT_SESSION_ID}"
        assert len(fake.customers) == 1
        row = s.scalars(select(Subscription)).one()
        assert row.stripe_customer_id == first["customer"] == second["customer"]
        assert row.status == "incomplete"
        assert not auth.is_premium(s, user.id)
        assert actions(s, "checkout_started") == 2


def test_confirm_grants_once_and_only_when_paid(
    sessions: sessionmaker[Session], fake: FakeStripe, billing: BillingService
) -> None:
    with sessions() as s:
        user = make_user(s)
        url = billing.create_checkout_session(s, user, "http://app/ok", "http://app/no")
        cs_id = url.rsplit("/", 1)[1]
        assert billing.confirm_checkout(s, cs_id, user) is False  # not paid yet
        assert not auth.is_premium(s, user.id)
        fake.complete_checkout(cs_id)
        assert billing.confirm_checkout(s, cs_id, user) is True
        assert billing.confirm_checkout(s, cs_id, user) is True
        assert auth.is_premium(s, user.id)
        assert actions(s, "grant_premium") == 1
        assert s.scalars(select(StripeEvent.id)).all() == [cs_id]
        row = s.scalars(select(Subscription)).one()
        assert row.status == "active"
        assert row.stripe_subscription_id == fake.checkout_sessions[cs_id]["subscription"]
        assert row.current_period_end is not None
        with pytest.raises(BillingError, match="already have an active subscription"):
            billing.create_checkout_session(s, user, "http://app/ok", "http://app/no")


def test_confirm_with_another_users_session_is_refused(
    sessions: sessionmaker[Session], fake: FakeStripe, billing: BillingService
) -> None:
    with sessions() as s:
        payer = make_user(s, "payer")
        thief = make_user(s, "thief")
        cs_id = billing.create_checkout_session(s, payer, "http://a/ok", "http://a/no")
        cs_id = cs_id.rsplit("/", 1)[1]
        fake.complete_checkout(cs_id)
        with pytest.raises(CheckoutRefused, match="another account"):
            billing.confirm_checkout(s, cs_id, thief)
        for bogus in ("cs_test_doesnotexist", "../v1/customers", "", "cs_" + "x" * 300):
            with pytest.raises(CheckoutRefused):
                billing.confirm_checkout(s, bogus, thief)
        assert not auth.is_premium(s, thief.id)
        assert not auth.is_premium(s, payer.id)  # nothing granted yet to anyone
        assert actions(s, "checkout_refused") == 1
        assert actions(s, "grant_premium") == 0
        assert s.scalars(select(StripeEvent)).all() == []


def test_wrong_api_key_is_an_error_not_a_grant(
    sessions: sessionmaker[Session], fake: FakeStripe
) -> None:
    billing = BillingService(
        secret_key="sk_test_wrong",
        webhook_secret=WHSEC,
        price_id=PRICE,
        api_base=fake.base_url,
        http_client=fake.http_client(),
        max_network_retries=0,
    )
    with sessions() as s:
        user = make_user(s)
        with pytest.raises(BillingError, match="unavailable"):
            billing.create_checkout_session(s, user, "http://a/ok", "http://a/no")


def test_portal_url(
    sessions: sessionmaker[Session], fake: FakeStripe, billing: BillingService
) -> None:
    with sessions() as s:
        user = make_user(s)
        with pytest.raises(BillingError, match="subscribe first"):
            billing.portal_url(s, user, "http://app/account")
        billing.create_checkout_session(s, user, "http://a/ok", "http://a/no")
        url = billing.portal_url(s, user, "http://app/account")
        assert url.startswith(f"{fake.base_url}/billing_portal/bps_test_")


def test_hosted_pay_page_sends_signed_webhooks_and_confirm_does_not_grant_twice(
    sessions: sessionmaker[Session], engine: Engine, fake: FakeStripe, billing: BillingService
) -> None:
    api = create_app(make_resources(engine), billing=billing)
    fake.webhook_url = "http://api.test/webhooks/stripe"
    fake.webhook_client = asgi_client(api, "http://api.test")
    browser = asgi_client(fake.asgi_app, fake.base_url, follow_redirects=False)
    with sessions() as s:
        user = make_user(s)
        url = billing.create_checkout_session(s, user, "http://app/ok", "http://app/no")
        cs_id = url.rsplit("/", 1)[1]
        page = browser.get(f"/checkout/{cs_id}")
        assert page.status_code == 200 and 'id="pay"' in page.text
        paid = browser.post(f"/checkout/{cs_id}/pay")
        assert paid.status_code == 303
        assert paid.headers["location"] == f"http://app/ok?session_id={cs_id}"
        assert [status for _, status in fake.deliveries] == [200, 200]
        assert auth.is_premium(s, user.id)
        assert billing.confirm_checkout(s, cs_id, user) is True
        assert actions(s, "grant_premium") == 1
        assert browser.post(f"/checkout/{cs_id}/pay").status_code == 409
        # cancel in the portal: the deleted event revokes premium
        portal = billing.portal_url(s, user, "http://app/account")
        pid = portal.rsplit("/", 1)[1]
        assert browser.post(f"/billing_portal/{pid}/cancel").status_code == 303
        assert not auth.is_premium(s, user.id)
        assert actions(s, "revoke_premium") == 1


def test_serve_in_thread_over_real_http(sessions: sessionmaker[Session], fake: FakeStripe) -> None:
    base = fake.serve_in_thread(0)
    assert base.startswith("http://127.0.0.1:")
    billing = BillingService(
        secret_key=fake.api_key,
        webhook_secret=WHSEC,
        price_id=PRICE,
        api_base=base,
        http_client=stripe.HTTPXClient(allow_sync_methods=True),
        max_network_retries=0,
    )
    with sessions() as s:
        user = make_user(s)
        url = billing.create_checkout_session(s, user, "http://app/ok", "http://app/no")
        assert url.startswith(f"{base}/checkout/")
        response = httpx.post(url + "/pay", follow_redirects=False)
        assert response.status_code == 303
        assert billing.confirm_checkout(s, url.rsplit("/", 1)[1], user) is True
    fake.stop()
    with pytest.raises(httpx.ConnectError):
        httpx.get(base + "/checkout/x", timeout=2)
