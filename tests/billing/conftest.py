from __future__ import annotations

from collections.abc import Iterator

import pytest
from billing_helpers import PRICE, WHSEC

from core import auth
from core.billing import BillingService
from core.fake_stripe import FakeStripe


@pytest.fixture(autouse=True)
def fast_bcrypt(monkeypatch: pytest.MonkeyPatch) -> None:
    """Cheap bcrypt cost in tests (the production cost is 12)."""
    monkeypatch.setattr(auth, "BCRYPT_ROUNDS", 4)


@pytest.fixture
def fake() -> Iterator[FakeStripe]:
    fake = FakeStripe(webhook_secret=WHSEC, prices={PRICE})
    yield fake
    fake.stop()


@pytest.fixture
def billing(fake: FakeStripe) -> BillingService:
    return BillingService(
        secret_key=fake.api_key,
        webhook_secret=WHSEC,
        price_id=PRICE,
        api_base=fake.base_url,
        http_client=fake.http_client(),
        max_network_retries=0,
    )
