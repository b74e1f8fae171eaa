"""Admin: recent Stripe events and the premium grants/revocations of the audit log."""

from __future__ import annotations

import json

import streamlit as st

from app import auth
from app.resources import get_resources
from app.widgets import table_or_note
from core import crud

auth.require_admin()
resources = get_resources()
st.title("Payments")

with resources.sessions() as session:
    events = crud.stripe_events(session)
    audits = crud.payment_audit(session)

st.subheader("Stripe events")
table_or_note(
    [
        {"id": e.id, "type": e.type, "created": e.created_at, "processed": e.processed_at}
        for e in events
    ],
    "No Stripe events processed yet.",
)

st.subheader("Grants and changes (audit log)")
table_or_note(
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
    "No premium grants yet.",
)
