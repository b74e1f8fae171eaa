"""Admin: recent Stripe events and the premium grants/revocations of the audit log."""

from __future__ import annotations

import json

import streamlit as st
from sqlalchemy import select

from app import auth
from app.resources import get_resources
from core.db.schema import AuditLog, StripeEvent

auth.require_admin()
resources = get_resources()
LIMIT = 200
PAYMENT_ACTIONS = (
    "grant_premium",
    "revoke_premium",
    "subscription_update",
    "checkout_started",
    "checkout_refused",
)

st.title("Payments")

with resources.sessions() as session:
    events = session.scalars(
        select(StripeEvent).order_by(StripeEvent.processed_at.desc()).limit(LIMIT)
    ).all()
    audits = session.scalars(
        select(AuditLog)
        .where(AuditLog.action.in_(PAYMENT_ACTIONS))
        .order_by(AuditLog.created_at.desc())
        .limit(LIMIT)
    ).all()

st.subheader("Stripe events")
if not events:
    st.caption("No Stripe events processed yet.")
else:
    st.dataframe(
        [
            {
                "id": event.id,
                "type": event.type,
                "created": event.created_at,
                "processed": event.processed_at,
            }
            for event in events
        ],
        hide_index=True,
        width="stretch",
    )

st.subheader("Grants and changes (audit log)")
if not audits:
    st.caption("No premium grants yet.")
else:
    st.dataframe(
        [
            {
                "when": row.created_at,
                "actor": row.actor,
                "action": row.action,
                "user": row.subject,
                "details": json.dumps(row.details, default=str, sort_keys=True),
            }
            for row in audits
        ],
        hide_index=True,
        width="stretch",
    )
