"""An error on a page reaches Sentry (a local capture endpoint) with the page run's request id,
the release and the app's service tag, without the secrets around it; the user reads the
reference to quote instead of a traceback."""

from __future__ import annotations

import re
from typing import Any

import pytest
import sentry_sdk

from core.sentry import init_sentry, release
from core.settings import get_settings
from tests.app.test_pages import open_page
from tests.utils.sentry_capture import SentryCapture

STRIPE_KEY = "sk_live_51Hx9SecretStripeKeyValue"
DATABASE_URL = "postgresql://faceit:pg-secret-pass@db:5432/faceit"


def test_a_page_error_reaches_sentry_with_the_reference_the_user_reads(
    seeded: dict[str, Any], sentry: SentryCapture, monkeypatch: pytest.MonkeyPatch
) -> None:
    import models.dashboard

    def broken(*args: object, **kwargs: object) -> object:
        raise RuntimeError(f"could not reach Stripe with {STRIPE_KEY} via {DATABASE_URL}")

    monkeypatch.setattr(models.dashboard, "player_overview", broken)
    monkeypatch.setenv("SENTRY_DSN", sentry.dsn)
    get_settings.cache_clear()
    assert init_sentry(get_settings(), "app")

    at = open_page("views/player.py", seeded["player_id"])

    assert at.exception, "the error is raised on to Streamlit (it shows no details to users)"
    message = at.error[0].value
    assert "Something went wrong on this page" in message
    reference = re.search(r"reference \*\*([0-9a-f]{16})\*\*", message)
    assert reference, message
    sentry_sdk.get_client().flush(timeout=5)

    events = [e for e in sentry.events() if e.get("tags", {}).get("request_id") == reference[1]]
    assert events, f"no Sentry event has the reference {reference[1]}: {sentry.events()}"
    event = events[0]
    assert event["tags"]["service"] == "app"
    assert event["release"] == release()
    assert event["exception"]["values"][-1]["type"] == "RuntimeError"
    text = sentry.text()
    assert STRIPE_KEY not in text and "pg-secret-pass" not in text
    assert "[Filtered]" in text
