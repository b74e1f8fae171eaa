"""Match predictor (premium): win probability for two lineups, or for a stored match."""

from __future__ import annotations

import altair as alt
import polars as pl
import streamlit as st

from app.auth import require_premium
from app.resources import get_models, get_resources
from app.widgets import (
    known_nicknames,
    lineup_picker,
    map_label,
    plain,
    require_trained_models,
    text_input,
)
from models.analysis import AnalysisError, LineupAnalysis, analyze_lineups, analyze_match
from models.match_outcome import MAP_POOL

require_premium("the match predictor")
resources = get_resources()
st.title("Match predictor")
require_trained_models("the match predictor")

players = known_nicknames()
by_lineup, by_match = st.tabs(["Pick the players", "Paste a match id"])
analysis: LineupAnalysis | None = None
try:
    with by_lineup:
        team_a = lineup_picker("Your team", "predict_a", players[:5])
        team_b = lineup_picker("Opponents", "predict_b", players[5:10])
        chosen = st.selectbox(
            "Map",
            [None, *MAP_POOL],
            format_func=lambda m: "Best map for you" if m is None else map_label(m),
        )
        if st.button("Predict", type="primary", key="predict_lineups"):
            analysis = analyze_lineups(resources.sessions, get_models(), team_a, team_b, chosen)
    with by_match:
        match_id = text_input(
            "FACEIT match id", placeholder="1-6e9986d0-fca9-4840-986a-cd2cc127b227"
        )
        if st.button("Predict this match", key="predict_match") and match_id:
            analysis = analyze_match(resources.sessions, get_models(), match_id)
except AnalysisError as exc:
    st.error(str(exc))

if analysis is not None:
    team_a = " · ".join(plain(name) for name in analysis.lineup_a)
    team_b = " · ".join(plain(name) for name in analysis.lineup_b)
    st.subheader(f"{team_a}  vs  {team_b}")
    cols = st.columns(3)
    cols[0].metric(f"Win probability on {map_label(analysis.map)}", f"{analysis.probability:.0%}")
    cols[1].metric("Elo-only estimate", f"{analysis.elo_probability:.0%}")
    if analysis.actual_winner:
        cols[2].metric("Actual result", "Won" if analysis.actual_winner == "faction1" else "Lost")
    for sentence in analysis.factors:
        st.markdown(f"- {sentence}")
    per_map = pl.DataFrame(
        {
            "Map": [map_label(m) for m in analysis.per_map],
            "Win probability": list(analysis.per_map.values()),
        }
    )
    st.altair_chart(
        alt.Chart(per_map.to_pandas())
        .mark_bar()
        .encode(
            x=alt.X("Map:N", sort="-y"),
            y=alt.Y("Win probability:Q", axis=alt.Axis(format="%")),
            tooltip=["Map", alt.Tooltip("Win probability:Q", format=".0%")],
        ),
        width="stretch",
    )
    st.caption(
        f"Model version {analysis.model_version}. Probabilities are calibrated on past matches."
    )
