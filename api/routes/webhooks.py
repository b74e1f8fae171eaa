"""Webhooks in: POST /webhooks/stripe (verified, idempotent; the work is in core.billing) and
POST /webhooks/faceit (FACEIT's match events: the secret header checked in constant time, the
event queued once per event id; the live worker does the work, see models.live)."""

from __future__ import annotations

import hmac
import json
import logging
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from api import problems
from api.deps import ResourcesDep, get_billing, get_session
from api.problems import ApiProblem, problem
from core import live
from core.billing import BillingDisabled, BillingService, WebhookRejected, WebhookRetryLater
from core.faceit.webhooks import WebhookEvent

log = logging.getLogger(__name__)
router = APIRouter(tags=["webhooks"])


@router.post(
    "/webhooks/stripe",
    response_model=None,
    summary="Stripe webhook (signature-verified, idempotent)",
    openapi_extra={
        "parameters": [
            {
                "name": "Stripe-Signature",
                "in": "header",
                "required": True,
                "description": "Stripe's signature of the raw body (t=...,v1=...)",
                "schema": {"type": "string"},
            }
        ]
    },
    responses={
        200: {
            "description": "Event received (or already processed)",
            "content": {
                "application/json": {
                    "schema": {"type": "object"},
                    "example": {"received": True, "outcome": "granted"},
                }
            },
        },
        **problems.responses(400, 413, 503),
    },
)
async def stripe_webhook(
    request: Request,
    session: Annotated[Session, Depends(get_session)],
    billing: Annotated[BillingService, Depends(get_billing)],
) -> dict[str, object] | JSONResponse:
    payload = await request.body()
    signature = request.headers.get("stripe-signature")
    try:
        outcome = await run_in_threadpool(billing.handle_webhook, session, payload, signature)
    except WebhookRejected as exc:
        log.info("stripe webhook rejected: %s", exc)
        return problem(400, "Webhook rejected", str(exc), "webhook-rejected")
    except BillingDisabled as exc:
        return problem(503, "Payments disabled", str(exc), "payments-disabled")
    except WebhookRetryLater as exc:
        # nothing was recorded: Stripe retries a 5xx answer, so the event is not lost
        return problem(
            503,
            "Try again later",
            str(exc),
            "webhook-retry",
            headers={"Retry-After": str(exc.retry_after)},
        )
    log.info("stripe webhook %s", outcome)
    return {"received": True, "outcome": outcome}


def faceit_secret_ok(expected: str, given: str | None) -> bool:
    """The delivery carries the subscription's secret (compared in constant time)."""
    return given is not None and hmac.compare_digest(given.encode(), expected.encode())


@router.post(
    "/webhooks/faceit",
    response_model=None,
    summary="FACEIT webhook: match events (secret header, idempotent per event id)",
    description=(
        "The match events of a FACEIT App Studio webhook subscription (match_object_created, "
        "match_status_configuring, match_status_ready, match_status_finished, "
        "match_status_cancelled, match_status_aborted). The subscription's security header "
        "(FACEIT_WEBHOOK_HEADER, default X-Faceit-Webhook-Secret) must carry "
        "FACEIT_WEBHOOK_SECRET. The event is queued and answered at once; a redelivery of the "
        "same event id changes nothing."
    ),
    openapi_extra={
        "parameters": [
            {
                "name": "X-Faceit-Webhook-Secret",
                "in": "header",
                "required": True,
                "description": "The subscription's secret (the header's name is configurable)",
                "schema": {"type": "string"},
            }
        ]
    },
    responses={
        200: {
            "description": "Event queued (or already received)",
            "content": {
                "application/json": {
                    "schema": {"type": "object"},
                    "example": {"received": True, "duplicate": False},
                }
            },
        },
        **problems.responses(400, 401, 413, 503),
    },
)
async def faceit_webhook(request: Request, resources: ResourcesDep) -> dict[str, object]:
    settings = resources.settings
    if settings.faceit_webhook_secret is None:
        raise ApiProblem(
            503, "FACEIT_WEBHOOK_SECRET is not set on this server.", "faceit-webhooks-disabled"
        )
    given = request.headers.get(settings.faceit_webhook_header)
    if not faceit_secret_ok(settings.faceit_webhook_secret.get_secret_value(), given):
        log.warning(
            "faceit webhook refused: %s secret header from %s",
            "wrong" if given else "no",
            request.client.host if request.client else "unknown",
        )
        detail = f"The {settings.faceit_webhook_header} header is missing or wrong."
        raise ApiProblem(401, detail, "webhook-refused")
    body = await request.body()
    try:
        payload: Any = json.loads(body)
        event = WebhookEvent.model_validate(payload)
    except ValueError as exc:  # not JSON, or not a FACEIT event (pydantic's error is one)
        reason = str(exc).splitlines()[0][:300]
        detail = f"The body is not a FACEIT event: {reason}"
        raise ApiProblem(400, detail, "not-a-faceit-event") from None
    new = await run_in_threadpool(_record, resources, event, payload)
    log.info("faceit webhook %s %s %s", event.event, event.event_id, "queued" if new else "dup")
    return {"received": True, "duplicate": not new}


def _record(resources: Any, event: WebhookEvent, payload: dict[str, Any]) -> bool:
    with resources.sessions() as session:
        return live.record_event(session, event, payload)
