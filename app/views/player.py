"""Player overview: profile, refresh from FACEIT, lifetime cards, Elo, form, last matches."""

from __future__ import annotations

import asyncio
import secrets

import altair as alt
import streamlit as st

from app import auth, present
from app.notifications import follow_buttons
from app.resources import get_refresh_limiter, get_resources
from app.widgets import level_badge, match_history_table, plain, require_player
from core import crud
from core.faceit import FaceitError
from core.ingest import IngestError
from core.sources import run_ingest
from models.dashboard import player_overview

resources = get_resources()
player_id = require_player()
overview = player_overview(resources.sessions, resources.cache, player_id)
player, summary = overview.player, overview.summary
with resources.sessions() as session:
    synced_at = crud.last_synced_at(session, player_id)


def refresher() -> str:
    """Who asks for the refresh: the user, or this browser session for a visitor."""
    user = auth.current_user()
    if user is not None:
        return f"user:{user.id}"
    return "visitor:" + st.session_state.setdefault("visitor_id", secrets.token_hex(8))


def refresh() -> None:
    decision = get_refresh_limiter().check(refresher(), player_id)
    if not decision.allowed:
        st.warning(
            f"{plain(player['nickname'])} was refreshed a moment ago: try again in "
            f"{decision.wait_text}.",
            icon="⏳",
        )
        return
    with st.spinner(f"Fetching {plain(player['nickname'])}'s new matches from FACEIT…"):
        try:
            summary = asyncio.run(
                run_ingest(resources, lambda ingestor: ingestor.sync_player_id(player_id))
            )
        except (IngestError, FaceitError) as exc:
            st.error(f"FACEIT could not be reached: {exc}", icon="⚠️")
            return
    found = summary.new_matches
    st.session_state["refresh_notice"] = (
        f"Up to date: {found} new match{'es' if found != 1 else ''} fetched."
    )
    st.rerun()


left, right = st.columns([1, 5])
if player["avatar"] and not resources.settings.uses_demo_league:
    left.image(player["avatar"], width=96)
right.title(plain(player["nickname"]))
right.markdown(
    f"{level_badge(player['skill_level'])} · **{player['faceit_elo'] or '–'} Elo** · "
    f"{plain((player['country'] or '').upper())} {plain(player['region'] or '')}"
)
updated, button = right.columns([3, 1])
updated.caption(f"Last updated from FACEIT: {present.relative_time(synced_at)}")
if button.button("Refresh from FACEIT", icon=":material/refresh:", key="refresh_player"):
    refresh()
with right:
    follow_buttons([{"player_id": player_id, "nickname": player["nickname"]}], key="follow")
if notice := st.session_state.pop("refresh_notice", None):
    st.success(notice, icon="✅")

if not overview.has_matches:
    st.info(
        f"{plain(player['nickname'])} has no CS2 matches stored yet. Press *Refresh from "
        "FACEIT* to fetch new ones, or search another player on Home.",
        icon="📭",
    )
    st.stop()


def card(column: st.delta_generator.DeltaGenerator, key: str, last10: str | None = None) -> None:
    """A lifetime stat, with the last 10 matches' change (arrow up = higher than lifetime)."""
    lifetime = summary.get(key)
    recent = summary.get(last10) if last10 else None
    delta = present.stat_change(key, recent, lifetime) if last10 else None
    column.metric(
        present.stat_label(key),
        present.stat_value(key, lifetime),
        delta=f"{delta} last 10" if delta else None,
        help=f"Lifetime; the small number is the last 10 matches compared with it "
        f"({present.stat_value(key, recent)} over the last 10)."
        if last10
        else "Lifetime",
    )


cards = st.columns(6)
cards[0].metric("Matches", f"{summary['matches_lifetime']:,}")
card(cards[1], "win_rate_lifetime", "win_rate_last10")
card(cards[2], "kd_lifetime", "kd_last10")
card(cards[3], "adr_lifetime")
card(cards[4], "hs_pct_lifetime")
card(cards[5], "rating_lifetime")

st.subheader("Elo history")
if overview.elo.height:
    elo = overview.elo.select("recorded_at", "elo", "estimated").to_pandas()
    st.altair_chart(
        alt.Chart(elo, title="Elo after each match")
        .mark_line(point=False)
        .encode(
            x=alt.X("recorded_at:T", title="Date"),
            y=alt.Y("elo:Q", title="Elo", scale=alt.Scale(zero=False)),
            tooltip=[
                alt.Tooltip("recorded_at:T", title="Date"),
                alt.Tooltip("elo:Q", title="Elo"),
                alt.Tooltip("estimated:N", title="Estimated"),
            ],
        ),
        width="stretch",
    )
    st.caption("FACEIT publishes only the current Elo; older values are estimated backwards.")
else:
    st.caption("No Elo history yet: it starts with the next match FACEIT records.")

st.subheader("Form")
form = overview.form.select("finished_at", "rating", "form").to_pandas()
form = form.rename(columns={"rating": "Match rating", "form": "Form (moving average)"})
st.altair_chart(
    alt.Chart(form, title="Performance rating per match and its moving average")
    .transform_fold(["Match rating", "Form (moving average)"], as_=["Series", "Rating"])
    .mark_line()
    .encode(
        x=alt.X("finished_at:T", title="Date"),
        y=alt.Y("Rating:Q", title="Rating (1.00 = average)"),
        color=alt.Color("Series:N", title=None),
    ),
    width="stretch",
)

st.subheader("Last matches")
match_history_table(overview.last_matches)
