"""Compare: two or more players side by side."""

from __future__ import annotations

import altair as alt
import streamlit as st

from app.resources import get_resources
from core import crud
from models.dashboard import compare_players

resources = get_resources()
st.title("Compare players")

with resources.sessions() as session:
    nicknames = crud.player_nicknames(session, limit=2000)
if len(nicknames) < 2:
    st.info("Compare needs at least two players with matches in the database.", icon="📭")
    st.stop()

chosen = st.multiselect("Players", nicknames, default=nicknames[:2], max_selections=6)
if len(chosen) < 2:
    st.info("Pick at least two players.", icon="👥")
    st.stop()

with resources.sessions() as session:
    ids = [p.id for name in chosen if (p := crud.find_player(session, name)) is not None]
table = compare_players(resources.sessions, resources.cache, ids)
st.dataframe(table, hide_index=True, width="stretch")
long = table.unpivot(index="Player", on=["K/D", "K/D last 10", "Rating", "Form"]).to_pandas()
st.altair_chart(
    alt.Chart(long)
    .mark_bar()
    .encode(
        x=alt.X("Player:N", title=None),
        y=alt.Y("value:Q", title=None),
        color="Player:N",
        column=alt.Column("variable:N", title=None),
    )
)
