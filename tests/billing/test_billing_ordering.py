"""Stripe event ordering and conflicts: same-second ties, terminal states, concurrent events.

Stripe delivers events in any order, several at once, and retries anything not answered 2xx.
The rules under test: events apply in the order (created, the object's state), a deleted
subscription is terminal for its id, every verified event is recorded, and a database conflict
is retried or answered 5xx (so Stripe retries), never acknowledged without its effect.
"""

from __future__ import annotations

import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from billing_helpers import WHSEC, actions, make_resources, make_user
from sqlalchemy import Engine, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from api.main import create_app
from core import auth
from core.billing import BillingService
from core.db.engine import make_session_factory
from core.db.schema import StripeEvent, Subscription
from core.fake_stripe import asgi_client, make_event, sign_payload

NOW = int(time.time())
PERIOD_END = NOW + 30 * 24 * 3600


def sub_obj(
    sub_id: str, status: str, customer: str = "cus_1", user_id: int | None = None
) -> dict[str, Any]:
    return {
        "id": sub_id,
        "object": "subscription",
        "customer": customer,
        "status": status,
        "metadata": {} if user_id is None else {"user_id": str(user_id)},
        "items": {"object": "list", "data": [{"current_period_end": PERIOD_END}]},
    }


def checkout_obj(user_id: int, customer: str, sub_id: str, cs_id: str) -> dict[str, Any]:
    return {
        "id": cs_id,
        "object": "checkout.session",
        "mode": "subscription",
        "status": "complete",
        "payment_status": "paid",
        "client_reference_id": str(user_id),
        "customer": customer,
        "subscription": sub_id,
    }


def deliver(billing: BillingService, session: Session, event: dict[str, Any]) -> str:
    payload = json.dumps(event).encode()
    return billing.handle_webhook(session, payload, sign_payload(payload, WHSEC))


def with_customer(session: Session, username: str = "tie", customer: str = "cus_1") -> int:
    user = make_user(session, username)
    session.add(Subscription(user_id=user.id, stripe_customer_id=customer, status="incomplete"))
    session.commit()
    return user.id


@pytest.fixture
def billing() -> BillingService:
    return BillingService(webhook_secret=WHSEC)


def recorded(session: Session) -> set[str]:
    return set(session.scalars(select(StripeEvent.id)))


@pytest.mark.parametrize("order", ["delete_first", "update_first"])
def test_a_same_second_update_never_revives_a_deleted_subscription(
    sessions: sessionmaker[Session], billing: BillingService, order: str
) -> None:
    with sessions() as s:
        user_id = with_customer(s)
    created = make_event("customer.subscription.created", sub_obj("sub_1", "active"), NOW)
    deleted = make_event("customer.subscription.deleted", sub_obj("sub_1", "canceled"), NOW + 5)
    updated = make_event("customer.subscription.updated", sub_obj("sub_1", "active"), NOW + 5)
    tail = [deleted, updated] if order == "delete_first" else [updated, deleted]
    with sessions() as s:
        for event in [created, *tail]:
            deliver(billing, s, event)
    with sessions() as s:
        row = s.scalars(select(Subscription)).one()
        assert row.status == "canceled"
        assert not auth.is_premium(s, user_id)
        assert recorded(s) >= {created["id"], deleted["id"], updated["id"]}


def test_a_deleted_subscription_is_terminal_for_its_id(
    sessions: sessionmaker[Session], billing: BillingService
) -> None:
    """Stripe never reactivates a deleted subscription: a later event for that id (a replay, a
    clock skew) changes nothing; a new subscription of the same customer does."""
    with sessions() as s:
        user_id = with_customer(s)
        deliver(
            billing, s, make_event("customer.subscription.created", sub_obj("sub_1", "active"), NOW)
        )
        deliver(
            billing,
            s,
            make_event("customer.subscription.deleted", sub_obj("sub_1", "canceled"), NOW + 5),
        )
        late = make_event("customer.subscription.updated", sub_obj("sub_1", "active"), NOW + 9)
        assert deliver(billing, s, late) == "stale"
        assert not auth.is_premium(s, user_id)
        assert late["id"] in recorded(s)
        renewed = make_event("customer.subscription.created", sub_obj("sub_2", "active"), NOW + 20)
        assert deliver(billing, s, renewed) == "processed"
        assert auth.is_premium(s, user_id)


def test_a_stale_checkout_event_writes_no_false_grant(
    sessions: sessionmaker[Session], billing: BillingService
) -> None:
    with sessions() as s:
        user_id = with_customer(s)
        deliver(
            billing, s, make_event("customer.subscription.created", sub_obj("sub_1", "active"), NOW)
        )
        deliver(
            billing,
            s,
            make_event("customer.subscription.deleted", sub_obj("sub_1", "canceled"), NOW + 5),
        )
        grants = actions(s, "grant_premium")
        late = make_event(
            "checkout.session.completed", checkout_obj(user_id, "cus_1", "sub_1", "cs_late"), NOW
        )
        deliver(billing, s, late)
        assert actions(s, "grant_premium") == grants
        assert not auth.is_premium(s, user_id)
        assert late["id"] in recorded(s)


def test_concurrent_events_for_users_without_a_row_all_take_effect(pg_engine: Engine) -> None:
    """The checkout, created and updated events of a new subscriber, delivered at once
    (PostgreSQL), for ten users: every event is recorded and every user ends premium. A delivery
    that raises stands for a 5xx answer, which Stripe retries."""
    factory = make_session_factory(pg_engine)
    billing = BillingService(webhook_secret=WHSEC)
    users = []
    with factory() as s:
        for n in range(10):
            users.append(make_user(s, f"racer{n}").id)
    events = []
    for n, user_id in enumerate(users):
        customer, sub = f"cus_r{n}", f"sub_r{n}"
        events += [
            make_event(
                "checkout.session.completed", checkout_obj(user_id, customer, sub, f"cs_r{n}"), NOW
            ),
            make_event(
                "customer.subscription.created", sub_obj(sub, "active", customer, user_id), NOW
            ),
            make_event(
                "customer.subscription.updated", sub_obj(sub, "active", customer, user_id), NOW + 1
            ),
        ]
    barrier = threading.Barrier(len(events))
    outcomes: list[str] = []

    def stripe_delivers(event: dict[str, Any]) -> str:
        barrier.wait()
        for _attempt in range(5):  # Stripe retries a failed delivery
            try:
                with factory() as s:
                    return deliver(billing, s, event)
            except Exception as exc:  # the route answers these 5xx
                outcomes.append(type(exc).__name__)
        return "gave up"

    with ThreadPoolExecutor(max_workers=len(events)) as pool:
        results = list(pool.map(stripe_delivers, events))
    assert "gave up" not in results
    assert "duplicate" not in results, results
    with factory() as s:
        assert recorded(s) >= {event["id"] for event in events}
        for user_id in users:
            row = s.scalar(select(Subscription).where(Subscription.user_id == user_id))
            assert row is not None and row.status == "active", user_id
            assert auth.is_premium(s, user_id)
            assert row.stripe_subscription_id is not None


def test_a_conflict_that_persists_is_answered_503_and_not_recorded(
    engine: Engine, sessions: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    with sessions() as s:
        with_customer(s)

    def conflict(*_args: Any, **_kwargs: Any) -> str:
        raise IntegrityError("UPDATE subscriptions ...", {}, Exception("unique violation"))

    monkeypatch.setattr(BillingService, "_on_subscription", conflict)
    event = make_event("customer.subscription.created", sub_obj("sub_1", "active"), NOW)
    payload = json.dumps(event).encode()
    app = create_app(make_resources(engine), billing=BillingService(webhook_secret=WHSEC))
    with asgi_client(app) as client:
        response = client.post(
            "/webhooks/stripe",
            content=payload,
            headers={"Stripe-Signature": sign_payload(payload, WHSEC)},
        )
    assert response.status_code == 503
    assert response.headers["content-type"].startswith("application/problem+json")
    assert int(response.headers["retry-after"]) >= 1
    with sessions() as s:
        assert event["id"] not in recorded(s)
