"""Admin: ingest state per tracked player and quarantined payloads."""

from __future__ import annotations

import streamlit as st
from sqlalchemy import select

from app import auth
from app.resources import get_resources
from core.db.schema import IngestState, Player, Quarantine

auth.require_admin()
resources = get_resources()
LIMIT = 200

st.title("Ingest")

with resources.sessions() as session:
    states = session.execute(
        select(IngestState, Player.nickname)
        .join(Player, Player.id == IngestState.player_id, isouter=True)
        .order_by(IngestState.last_sync_at.desc())
        .limit(LIMIT)
    ).all()
    quarantined = session.scalars(
        select(Quarantine).order_by(Quarantine.created_at.desc()).limit(LIMIT)
    ).all()

st.subheader("Players")
if not states:
    st.caption("Nothing ingested yet.")
else:
    st.dataframe(
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
        hide_index=True,
        width="stretch",
    )

st.subheader("Quarantine")
if not quarantined:
    st.caption("No quarantined payloads.")
else:
    st.dataframe(
        [
            {
                "when": row.created_at,
                "source": row.source,
                "error": row.error,
                "payload": row.payload[:300],
            }
            for row in quarantined
        ],
        hide_index=True,
        width="stretch",
    )
