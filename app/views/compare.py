"""Compare: two or more players side by side (the player being viewed is pre-selected)."""

from __future__ import annotations

import altair as alt
import polars as pl
import streamlit as st

from app import present
from app.resources import get_resources
from app.widgets import selected_player_id
from core import crud
from models.dashboard import compare_players

resources = get_resources()
st.title("Compare players")

with resources.sessions() as session:
    nicknames = crud.player_nicknames(session, limit=2000)
    viewed = selected_player_id()
    player = crud.get_player(session, viewed) if viewed else None
if len(nicknames) < 2:
    st.info(
        "Compare needs at least two players with matches: search them on the Home page.",
        icon="📭",
    )
    st.stop()

default = [player.nickname] if player is not None and player.nickname in nicknames else []
chosen = st.multiselect(
    "Players", nicknames, default=default, max_selections=6, placeholder="Choose players"
)
if len(chosen) < 2:
    st.info("Pick at least two players to compare (up to six).", icon="👥")
    st.stop()

with resources.sessions() as session:
    ids = [p.id for name in chosen if (p := crud.find_player(session, name)) is not None]
table = compare_players(resources.sessions, resources.cache, ids)
keys = {
    "Win rate": "win_rate",
    "K/D": "kd",
    "K/D last 10": "kd",
    "ADR": "adr",
    "HS %": "hs_pct",
    "Rating": "rating",
    "Form": "form",
}
st.dataframe(
    [
        {
            column: present.stat_value(keys[column], value) if column in keys else value
            for column, value in row.items()
        }
        for row in table.iter_rows(named=True)
    ],
    hide_index=True,
    width="stretch",
)
long = (
    table.unpivot(index="Player", on=["K/D", "K/D last 10", "Rating", "Form"])
    .rename({"variable": "Stat", "value": "Value"})
    .with_columns(pl.col("Value").round(2))
)
st.altair_chart(
    alt.Chart(long.to_pandas(), title="K/D, recent K/D, rating and form side by side")
    .mark_bar()
    .encode(
        x=alt.X("Player:N", title=None, sort=chosen),
        y=alt.Y("Value:Q", title="Value (1.00 = even / average)"),
        color=alt.Color("Player:N", title="Player", sort=chosen),
        column=alt.Column("Stat:N", title=None, sort=["K/D", "K/D last 10", "Rating", "Form"]),
        tooltip=["Player", "Stat", "Value"],
    )
)
