"""Match predictor (premium): win probability for two lineups, or for a stored match.

Each tab renders its widgets on every run and shows its own errors, so an error in one tab
never drops what was typed in the other.
"""

from __future__ import annotations

import altair as alt
import polars as pl
import streamlit as st

from app import present
from app.auth import require_premium
from app.resources import get_models, get_resources
from app.widgets import lineup_picker, plain, require_trained_models, text_input, viewed_lineups
from core.cs2 import MAP_POOL
from models.errors import AnalysisError

require_premium("the match predictor")
# the analyses load XGBoost, scikit-learn and SciPy (seconds of imports): only past the
# gate, so a visitor's or a free user's paywall does not wait for them
from models.analysis import LineupAnalysis, analyze_lineups, analyze_match  # noqa: E402

resources = get_resources()
st.title("Match predictor")
require_trained_models("the match predictor")

own, opponents = viewed_lineups()
by_lineup, by_match = st.tabs(["Pick the players", "Paste a match id"])
analysis: LineupAnalysis | None = None
with by_lineup:
    team_a = lineup_picker("Your team", "predict_a", own)
    team_b = lineup_picker("Opponents", "predict_b", opponents)
    st.caption("Both teams need the same number of players: FACEIT matches are 5 against 5.")
    chosen = st.selectbox(
        "Map",
        [None, *MAP_POOL],
        format_func=lambda m: "Best map for you" if m is None else present.map_label(m),
        key="predict_map",
    )
    if st.button("Predict", type="primary", key="predict_lineups"):
        try:
            analysis = analyze_lineups(resources.sessions, get_models(), team_a, team_b, chosen)
        except AnalysisError as exc:
            st.error(str(exc), icon="⚠️")
with by_match:
    match_id = text_input(
        "FACEIT match id", placeholder="1-6e9986d0-fca9-4840-986a-cd2cc127b227", key="predict_id"
    )
    if st.button("Predict this match", key="predict_match"):
        if match_id is None:
            pass  # the field already says what is wrong with it
        elif not match_id.strip():
            st.error("Paste a match id first (from the match room's address on FACEIT).")
        else:
            try:
                analysis = analyze_match(resources.sessions, get_models(), match_id)
            except AnalysisError as exc:
                st.error(str(exc), icon="⚠️")

if analysis is None:
    st.caption("Pick two lineups (or paste a match id) and press *Predict*.")
    st.stop()

team_a_names = " · ".join(plain(name) for name in analysis.lineup_a)
team_b_names = " · ".join(plain(name) for name in analysis.lineup_b)
st.subheader(f"{team_a_names}  vs  {team_b_names}")
cols = st.columns(3)
cols[0].metric(
    f"Win probability on {present.map_label(analysis.map)}", f"{analysis.probability:.0%}"
)
cols[1].metric("Elo-only estimate", f"{analysis.elo_probability:.0%}")
if analysis.actual_winner:
    cols[2].metric("Actual result", "Won" if analysis.actual_winner == "faction1" else "Lost")
for sentence in analysis.factors:
    st.markdown(f"- {plain(sentence)}")
per_map = pl.DataFrame(
    {
        "Map": [present.map_label(m) for m in analysis.per_map],
        "Win probability": list(analysis.per_map.values()),
    }
)
st.altair_chart(
    alt.Chart(per_map.to_pandas(), title="Your team's win probability on each map")
    .mark_bar()
    .encode(
        x=alt.X("Map:N", sort="-y", title="Map"),
        y=alt.Y(
            "Win probability:Q",
            axis=alt.Axis(format="%"),
            scale=alt.Scale(domain=[0, 1]),
            title="Win probability",
        ),
        tooltip=["Map", alt.Tooltip("Win probability:Q", format=".0%")],
    ),
    width="stretch",
)
st.caption(f"Model version {analysis.model_version}. Probabilities are calibrated on past matches.")
