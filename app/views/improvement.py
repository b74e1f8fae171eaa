"""Improvement plan (premium): where the player stands among peers, and what to work on."""

from __future__ import annotations

import altair as alt
import polars as pl
import streamlit as st

from app import present
from app.auth import require_premium
from app.resources import get_models, get_resources
from app.widgets import plain, require_player
from models.errors import AnalysisError
from models.results import EloForecast

require_premium("the improvement plan")
# the analyses load XGBoost, scikit-learn and SciPy (seconds of imports): only past the
# gate, so a visitor's or a free user's paywall does not wait for them
from models.analysis import improvement_for  # noqa: E402

resources = get_resources()
try:
    plan = improvement_for(resources.sessions, get_models(), require_player())
except AnalysisError as exc:
    st.error(str(exc), icon="⚠️")
    st.stop()


def forecast_frame(forecast: EloForecast) -> pl.DataFrame:
    """One row per future match (1..N) with the 10th, 50th and 90th percentile Elo."""
    return pl.DataFrame(
        {
            "Match": list(range(1, len(forecast.p50) + 1)),
            "Low (p10)": [round(v) for v in forecast.p10],
            "Expected (p50)": [round(v) for v in forecast.p50],
            "High (p90)": [round(v) for v in forecast.p90],
        }
    )


stats = plan.percentiles.stats
peers = plan.percentiles.peers
group = plan.percentiles.group
st.title(f"Improvement plan for {plain(plan.nickname)}")

st.subheader("Focus on")
ranked = sorted(
    ((key, row) for key, row in stats.items() if row.percentile is not None and key != "win_rate"),
    key=lambda item: (item[1].percentile, item[0]),
)
for key, row in ranked[:2]:
    st.markdown(
        f"- **{present.stat_label(key)}**: {present.stat_value(key, row.value)}, "
        f"{present.standing(row.percentile, row.peers, group or '')} (their median: "
        f"{present.stat_value(key, row.peer_median)})"
    )
for driver in plan.drivers[:1]:
    key = driver.stat
    st.markdown(
        f"- **{present.stat_label(key)}** differs most between your wins and losses: "
        f"{present.stat_value(key, driver.in_wins)} in wins vs "
        f"{present.stat_value(key, driver.in_losses)} in losses"
    )
if not ranked and group is not None:
    st.caption("Not enough matches with full stats yet to compare with other players.")

percentiles = pl.DataFrame(
    {
        "Stat": [present.stat_label(key) for key in stats],
        "Percentile": pl.Series([row.percentile for row in stats.values()], dtype=pl.Float64),
        "You": [present.stat_value(key, row.value) for key, row in stats.items()],
        "Peer median": [present.stat_value(key, row.peer_median) for key, row in stats.items()],
        "Peers": [row.peers for row in stats.values()],
    }
).drop_nulls("Percentile")
if group is None:
    st.subheader(f"Against level-{plan.level} players")
    st.info(f"No comparison yet: {plain(plan.percentiles.fallback or '')}", icon="👥")
else:
    st.subheader(f"Against {peers} {group} players")
    note = f" {plan.percentiles.fallback}" if plan.percentiles.fallback else ""
    st.caption(
        f"Your stats over your last {plan.matches} matches, each player's over theirs; "
        "ADR and the other extended stats count only the matches FACEIT recorded them for "
        f"(a player without any is not among that stat's peers).{plain(note)}"
    )
if group is not None and percentiles.height:
    # a dot on a 0-100 track per stat: a percentile of 0 is a dot at the start, not a missing bar
    data = percentiles.with_columns(
        pl.col("Percentile").round(0), pl.lit(0).alias("From"), pl.lit(100).alias("To")
    ).to_pandas()
    y = alt.Y(
        "Stat:N",
        sort=alt.EncodingSortField("Percentile"),
        title=None,
        axis=alt.Axis(labelLimit=240),  # "Utility damage per round" in full
    )
    track = (
        alt.Chart(data)
        .mark_rule(color="#cfd8dc", strokeWidth=6)
        .encode(x=alt.X("From:Q", title="Percentile"), x2="To:Q", y=y)
    )
    median = alt.Chart(data).mark_rule(color="#90a4ae", strokeDash=[4, 4]).encode(x=alt.datum(50))
    dots = (
        alt.Chart(data)
        .mark_point(filled=True, size=140, opacity=1)
        .encode(
            x=alt.X("Percentile:Q", scale=alt.Scale(domain=[0, 100]), title="Percentile"),
            y=y,
            tooltip=["Stat", "You", "Peer median", "Percentile", "Peers"],
        )
    )
    st.altair_chart(
        alt.layer(
            track,
            median,
            dots,
            title=f"Your percentile among {peers} {group} players (50 = their median)",
        ).properties(height=alt.Step(32)),
        width="stretch",
    )

forecast = plan.forecast
paths = forecast_frame(forecast)
st.subheader(f"Elo over the next {paths.height} matches")
band = (
    alt.Chart(paths.to_pandas(), title="Likely Elo after each of the next matches")
    .mark_area(opacity=0.25)
    .encode(
        x=alt.X("Match:Q", title="Matches from now", axis=alt.Axis(tickMinStep=1, format="d")),
        y=alt.Y("Low (p10):Q", scale=alt.Scale(zero=False), title="Elo"),
        y2="High (p90):Q",
        tooltip=["Match", "Low (p10)", "Expected (p50)", "High (p90)"],
    )
)
line = (
    alt.Chart(paths.to_pandas())
    .mark_line()
    .encode(x="Match:Q", y=alt.Y("Expected (p50):Q", title="Elo"))
)
st.altair_chart(band + line, width="stretch")
st.caption(
    f"Expected change: {forecast.expected_change:+.0f} Elo. Simulated 1,000 times from your "
    "win rate over the last 20 matches (pulled toward 50% so a streak does not dominate) and "
    "FACEIT's ±25 Elo for an even match; the band holds 8 of 10 simulated paths."
)
