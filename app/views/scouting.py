"""Scouting (premium): an opponent team's maps, roles and form."""

from __future__ import annotations

import altair as alt
import polars as pl
import streamlit as st

from app import present
from app.auth import require_premium
from app.resources import get_models, get_resources
from app.widgets import lineup_picker, viewed_lineups
from models.errors import AnalysisError
from models.results import PeerBenchmarks

require_premium("opponent scouting")
# the analyses load XGBoost, scikit-learn and SciPy (seconds of imports): only past the
# gate, so a visitor's or a free user's paywall does not wait for them
from models.analysis import scouting_report  # noqa: E402

resources = get_resources()
st.title("Scouting")

_, opponents = viewed_lineups()
team = lineup_picker("Opponent team", "scout_team", opponents)
if not st.button("Scout", type="primary"):
    st.caption("Choose the opponents (up to 5) and press *Scout* for their maps, roles and form.")
    st.stop()
try:
    report = scouting_report(resources.sessions, resources.cache, get_models(), team)
except AnalysisError as exc:
    st.error(str(exc), icon="⚠️")
    st.stop()


def benchmark_cells(marks: PeerBenchmarks | None) -> dict[str, str]:
    """K/D and ADR percentiles among the player's peer group, and which group that is."""
    if marks is None or marks.group is None:
        return {"K/D pct": "–", "ADR pct": "–", "Compared with": "too few peers"}
    cells = {}
    for key, name in (("kd", "K/D pct"), ("adr", "ADR pct")):
        pct = marks.stats[key].percentile
        cells[name] = "–" if pct is None else f"{pct:.0f}"
    cells["Compared with"] = f"{marks.peers} {marks.group} players"
    return cells


picks = ", ".join(present.map_label(m) for m in report.expect_them_to_pick) or "Not enough data"
weak = ", ".join(present.map_label(m) for m in report.their_weakest_maps) or "Not enough data"
cols = st.columns(2)
cols[0].metric("Expect them to pick", picks)
cols[1].metric("Their weakest maps", weak)
st.subheader("Players")
st.caption(
    "K/D and ADR percentiles: each player's last 50 matches among the players of their level "
    "and region (the whole level when the region has too few), themselves not counted."
)
st.dataframe(
    [
        {
            "Player": p.nickname,
            "Elo": p.elo if p.elo is not None else "–",
            "Level": p.level if p.level is not None else "–",
            "Role": present.role_label(p.role),
            "Matches": p.matches if p.matches is not None else "–",
            "K/D (last 10)": present.stat_value("kd", p.kd_last10),
            "Win rate (last 10)": present.stat_value("win_rate", p.win_rate_last10),
            "Form": present.stat_value("form", p.form),
            **benchmark_cells(p.benchmarks),
        }
        for p in report.players
    ],
    hide_index=True,
    width="stretch",
)
if report.maps:
    maps = pl.DataFrame([m.model_dump() for m in report.maps]).with_columns(
        pl.col("map").map_elements(present.map_label, return_dtype=pl.String)
    )
    st.altair_chart(
        alt.Chart(maps.to_pandas(), title="Their maps: matches played and win rate")
        .mark_bar()
        .encode(
            x=alt.X("map:N", title="Map", sort="-y"),
            y=alt.Y("matches:Q", title="Matches played"),
            color=alt.Color(
                "win_rate:Q",
                title="Win rate",
                legend=alt.Legend(format="%"),
                scale=alt.Scale(scheme="redyellowgreen", domain=[0, 1]),
            ),
            tooltip=[
                alt.Tooltip("map:N", title="Map"),
                alt.Tooltip("matches:Q", title="Matches"),
                alt.Tooltip("win_rate:Q", title="Win rate", format=".0%"),
            ],
        ),
        width="stretch",
    )
