"""Playstyle (premium): the player's role, how strongly, who plays most alike, the rates'
percentiles and the 0-100 ratings against the players of the same level and region (the peer
table, models.peers; models.ratings)."""

from __future__ import annotations

import altair as alt
import polars as pl
import streamlit as st

from app import present
from app.auth import require_premium
from app.resources import get_models, get_resources
from app.widgets import plain, require_player, require_trained_models
from models.errors import AnalysisError
from models.ratings import ratings_for

require_premium("playstyle profiles")
# the analyses load XGBoost, scikit-learn and SciPy (seconds of imports): only past the
# gate, so a visitor's or a free user's paywall does not wait for them
from models.analysis import playstyle_for  # noqa: E402

require_trained_models("playstyle profiles", playstyle=True)
resources = get_resources()
player_id = require_player()
try:
    profile = playstyle_for(resources.sessions, get_models(), player_id)
    ratings = ratings_for(resources.sessions, player_id)
except AnalysisError as exc:
    st.error(str(exc), icon="⚠️")
    st.stop()


def versus_everyone(z: float) -> str:
    """A z-score in words (players never see the z itself)."""
    if z >= 1.5:
        return "well above average"
    if z >= 0.5:
        return "above average"
    if z > -0.5:
        return "about average"
    if z > -1.5:
        return "below average"
    return "well below average"


st.title(f"{plain(profile.nickname)} plays like {present.role_phrase(profile.role)}")
if profile.note:
    st.caption(profile.note)
if profile.affinity:
    affinity = pl.DataFrame(
        {
            "Style": [present.role_label(role) for role in profile.affinity],
            "Match": list(profile.affinity.values()),
        }
    )
    st.altair_chart(
        alt.Chart(affinity.to_pandas(), title="How closely the play matches each style")
        .mark_bar()
        .encode(
            x=alt.X(
                "Match:Q",
                axis=alt.Axis(format="%"),
                scale=alt.Scale(domain=[0, 1]),
                title="Closeness to the style",
            ),
            y=alt.Y("Style:N", sort="-x", title=None),
            tooltip=["Style", alt.Tooltip("Match:Q", format=".0%", title="Closeness")],
        ),
        width="stretch",
    )
marks = profile.benchmarks
if profile.rates:
    st.subheader("Per-round profile")
    rows = []
    for key, value in profile.rates.items():
        row = {
            "Stat": present.stat_label(key),
            "Value": present.stat_value(key, value),
            "Compared with everyone": versus_everyone(profile.z_scores[key]),
        }
        if marks is not None and marks.group is not None:
            mark = marks.stats[key]
            row["Percentile (last 50)"] = (
                "–" if mark.percentile is None else f"{mark.percentile:.0f}"
            )
            row["Peers"] = mark.peers
        rows.append(row)
    st.dataframe(rows, hide_index=True, width="stretch")
    caption = "Value: over every stored match; compared with everyone: all players' rates."
    if marks is not None and marks.group is not None:
        caption += (
            f" Percentile: over your last {marks.matches} matches {marks.versus} (each over "
            "their last 50; share of them below you, ties half)."
        )
    elif marks is not None:
        caption += f" No percentiles yet: {marks.fallback}"
    st.caption(plain(caption))
if profile.similar:
    st.subheader("Players who play most like this")
    st.markdown("\n".join(f"{i}. {p.nickname}" for i, p in enumerate(profile.similar, 1)))

group = ratings.group
if group is None:
    st.subheader("Ratings")
    st.info(f"Not rated yet: {plain(ratings.versus)}.", icon="👥")
else:
    st.subheader(f"Ratings against {ratings.peers} {group} players")
    st.caption(
        f"0-100 over the last {ratings.matches} matches, {ratings.versus}: the average of those "
        "players scores 50, one standard deviation above it 84, one below 16."
    )
    for column, r in zip(st.columns(len(ratings.ratings)), ratings.ratings, strict=True):
        column.metric(
            r.label,
            "not rated" if r.rating is None else f"{r.rating}/100",
            help=f"Compared with {r.peers} {group} players",
        )
    st.markdown("\n".join(f"- {plain(r.explanation)}" for r in ratings.ratings))
