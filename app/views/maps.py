"""Maps: per-map performance, the chart and the table in the same order (most played first)."""

from __future__ import annotations

import altair as alt
import polars as pl
import streamlit as st

from app import present
from app.resources import get_resources
from app.widgets import filter_note, match_filter, no_filtered_matches, plain, require_player
from core import crud
from models.dashboard import player_overview

resources = get_resources()
player_id = require_player()
overview = player_overview(resources.sessions, resources.cache, player_id)
st.title(f"Maps of {plain(overview.player['nickname'])}")
if not overview.has_matches:
    st.info("No matches stored yet: press *Refresh from FACEIT* on the Overview page.", icon="📭")
    st.stop()
with resources.sessions() as session:
    flt = match_filter(crud.player_maps(session, player_id))
overview = player_overview(resources.sessions, resources.cache, player_id, flt)
maps = overview.maps.filter(pl.col("map").is_not_null())
if not maps.height:
    no_filtered_matches(flt)
filter_note(flt, int(maps["matches"].sum()))

ordered = maps.sort(["matches", "map"], descending=[True, False])
labels = [present.map_label(m) for m in ordered["map"]]
chart_data = pl.DataFrame(
    {
        "Map": labels,
        "Matches": ordered["matches"],
        "Win rate": ordered["win_rate"],
        "K/D": ordered["kd"].round(2),
        "ADR": ordered["adr"].round(1),
    }
)
st.altair_chart(
    alt.Chart(chart_data.to_pandas(), title="Win rate per map (most played first)")
    .mark_bar()
    .encode(
        x=alt.X("Map:N", sort=labels, title="Map"),
        y=alt.Y(
            "Win rate:Q",
            axis=alt.Axis(format="%"),
            scale=alt.Scale(domain=[0, 1]),  # 0-100% even when every rate is 0 (filtered)
            title="Win rate",
        ),
        color=alt.Color("Matches:Q", title="Matches", scale=alt.Scale(scheme="blues")),
        tooltip=["Map", "Matches", alt.Tooltip("Win rate:Q", format=".0%"), "K/D", "ADR"],
    ),
    width="stretch",
)
st.dataframe(
    [
        {
            "Map": label,
            "Matches": row["matches"],
            "Win rate": present.stat_value("win_rate", row["win_rate"]),
            "K/D": present.stat_value("kd", row["kd"]),
            "ADR": present.stat_value("adr", row["adr"]),
            "Rating": present.stat_value("rating", row["rating"]),
        }
        for label, row in zip(labels, ordered.iter_rows(named=True), strict=True)
    ],
    hide_index=True,
    width="stretch",
)
