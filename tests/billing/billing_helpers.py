"""Shared helpers for the billing tests."""

from __future__ import annotations

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from core import auth
from core.cache import FeatureCache
from core.db.schema import AuditLog, StripeEvent, Subscription, User
from core.resources import Resources
from core.settings import load_settings

WHSEC = "whsec_test_fake_secret"
PRICE = "price_test_premium"
PASSWORD = "correct-horse-42"


def make_user(session: Session, username: str = "ivy") -> User:
    return auth.register_user(session, username, f"{username}@example.com", PASSWORD)


def snapshot(session: Session) -> dict[str, list[tuple[object, ...]]]:
    """Every row of the tables billing may touch (to prove a rejection changed nothing)."""
    session.expire_all()
    return {
        "users": [
            (u.id, u.username, u.role) for u in session.scalars(select(User).order_by(User.id))
        ],
        "subscriptions": [
            (
                s.id,
                s.user_id,
                s.stripe_customer_id,
                s.stripe_subscription_id,
                s.status,
                s.current_period_end,
                s.last_event_at,
            )
            for s in session.scalars(select(Subscription).order_by(Subscription.id))
        ],
        "stripe_events": [
            (e.id, e.type) for e in session.scalars(select(StripeEvent).order_by(StripeEvent.id))
        ],
        "audit_log": [
            (a.id, a.action, a.subject)
            for a in session.scalars(select(AuditLog).order_by(AuditLog.id))
        ],
    }


def actions(session: Session, action: str) -> int:
    return len(list(session.scalars(select(AuditLog.id).where(AuditLog.action == action))))


def make_resources(engine: Engine) -> Resources:
    """Resources on the test database with the in-process cache (no Redis needed here)."""
    settings = load_settings(_env_file=None)
    return Resources(settings=settings, engine=engine, cache=FeatureCache(None))
