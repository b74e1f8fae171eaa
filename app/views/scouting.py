"""Scouting (premium): an opponent team's maps, roles and form."""

from __future__ import annotations

import altair as alt
import polars as pl
import streamlit as st

from app.auth import require_premium
from app.resources import get_models, get_resources
from app.widgets import known_nicknames, lineup_picker, map_label
from models.analysis import AnalysisError, scouting_report

require_premium("opponent scouting")
resources = get_resources()
st.title("Scouting")

team = lineup_picker("Opponent team", "scout_team", known_nicknames()[:5])
if st.button("Scout", type="primary"):
    try:
        report = scouting_report(resources.sessions, resources.cache, get_models(), team)
    except AnalysisError as exc:
        st.error(str(exc))
        st.stop()
    picks = ", ".join(map_label(m) for m in report["expect_them_to_pick"]) or "–"
    weak = ", ".join(map_label(m) for m in report["their_weakest_maps"]) or "–"
    cols = st.columns(2)
    cols[0].metric("Expect them to pick", picks)
    cols[1].metric("Their weakest maps", weak)
    st.subheader("Players")
    st.dataframe(pl.DataFrame(report["players"]), hide_index=True, width="stretch")
    if report["maps"]:
        maps = pl.DataFrame(report["maps"]).with_columns(
            pl.col("map").map_elements(map_label, return_dtype=pl.String)
        )
        st.altair_chart(
            alt.Chart(maps.to_pandas())
            .mark_bar()
            .encode(
                x=alt.X("map:N", title="Map", sort="-y"),
                y=alt.Y("matches:Q", title="Matches played"),
                color=alt.Color(
                    "win_rate:Q", title="Win rate", scale=alt.Scale(scheme="redyellowgreen")
                ),
            ),
            width="stretch",
        )
