"""Improvement plan (premium): where the player stands among peers, and what to work on."""

from __future__ import annotations

import altair as alt
import polars as pl
import streamlit as st

from app.auth import require_premium
from app.resources import get_models, get_resources
from app.widgets import plain, require_player
from models.analysis import AnalysisError, improvement_for

require_premium("the improvement plan")
resources = get_resources()
try:
    plan = improvement_for(resources.sessions, get_models(), require_player())
except AnalysisError as exc:
    st.error(str(exc))
    st.stop()

st.title(f"Improvement plan for {plain(plan['nickname'])}")
st.subheader("Focus on")
for line in plan["focus"]:
    st.markdown(f"- {line}")

stats = plan["percentiles"]["stats"]
percentiles = pl.DataFrame(
    {"Stat": list(stats), "Percentile": [v["percentile"] for v in stats.values()]}
).drop_nulls()
st.subheader(f"Against level {plan['level']} players")
st.altair_chart(
    alt.Chart(percentiles.to_pandas())
    .mark_bar()
    .encode(x=alt.X("Percentile:Q", scale=alt.Scale(domain=[0, 100])), y=alt.Y("Stat:N", sort="x")),
    width="stretch",
)

forecast = plan["forecast"]
st.subheader("Elo over the next 20 matches")
paths = pl.DataFrame(
    {
        "Match": forecast["matches"],
        "Low (p10)": forecast["p10"],
        "Expected (p50)": forecast["p50"],
        "High (p90)": forecast["p90"],
    }
).to_pandas()
band = (
    alt.Chart(paths)
    .mark_area(opacity=0.25)
    .encode(x="Match:Q", y=alt.Y("Low (p10):Q", scale=alt.Scale(zero=False)), y2="High (p90):Q")
)
line = alt.Chart(paths).mark_line().encode(x="Match:Q", y="Expected (p50):Q")
st.altair_chart(band + line, width="stretch")
st.caption(
    f"Expected change: {forecast['expected_change']:+.0f} Elo, from the model's win probabilities."
)
