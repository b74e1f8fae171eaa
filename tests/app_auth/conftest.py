"""Fixtures of the login/paywall tests: a fresh SQLite app database with users of every kind."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from core import auth
from core.db.engine import make_engine, make_session_factory
from core.db.schema import Subscription, User
from core.fake_stripe import FakeStripe
from core.settings import get_settings
from tests.app.conftest import app_settings, reset_app_state, seeded  # noqa: F401

PASSWORD = "Correct-horse-42"
PRICE = "price_test_premium"
WHSEC = "whsec_test_app_auth"


@pytest.fixture(autouse=True)
def fast_bcrypt(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(auth, "BCRYPT_ROUNDS", 4)


@pytest.fixture
def db(app_settings: Path) -> Iterator[Engine]:  # noqa: F811
    engine = make_engine(f"sqlite:///{app_settings}")
    yield engine
    engine.dispose()


@pytest.fixture
def sessions(db: Engine) -> Callable[[], Session]:
    return make_session_factory(db)


@pytest.fixture
def users(sessions: Callable[[], Session]) -> dict[str, User]:
    """free, premium (active subscription), operator-premium (role), admin."""
    made = {}
    with sessions() as session:
        for username, role in [
            ("freddy", "free"),
            ("paula", "free"),
            ("rolf", "premium"),
            ("ada", "admin"),
        ]:
            made[username] = auth.register_user(
                session, username, f"{username}@example.com", PASSWORD, role
            )
        now = datetime.now(UTC)
        session.add(
            Subscription(
                user_id=made["paula"].id,
                status="active",
                stripe_customer_id="cus_test_paula",
                stripe_subscription_id="sub_test_paula",
                last_event_at=now,
                updated_at=now,
            )
        )
        session.commit()
    return {
        "free": made["freddy"],
        "premium": made["paula"],
        "role": made["rolf"],
        "admin": made["ada"],
    }


@pytest.fixture
def stripe_env(app_settings: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeStripe]:  # noqa: F811
    """Payments enabled against a fake Stripe served on loopback."""
    fake = FakeStripe(webhook_secret=WHSEC, prices={PRICE})
    base = fake.serve_in_thread()
    monkeypatch.setenv("STRIPE_SECRET_KEY", fake.api_key)
    monkeypatch.setenv("STRIPE_WEBHOOK_SECRET", WHSEC)
    monkeypatch.setenv("STRIPE_PRICE_ID", PRICE)
    monkeypatch.setenv("STRIPE_API_BASE", base)
    monkeypatch.setenv("PUBLIC_URL", "http://127.0.0.1:8599")
    reset_app_state()
    assert get_settings().payments_enabled
    yield fake
    fake.stop()
