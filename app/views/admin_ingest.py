"""Admin: ingest state per tracked player and quarantined payloads."""

from __future__ import annotations

import streamlit as st

from app import auth
from app.resources import get_resources
from app.widgets import table_or_note
from core import crud

auth.require_admin()
resources = get_resources()
st.title("Ingest")

with resources.sessions() as session:
    states = crud.ingest_states(session)
    quarantined = crud.quarantined_payloads(session)

st.subheader("Players")
table_or_note(
    [
        {
            "nickname": nickname,
            "player id": state.player_id,
            "tracked": state.tracked,
            "status": state.status,
            "watermark": state.watermark,
            "last sync": state.last_sync_at,
            "error": state.error,
        }
        for state, nickname in states
    ],
    "Nothing ingested yet.",
)

st.subheader("Quarantine")
table_or_note(
    [
        {
            "when": row.created_at,
            "source": row.source,
            "error": row.error,
            "payload": row.payload[:300],
        }
        for row in quarantined
    ],
    "No quarantined payloads.",
)
