"""Unsubscribe (the link in every notification email): no login needed, the link is signed."""

from __future__ import annotations

import streamlit as st

from app.resources import get_resources
from core import notify

resources = get_resources()
st.title("Unsubscribe")
token = st.query_params.get("token", "")
with resources.sessions() as session:
    channel = notify.unsubscribe(session, resources.settings, token) if token else None
if channel is None:
    st.error("This unsubscribe link is not valid. Open the Account page to manage your emails.")
else:
    st.success(f"Done: {channel.hint} gets no more notifications.", icon="✅")
