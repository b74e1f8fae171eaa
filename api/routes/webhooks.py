"""POST /webhooks/stripe: verified, idempotent Stripe webhooks (the work is in core.billing)."""

from __future__ import annotations

import logging
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from api import problems
from api.deps import get_billing, get_session
from api.problems import problem
from core.billing import BillingDisabled, BillingService, WebhookRejected, WebhookRetryLater

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
