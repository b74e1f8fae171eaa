"""Player overview: profile, Elo history, lifetime cards, form and last matches."""

from __future__ import annotations

import altair as alt
import streamlit as st

from app.resources import get_resources
from app.widgets import level_badge, match_history_table, number, percent, plain, require_player
from models.dashboard import player_overview

resources = get_resources()
overview = player_overview(resources.sessions, resources.cache, require_player())
player, summary = overview.player, overview.summary

left, right = st.columns([1, 5])
if player["avatar"] and not resources.settings.uses_demo_league:
    left.image(player["avatar"], width=96)
right.title(plain(player["nickname"]))
right.markdown(
    f"{level_badge(player['skill_level'])} · **{player['faceit_elo'] or '–'} Elo** · "
    f"{plain((player['country'] or '').upper())} {plain(player['region'] or '')}"
)

if not overview.has_matches:
    st.info(f"{plain(player['nickname'])} has no CS2 matches stored yet.", icon="📭")
    st.stop()

cards = st.columns(6)
cards[0].metric("Matches", f"{summary['matches_lifetime']:,}")
cards[1].metric(
    "Win rate",
    percent(summary["win_rate_lifetime"]),
    delta=f"{(summary['win_rate_last10'] or 0) - (summary['win_rate_lifetime'] or 0):+.0%} last 10",
)
cards[2].metric(
    "K/D",
    number(summary["kd_lifetime"]),
    delta=f"{number(summary['kd_last10'])} last 10",
    delta_color="off",
)
cards[3].metric("ADR", number(summary["adr_lifetime"], 1))
cards[4].metric("HS %", number(summary["hs_pct_lifetime"], 0))
cards[5].metric(
    "Rating",
    number(summary["rating_lifetime"]),
    delta=f"form {number(summary['form'])}",
    delta_color="off",
)

st.subheader("Elo history")
if overview.elo.height:
    elo = overview.elo.select("recorded_at", "elo", "estimated").to_pandas()
    st.altair_chart(
        alt.Chart(elo)
        .mark_line(point=False)
        .encode(
            x=alt.X("recorded_at:T", title=None),
            y=alt.Y("elo:Q", title="Elo", scale=alt.Scale(zero=False)),
            tooltip=["recorded_at:T", "elo:Q", "estimated:N"],
        ),
        width="stretch",
    )
    st.caption("FACEIT publishes only the current Elo; older values are estimated backwards.")

st.subheader("Form")
form = overview.form.select("finished_at", "rating", "form").to_pandas()
st.altair_chart(
    alt.Chart(form)
    .transform_fold(["rating", "form"], as_=["series", "value"])
    .mark_line()
    .encode(
        x=alt.X("finished_at:T", title=None),
        y=alt.Y("value:Q", title="Rating"),
        color="series:N",
    ),
    width="stretch",
)

st.subheader("Last matches")
match_history_table(overview.last_matches)
