"""Home: search a player; an empty database says how to get data."""

from __future__ import annotations

import streamlit as st

from app.resources import get_resources
from core import crud

resources = get_resources()
st.title("Faceit AI")
st.write("Analytics and match intelligence for FACEIT Counter-Strike 2 players.")

with resources.sessions() as session:
    players = crud.count_players(session)
    matches = crud.count_matches(session)

if players == 0:
    st.info(
        "No players in the database yet. Run `faceit-ai seed-demo` to load the demo league, "
        "or search a nickname below to fetch a player.",
        icon="📭",
    )
else:
    left, right = st.columns(2)
    left.metric("Players tracked", f"{players:,}")
    right.metric("Matches analysed", f"{matches:,}")
