"""Property-based tests over the OpenAPI document (schemathesis): no 5xx, no schema violations.

Runs on the PostgreSQL-seeded database with a premium token, so every route's success path is
reachable; a few examples per operation keep it fast.
"""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from apitest_helpers import PASSWORD, Seeded, build_app
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from api.main import create_app
from core import auth
from core.billing import BillingService


@pytest.fixture(scope="module")
def schema_app(seeded_postgresql: Seeded, tmp_path_factory: pytest.TempPathFactory) -> Any:
    app = build_app(
        seeded_postgresql,
        tmp_path_factory.mktemp("schemathesis"),
        faceit_webhook_secret="faceit-schemathesis",  # a delivery without it is a 401, not a 503
    )
    # payments configured, so an unsigned webhook is a 400 (not "payments disabled", a 503)
    app.state.billing = BillingService(
        secret_key="sk_test_schemathesis",
        webhook_secret="whsec_schemathesis",
        price_id="price_schemathesis",
        max_network_retries=0,
    )
    return app


@pytest.fixture(scope="module")
def premium_token(schema_app: Any, seeded_postgresql: Seeded) -> str:
    with seeded_postgresql.sessions() as session:
        user = auth.authenticate(
            session,
            seeded_postgresql.users["premium"],
            PASSWORD,
            source="test",
            max_failures=5,
            lockout_minutes=15,
        )
        return auth.issue_token(
            schema_app.state.resources.settings.resolved_secret_key(), user, 3600, "access"
        )


class DeferredApp:
    """An ASGI app that forwards to the app a fixture builds (the schema is loaded at import,
    before the seeded database exists; schemathesis' ``from_fixture`` does not support pytest 9)."""

    def __init__(self) -> None:
        self.target: Any = None

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":  # the real app's resources are set directly
            while True:
                message = await receive()
                kind = message["type"].rsplit(".", 1)[-1]
                await send({"type": f"lifespan.{kind}.complete"})
                if kind == "shutdown":
                    return
        assert self.target is not None, "the schema_app fixture sets the target"
        await self.target(scope, receive, send)


PROXY = DeferredApp()
schema = schemathesis.openapi.from_dict(create_app().openapi())
schema.app = PROXY
schema.location = "/openapi.json"


def ranges_out_of_order(query: dict[str, Any]) -> bool:
    def last(name: str) -> Any:
        value = query.get(name)
        return value[-1] if isinstance(value, list) and value else value

    pairs = [(last("since"), last("until")), (last("hour_from"), last("hour_to"))]
    try:
        return any(
            low is not None and high is not None and type(low)(low) > type(low)(high)
            for low, high in pairs
        )
    except (TypeError, ValueError):
        return False


@schema.parametrize()
@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
def test_api_conforms_to_its_schema(case: Any, schema_app: Any, premium_token: str) -> None:
    PROXY.target = schema_app
    excluded = []
    if case.operation.path == "/webhooks/stripe":
        # a generated body is never a Stripe-signed event: 400 is the right answer there
        excluded.append(positive_data_acceptance)
    if ranges_out_of_order(case.query or {}):
        # JSON Schema cannot say that a filter's range ends after it starts (models.filters):
        # such a query is a 422 by design (tests/api/test_api_filters.py)
        excluded.append(positive_data_acceptance)
    case.call_and_validate(
        headers={"Authorization": f"Bearer {premium_token}"}, excluded_checks=excluded
    )
