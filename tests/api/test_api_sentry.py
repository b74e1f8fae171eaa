"""An error in the API reaches Sentry (a local capture endpoint) with the request id and release,
and without the passwords, tokens, cookies and Stripe secrets that were around it."""

from __future__ import annotations

import json
from pathlib import Path

import sentry_sdk
from apitest_helpers import Seeded, build_app, client, make_config

from core.sentry import init_sentry, release, scrub
from tests.utils.sentry_capture import SentryCapture

STRIPE_KEY = "sk_test_51Hx9SecretStripeKeyValue"
WEBHOOK_SECRET = "whsec_ZmFrZXNlY3JldGZvcnRlc3Rz"
JWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ1c2VyLTEifQ.c2lnbmF0dXJlLXZhbHVl"
PASSWORD = "hunter2-correct-horse"
COOKIE = "session=9f8e7d6c5b4a39281706abcdef"


async def test_api_error_arrives_scrubbed_with_request_id_and_release(
    seeded_sqlite: Seeded, tmp_path: Path, sentry: SentryCapture
) -> None:
    app = build_app(
        seeded_sqlite,
        tmp_path,
        config=make_config(debug_error_route=True),
        sentry_dsn=sentry.dsn,
        stripe_secret_key=STRIPE_KEY,
        stripe_webhook_secret=WEBHOOK_SECRET,
    )
    assert init_sentry(app.state.resources.settings, "api")
    async with client(app) as http:
        response = await http.post(
            "/api/debug/error",
            content=json.dumps({"username": "demo", "password": PASSWORD}),
            headers={
                "Authorization": f"Bearer {JWT}",
                "Cookie": COOKIE,
                "X-Request-ID": "req-sentry-1",
                "Content-Type": "application/json",
            },
        )
    assert response.status_code == 500
    assert response.headers["x-request-id"] == "req-sentry-1"
    sentry_sdk.get_client().flush(timeout=5)

    events = sentry.events()
    assert events, "no event reached the capture endpoint"
    event = events[0]
    assert event["release"] == release()
    assert event["tags"]["request_id"] == "req-sentry-1"
    assert event["tags"]["service"] == "api"
    values = event["exception"]["values"]
    assert values[-1]["type"] == "DebugError"
    text = sentry.text()
    for secret in (STRIPE_KEY, WEBHOOK_SECRET, JWT, PASSWORD, "9f8e7d6c5b4a39281706abcdef"):
        assert secret not in text, f"{secret[:12]}... was sent to Sentry"
    assert "[Filtered]" in text


def test_scrub_masks_by_key_and_by_shape() -> None:
    event = {
        "request": {
            "headers": [["Stripe-Signature", "t=1,v1=abc"], ["Accept", "application/json"]],
            "env": {"SECRET_KEY": "x" * 40, "HOME": "/root"},
        },
        "extra": {
            "access_token": "abc",
            "refresh_token": "def",
            "nested": [{"Password": "p"}, "postgresql://faceit:pg-pass@db:5432/faceit"],
            "message": f"calling Stripe with {STRIPE_KEY} and Bearer {JWT}",
        },
    }
    clean = scrub(event)
    assert clean["request"]["headers"] == [
        ["Stripe-Signature", "[Filtered]"],
        ["Accept", "application/json"],
    ]
    assert clean["request"]["env"] == {"SECRET_KEY": "[Filtered]", "HOME": "/root"}
    assert clean["extra"]["access_token"] == clean["extra"]["refresh_token"] == "[Filtered]"
    assert clean["extra"]["nested"][0] == {"Password": "[Filtered]"}
    assert clean["extra"]["nested"][1] == "postgresql://faceit:[Filtered]@db:5432/faceit"
    assert STRIPE_KEY not in clean["extra"]["message"] and JWT not in clean["extra"]["message"]
    assert "calling Stripe with" in clean["extra"]["message"]


def test_no_dsn_no_sentry(seeded_sqlite: Seeded, tmp_path: Path) -> None:
    app = build_app(seeded_sqlite, tmp_path)
    assert init_sentry(app.state.resources.settings, "api") is False
