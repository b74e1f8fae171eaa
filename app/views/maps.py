"""Maps: per-map performance chart and table."""

from __future__ import annotations

import altair as alt
import polars as pl
import streamlit as st

from app.resources import get_resources
from app.widgets import plain, require_player
from models.dashboard import player_overview

resources = get_resources()
overview = player_overview(resources.sessions, resources.cache, require_player())
st.title(f"Maps of {plain(overview.player['nickname'])}")

maps = overview.maps.filter(pl.col("map").is_not_null())
if not maps.height:
    st.info("No matches stored yet.", icon="📭")
    st.stop()

table = maps.select(
    pl.col("map").str.replace("de_", "").str.to_titlecase().alias("Map"),
    pl.col("matches").alias("Matches"),
    pl.col("win_rate").alias("Win rate"),
    pl.col("kd").alias("K/D"),
    pl.col("adr").alias("ADR"),
    pl.col("rating").alias("Rating"),
).sort("Matches", descending=True)
st.altair_chart(
    alt.Chart(table.to_pandas())
    .mark_bar()
    .encode(
        x=alt.X("Map:N", sort="-y"),
        y=alt.Y("Win rate:Q", axis=alt.Axis(format="%")),
        color=alt.Color("Rating:Q", scale=alt.Scale(scheme="redyellowgreen")),
        tooltip=["Map", "Matches", alt.Tooltip("Win rate:Q", format=".0%"), "K/D", "ADR"],
    ),
    width="stretch",
)
st.dataframe(table, hide_index=True, width="stretch")
