"""Billing notifications: a failed payment and a subscription ending or ended reach the user
through the notification outbox, written in the Stripe event's own transaction (both backends)."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from billing_helpers import WHSEC, make_user
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from core import notify
from core.billing import BillingService
from core.db.schema import NotificationOutbox, StripeEvent, Subscription
from core.fake_stripe import make_event, sign_payload
from core.settings import load_settings

NOW = int(time.time())
PERIOD_END = NOW + 30 * 24 * 3600


def deliver(sessions: sessionmaker[Session], event: dict[str, Any]) -> str:
    payload = json.dumps(event).encode()
    with sessions() as session:
        return BillingService(webhook_secret=WHSEC).handle_webhook(
            session, payload, sign_payload(payload, WHSEC)
        )


def subscriber(sessions: sessionmaker[Session]) -> int:
    with sessions() as session:
        user = make_user(session, "payer")
        session.add(Subscription(user_id=user.id, stripe_customer_id="cus_1", status="incomplete"))
        session.commit()
        user_id = user.id
    created = make_event("customer.subscription.created", subscription("active"), NOW)
    assert deliver(sessions, created) == "processed"
    return user_id


def subscription(status: str, **extra: Any) -> dict[str, Any]:
    return {
        "id": "sub_1",
        "object": "subscription",
        "customer": "cus_1",
        "status": status,
        "metadata": {},
        "items": {"object": "list", "data": [{"current_period_end": PERIOD_END}]},
        **extra,
    }


def failed_invoice(invoice_id: str = "in_1") -> dict[str, Any]:
    return {
        "id": invoice_id,
        "object": "invoice",
        "customer": "cus_1",
        "parent": {"subscription_details": {"subscription": "sub_1"}},
    }


def outbox(sessions: sessionmaker[Session]) -> list[NotificationOutbox]:
    with sessions() as session:
        return list(session.scalars(select(NotificationOutbox).order_by(NotificationOutbox.id)))


def test_a_failed_payment_is_announced_once_even_when_delivered_three_times(
    sessions: sessionmaker[Session],
) -> None:
    user_id = subscriber(sessions)
    assert outbox(sessions) == []  # a plain subscription start says nothing
    failed = make_event("invoice.payment_failed", failed_invoice(), NOW + 5)
    assert [deliver(sessions, failed) for _ in range(3)] == ["processed", *["duplicate"] * 2]
    (message,) = outbox(sessions)
    assert message.user_id == user_id and message.topic == "billing"
    assert message.title == "Your premium payment failed"
    assert "update your card under Manage billing" in message.body
    # the user had no channel: the in-app inbox was made for them, and it delivers
    settings = load_settings(_env_file=None)
    assert notify.send_due(sessions, settings) == 1
    with sessions() as session:
        (delivered,) = notify.inbox(session, user_id)
    assert delivered.title == "Your premium payment failed"
    # the next invoice that fails is a new message
    again = make_event("invoice.payment_failed", failed_invoice("in_2"), NOW + 6)
    assert deliver(sessions, again) == "processed"
    assert len(outbox(sessions)) == 2


def test_a_cancelled_subscription_announces_its_end_date_then_its_end(
    sessions: sessionmaker[Session],
) -> None:
    user_id = subscriber(sessions)
    ending = subscription("active", cancel_at_period_end=True)
    first = make_event("customer.subscription.updated", ending, NOW + 10)
    repeat = make_event("customer.subscription.updated", ending, NOW + 11)  # another event id
    assert deliver(sessions, first) == "processed"
    assert deliver(sessions, repeat) == "processed"
    (notice,) = outbox(sessions)  # the same end date: said once
    day = time.strftime("%d %B %Y", time.gmtime(PERIOD_END))
    assert notice.title == f"Your premium subscription ends on {day}"
    deleted = make_event("customer.subscription.deleted", subscription("canceled"), NOW + 20)
    assert deliver(sessions, deleted) == "processed"
    titles = [m.title for m in outbox(sessions)]
    assert titles == [notice.title, "Your premium subscription has ended"]
    assert {m.user_id for m in outbox(sessions)} == {user_id}


def test_a_billing_event_that_fails_leaves_neither_its_change_nor_its_message(
    sessions: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The message is part of the event's transaction: when queueing it fails, the payment
    failure is not recorded either (Stripe delivers it again), and the retry announces it."""
    subscriber(sessions)
    real = notify.queue_to_user

    def broken(*args: Any, **kwargs: Any) -> int:
        raise RuntimeError("outbox unavailable")

    monkeypatch.setattr(notify, "queue_to_user", broken)
    failed = make_event("invoice.payment_failed", failed_invoice(), NOW + 5)
    with pytest.raises(RuntimeError):
        deliver(sessions, failed)
    with sessions() as session:
        assert session.get(StripeEvent, failed["id"]) is None
        assert session.scalars(select(Subscription.status)).one() == "active"
    assert outbox(sessions) == []
    monkeypatch.setattr(notify, "queue_to_user", real)
    assert deliver(sessions, failed) == "processed"
    assert [m.title for m in outbox(sessions)] == ["Your premium payment failed"]
