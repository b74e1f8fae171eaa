"""Playstyle (premium): the player's role, how strongly, and who plays most alike."""

from __future__ import annotations

import altair as alt
import polars as pl
import streamlit as st

from app.auth import require_premium
from app.resources import get_models, get_resources
from app.widgets import plain, require_player, require_trained_models
from models.analysis import AnalysisError, playstyle_for
from models.playstyle import RATES

require_premium("playstyle profiles")
require_trained_models("playstyle profiles", playstyle=True)
resources = get_resources()
try:
    profile = playstyle_for(resources.sessions, get_models(), require_player())
except AnalysisError as exc:
    st.error(str(exc))
    st.stop()

st.title(f"{plain(profile['nickname'])} plays like an {profile['role']}")
if profile["affinity"]:
    affinity = pl.DataFrame(
        {"Style": list(profile["affinity"]), "Affinity": list(profile["affinity"].values())}
    )
    st.altair_chart(
        alt.Chart(affinity.to_pandas())
        .mark_bar()
        .encode(x=alt.X("Affinity:Q", axis=alt.Axis(format="%")), y=alt.Y("Style:N", sort="-x")),
        width="stretch",
    )
if profile["rates"]:
    st.subheader("Per-round profile")
    st.dataframe(
        pl.DataFrame(
            {
                "Stat": [RATES[k] for k in profile["rates"]],
                "Value": list(profile["rates"].values()),
                "vs everyone (z)": [profile["z_scores"][k] for k in profile["rates"]],
            }
        ),
        hide_index=True,
        width="stretch",
    )
if profile["similar"]:
    st.subheader("Players who play like you")
    st.dataframe(pl.DataFrame(profile["similar"]), hide_index=True)
