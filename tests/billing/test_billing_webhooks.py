"""POST /webhooks/stripe through the FastAPI app against a real database (both backends)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from billing_helpers import WHSEC, actions, make_resources, make_user, snapshot
from httpx import Client
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from api.main import create_app
from core import auth
from core.billing import BillingService
from core.db.engine import make_session_factory
from core.db.schema import StripeEvent, Subscription
from core.fake_stripe import asgi_client, make_event, sign_payload

NOW = int(time.time())
PERIOD_END = NOW + 30 * 24 * 3600


@pytest.fixture
def client(engine: Engine) -> Iterator[Client]:
    resources = make_resources(engine)
    app = create_app(resources, billing=BillingService(webhook_secret=WHSEC))
    with asgi_client(app) as client:
        yield client


def post(
    client: Client,
    event: dict[str, Any] | bytes,
    *,
    secret: str = WHSEC,
    timestamp: int | None = None,
    signature: str | None = None,
) -> Any:
    payload = event if isinstance(event, bytes) else json.dumps(event).encode()
    header = signature if signature is not None else sign_payload(payload, secret, timestamp)
    return client.post(
        "/webhooks/stripe",
        content=payload,
        headers={"Stripe-Signature": header, "Content-Type": "application/json"},
    )


def customer_user(session: Session, username: str = "jack", customer: str = "cus_1") -> int:
    """A user with the subscription row a checkout leaves behind (customer known, incomplete)."""
    user = make_user(session, username)
    session.add(Subscription(user_id=user.id, stripe_customer_id=customer, status="incomplete"))
    session.commit()
    return user.id


def subscription(sub_id: str, status: str, period_end: int = PERIOD_END) -> dict[str, Any]:
    return {
        "id": sub_id,
        "object": "subscription",
        "customer": "cus_1",
        "status": status,
        "metadata": {},
        "items": {"object": "list", "data": [{"current_period_end": period_end}]},
    }


def test_healthz(client: Client) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_valid_event_grants_once_when_delivered_three_times(
    client: Client, sessions: sessionmaker[Session]
) -> None:
    with sessions() as s:
        user_id = customer_user(s)
    event = make_event("customer.subscription.created", subscription("sub_1", "active"), NOW)
    outcomes = []
    for _ in range(3):
        response = post(client, event)
        assert response.status_code == 200
        assert response.json()["received"] is True
        outcomes.append(response.json()["outcome"])
    assert outcomes == ["processed", "duplicate", "duplicate"]
    with sessions() as s:
        assert s.scalars(select(StripeEvent.id)).all() == [event["id"]]
        assert actions(s, "grant_premium") == 1
        assert auth.is_premium(s, user_id)
        row = s.scalars(select(Subscription)).one()
        assert row.stripe_subscription_id == "sub_1"
        assert row.current_period_end == datetime.fromtimestamp(PERIOD_END, UTC)


def test_checkout_completed_event_grants_once(
    client: Client, sessions: sessionmaker[Session]
) -> None:
    with sessions() as s:
        user_id = customer_user(s)
    checkout = {
        "id": "cs_test_1",
        "object": "checkout.session",
        "mode": "subscription",
        "status": "complete",
        "payment_status": "paid",
        "client_reference_id": str(user_id),
        "customer": "cus_1",
        "subscription": "sub_1",
    }
    event = make_event("checkout.session.completed", checkout, NOW)
    for _ in range(3):
        assert post(client, event).status_code == 200
    with sessions() as s:
        assert sorted(s.scalars(select(StripeEvent.id))) == sorted([event["id"], "cs_test_1"])
        assert actions(s, "grant_premium") == 1
        assert auth.is_premium(s, user_id)


def test_unpaid_checkout_does_not_grant(client: Client, sessions: sessionmaker[Session]) -> None:
    with sessions() as s:
        user_id = customer_user(s)
    checkout = {
        "id": "cs_test_2",
        "object": "checkout.session",
        "mode": "subscription",
        "status": "complete",
        "payment_status": "unpaid",
        "client_reference_id": str(user_id),
        "customer": "cus_1",
    }
    assert post(client, make_event("checkout.session.completed", checkout, NOW)).status_code == 200
    with sessions() as s:
        assert not auth.is_premium(s, user_id)


def good_event() -> dict[str, Any]:
    return make_event("customer.subscription.created", subscription("sub_1", "active"), NOW)


@pytest.mark.parametrize(
    "attack",
    [
        "forged_signature",
        "wrong_secret",
        "stale_timestamp",
        "future_timestamp",
        "missing_signature",
        "signature_of_other_payload",
        "malformed_json",
        "not_an_event",
        "event_without_data",
    ],
)
def test_rejections_answer_400_and_change_nothing(
    client: Client, sessions: sessionmaker[Session], attack: str
) -> None:
    with sessions() as s:
        user_id = customer_user(s)
        before = snapshot(s)
    event = good_event()
    payload = json.dumps(event).encode()
    if attack == "forged_signature":
        response = post(client, payload, signature=f"t={NOW},v1={'0' * 64}")
    elif attack == "wrong_secret":
        response = post(client, payload, secret="whsec_someone_else")
    elif attack == "stale_timestamp":
        response = post(client, payload, timestamp=int(time.time()) - 301)
    elif attack == "future_timestamp":
        response = post(client, payload, timestamp=int(time.time()) + 3600)
    elif attack == "missing_signature":
        response = post(client, payload, signature="")
    elif attack == "signature_of_other_payload":
        other = json.dumps(make_event("ping", {"id": "x"})).encode()
        response = post(client, payload, signature=sign_payload(other, WHSEC))
    elif attack == "malformed_json":
        response = post(client, b'{"id": "evt_1", "type": ')
    elif attack == "not_an_event":
        response = post(client, b"[1, 2, 3]")
    else:
        response = post(client, {"id": "evt_x", "type": "customer.subscription.created"})
    assert response.status_code == 400
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert set(body) == {"type", "title", "status", "detail"}
    assert body["status"] == 400
    with sessions() as s:
        assert snapshot(s) == before
        assert not auth.is_premium(s, user_id)


def test_cancel_then_renew_delivered_in_reverse_order(
    client: Client, sessions: sessionmaker[Session]
) -> None:
    with sessions() as s:
        user_id = customer_user(s)
    created = make_event("customer.subscription.created", subscription("sub_1", "active"), NOW)
    cancel = make_event(
        "customer.subscription.deleted", subscription("sub_1", "canceled"), NOW + 10
    )
    renew = make_event("customer.subscription.created", subscription("sub_2", "active"), NOW + 20)
    assert post(client, created).json()["outcome"] == "processed"
    assert post(client, renew).json()["outcome"] == "processed"
    assert post(client, cancel).json()["outcome"] in {"stale", "ignored"}
    with sessions() as s:
        row = s.scalars(select(Subscription)).one()
        assert (row.stripe_subscription_id, row.status) == ("sub_2", "active")
        assert auth.is_premium(s, user_id)


def test_renewal_then_cancel_delivered_in_reverse_order(
    client: Client, sessions: sessionmaker[Session]
) -> None:
    with sessions() as s:
        user_id = customer_user(s)
    created = make_event("customer.subscription.created", subscription("sub_1", "active"), NOW)
    renewed = make_event(
        "customer.subscription.updated",
        subscription("sub_1", "active", PERIOD_END + 86400),
        NOW + 10,
    )
    cancel = make_event(
        "customer.subscription.deleted", subscription("sub_1", "canceled"), NOW + 20
    )
    for event, outcome in ((created, "processed"), (cancel, "processed"), (renewed, "stale")):
        assert post(client, event).json()["outcome"] == outcome
    with sessions() as s:
        row = s.scalars(select(Subscription)).one()
        assert row.status == "canceled"
        assert row.last_event_at == datetime.fromtimestamp(NOW + 20, UTC)
        assert not auth.is_premium(s, user_id)
        assert actions(s, "revoke_premium") == 1
        # the stale event is recorded, so Stripe's retries of it are no-ops too
        assert s.get(StripeEvent, renewed["id"]) is not None


def test_payment_failed_is_premium_until_period_end_only(
    client: Client, sessions: sessionmaker[Session]
) -> None:
    with sessions() as s:
        user_id = customer_user(s)
    created = make_event("customer.subscription.created", subscription("sub_1", "active"), NOW)
    invoice = {
        "id": "in_1",
        "object": "invoice",
        "customer": "cus_1",
        "parent": {"subscription_details": {"subscription": "sub_1"}},
    }
    failed = make_event("invoice.payment_failed", invoice, NOW + 5)
    assert post(client, created).status_code == 200
    assert post(client, failed).json()["outcome"] == "processed"
    end = datetime.fromtimestamp(PERIOD_END, UTC)
    with sessions() as s:
        row = s.scalars(select(Subscription)).one()
        assert row.status == "past_due"
        assert row.current_period_end == end
        assert auth.is_premium(s, user_id, now=end - timedelta(hours=1))
        assert not auth.is_premium(s, user_id, now=end + timedelta(seconds=1))
        assert actions(s, "subscription_update") == 1


def test_unhandled_event_type_is_acknowledged(client: Client) -> None:
    response = post(client, make_event("customer.created", {"id": "cus_9"}, NOW))
    assert response.status_code == 200
    assert response.json() == {"received": True, "outcome": "ignored"}


def test_webhook_without_configured_secret_is_503(engine: Engine) -> None:
    resources = make_resources(engine)
    with asgi_client(create_app(resources, billing=BillingService())) as client:
        response = post(client, good_event())
    assert response.status_code == 503
    assert "STRIPE_WEBHOOK_SECRET" in response.json()["detail"]


def test_concurrent_duplicate_deliveries_grant_once(pg_engine: Engine) -> None:
    """Three simultaneous deliveries of one event (PostgreSQL): one row, one grant."""
    factory = make_session_factory(pg_engine)
    with factory() as s:
        user_id = customer_user(s)
    billing = BillingService(webhook_secret=WHSEC)
    event = good_event()
    payload = json.dumps(event).encode()
    barrier = threading.Barrier(3)

    def deliver() -> str:
        barrier.wait()
        with factory() as s:
            return billing.handle_webhook(s, payload, sign_payload(payload, WHSEC))

    with ThreadPoolExecutor(max_workers=3) as pool:
        outcomes = sorted(pool.map(lambda _: deliver(), range(3)))
    assert outcomes == ["duplicate", "duplicate", "processed"]
    with factory() as s:
        assert s.scalars(select(StripeEvent.id)).all() == [event["id"]]
        assert actions(s, "grant_premium") == 1
        assert auth.is_premium(s, user_id)
