"""POST /webhooks/stripe: verified, idempotent Stripe webhooks (the work is in core.billing)."""

from __future__ import annotations

import logging
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from api.deps import get_billing, get_session
from api.problems import problem
from core.billing import BillingDisabled, BillingService, WebhookRejected

log = logging.getLogger(__name__)
router = APIRouter(tags=["webhooks"])


@router.post("/webhooks/stripe", response_model=None)
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
    log.info("stripe webhook %s", outcome)
    return {"received": True, "outcome": outcome}
