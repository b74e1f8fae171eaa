"""Map veto (premium): win probability per map of the pool, with bans and a pick."""

from __future__ import annotations

import altair as alt
import polars as pl
import streamlit as st

from app.auth import require_premium
from app.resources import get_models, get_resources
from app.widgets import lineup_picker, map_label, require_trained_models, viewed_lineups
from models.errors import AnalysisError

require_premium("map veto advice")
# the analyses load XGBoost, scikit-learn and SciPy (seconds of imports): only past the
# gate, so a visitor's or a free user's paywall does not wait for them
from models.analysis import analyze_lineups  # noqa: E402

resources = get_resources()
st.title("Map veto")
require_trained_models("map veto advice")

own, opponents = viewed_lineups()
team_a = lineup_picker("Your team", "veto_a", own)
team_b = lineup_picker("Opponents", "veto_b", opponents)
if st.button("Advise", type="primary"):
    try:
        analysis = analyze_lineups(resources.sessions, get_models(), team_a, team_b)
    except AnalysisError as exc:
        st.error(str(exc), icon="⚠️")
        st.stop()
    pick, bans = analysis.veto["pick"], analysis.veto["bans"]
    cols = st.columns(2)
    # the chance is not a change: no up arrow, no green
    cols[0].metric(
        "Pick",
        map_label(pick),
        f"{analysis.per_map[pick]:.0%} to win",
        delta_color="off",
        delta_arrow="off",
    )
    cols[1].metric("Ban first", ", ".join(map_label(b) for b in bans))
    frame = pl.DataFrame(
        {
            "Map": [map_label(m) for m in analysis.per_map],
            "Win probability": list(analysis.per_map.values()),
            "Advice": [
                "pick" if m == pick else "ban" if m in bans else "play" for m in analysis.per_map
            ],
        }
    )
    st.altair_chart(
        alt.Chart(frame.to_pandas(), title="Your team's win probability per map, and the advice")
        .mark_bar()
        .encode(
            x=alt.X(
                "Win probability:Q",
                axis=alt.Axis(format="%"),
                scale=alt.Scale(domain=[0, 1]),
                title="Win probability",
            ),
            y=alt.Y("Map:N", sort="-x", title="Map"),
            tooltip=["Map", alt.Tooltip("Win probability:Q", format=".0%"), "Advice"],
            color=alt.Color(
                "Advice:N",
                title="Advice",
                scale=alt.Scale(
                    domain=["pick", "ban", "play"], range=["#2e7d32", "#c62828", "#90a4ae"]
                ),
            ),
        ),
        width="stretch",
    )
else:
    st.caption("Pick both lineups and press *Advise* for the map to pick and the two to ban.")
