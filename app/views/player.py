"""Player overview: profile, refresh from FACEIT, lifetime cards, Elo, form, last matches."""

from __future__ import annotations

import asyncio
import secrets

import altair as alt
import polars as pl
import streamlit as st

from app import auth, present
from app.notifications import follow_buttons
from app.resources import get_refresh_limiter, get_resources
from app.widgets import (
    filter_note,
    level_badge,
    match_filter,
    match_history_table,
    no_filtered_matches,
    plain,
    require_player,
)
from core import crud
from core.faceit import FaceitError
from core.ingest import IngestError
from core.sources import run_ingest
from models.dashboard import (
    TREND_WINDOW,
    elo_per_match,
    player_overview,
    stats_over_time,
    tilt_for,
)
from models.features import TREND_STATS
from models.tilt import MIN_GROUP, SESSION_MINUTES, TiltGroup, TiltReport

resources = get_resources()
TREND_FORMAT = {"adr": ".1f", "hs_pct": ".0f", "entry_success": ".0%", "utility_dpr": ".1f"}
player_id = require_player()
overview = player_overview(resources.sessions, resources.cache, player_id)
player = overview.player
with resources.sessions() as session:
    synced_at = crud.last_synced_at(session, player_id)
    player_maps = crud.player_maps(session, player_id)


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

flt = match_filter(player_maps)
every_match = overview.summary["matches_lifetime"]
overview = player_overview(resources.sessions, resources.cache, player_id, flt)
summary = overview.summary
if not overview.has_matches:
    no_filtered_matches(flt)
filter_note(flt, summary["matches_lifetime"], every_match)


def card(column: st.delta_generator.DeltaGenerator, key: str, last10: str | None = None) -> None:
    """A lifetime (or filtered) stat, with the last 10 matches' change (arrow up = higher)."""
    scope = "Every match the filters keep" if flt.active else "Lifetime"
    lifetime = summary.get(key)
    recent = summary.get(last10) if last10 else None
    delta = present.stat_change(key, recent, lifetime) if last10 else None
    flat = delta is not None and present.is_flat(delta)
    column.metric(
        present.stat_label(key),
        present.stat_value(key, lifetime),
        delta=f"{delta} last 10" if delta else None,
        delta_color="off" if flat else "normal",
        delta_arrow="off" if flat else "auto",
        help=f"{scope}; the small number is the last 10 matches compared with it "
        f"({present.stat_value(key, recent)} over the last 10)."
        if last10
        else scope,
    )


cards = st.columns(6)
cards[0].metric("Matches", f"{summary['matches_lifetime']:,}")
card(cards[1], "win_rate_lifetime", "win_rate_last10")
card(cards[2], "kd_lifetime", "kd_last10")
card(cards[3], "adr_lifetime")
card(cards[4], "hs_pct_lifetime")
card(cards[5], "rating_lifetime")

st.subheader("Elo history")
elo_view = elo_per_match(resources.sessions, resources.cache, player_id, flt)
if band := elo_view.band:
    level_cols = st.columns(3)
    span = f"{band.low:,}–{band.high:,}" if band.high is not None else f"{band.low:,}+"
    level_cols[0].metric(f"Level {band.level}", f"{span} Elo")
    level_cols[1].metric(
        f"To level {band.level + 1}" if band.to_next is not None else "Top level",
        f"+{band.to_next:,} Elo" if band.to_next is not None else "reached",
    )
    level_cols[2].metric(
        f"Drop to level {band.level - 1}" if band.to_previous is not None else "Lowest level",
        f"-{band.to_previous:,} Elo" if band.to_previous is not None else "–",
    )
    if band.progress is not None:
        st.progress(band.progress, text=f"{band.progress:.0%} of the way to level {band.level + 1}")
if elo_view.points.height:
    elo = elo_view.points.with_columns(
        pl.when(pl.col("estimated"))
        .then(pl.lit("Estimated (back-filled)"))
        .otherwise(pl.lit("Observed"))
        .alias("Point"),
        pl.struct("change", "change_estimated")
        .map_elements(
            lambda p: present.elo_change(p["change"], p["change_estimated"]),
            return_dtype=pl.String,
        )
        .alias("Change"),
    ).to_pandas()
    base = alt.Chart(elo, title="Elo after each match").encode(
        x=alt.X("recorded_at:T", title="Date"),
        y=alt.Y("elo:Q", title="Elo", scale=alt.Scale(zero=False)),
    )
    line = base.mark_line(color="#c8c8c8").encode(
        tooltip=[alt.Tooltip("recorded_at:T", title="Date"), alt.Tooltip("elo:Q", title="Elo")]
    )
    points = base.mark_point(size=70, filled=True, opacity=1).encode(
        color=alt.Color(
            "Point:N",
            title="Elo point",
            scale=alt.Scale(
                domain=["Observed", "Estimated (back-filled)"], range=["#ff5500", "#8a8a8a"]
            ),
        ),
        shape=alt.Shape(
            "Point:N",
            title="Elo point",
            scale=alt.Scale(
                domain=["Observed", "Estimated (back-filled)"], range=["circle", "triangle"]
            ),
        ),
        tooltip=[
            alt.Tooltip("recorded_at:T", title="Date"),
            alt.Tooltip("elo:Q", title="Elo"),
            alt.Tooltip("Change:N", title="Change"),
            alt.Tooltip("Point:N", title="Point"),
        ],
    )
    # filtered, a line would join matches the filter hides (a loss, then a loss, "rising")
    st.altair_chart(points if flt.active else line + points, width="stretch")
    st.caption(
        "One point per match, with its Elo change. FACEIT publishes only the current Elo: grey "
        "triangles are estimated backwards from it (±25 per win or loss), orange dots were "
        "observed at a sync. In the match lists, ~ marks an estimated change."
        + (" Only the matches the filters keep have a point." if flt.active else "")
    )
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

st.subheader("Stats over time")
pick, size = st.columns([2, 3])
trend_stat = pick.selectbox("Stat", TREND_STATS, format_func=present.stat_label, key="trend_stat")
window = size.slider("Window (matches)", min_value=5, max_value=50, value=TREND_WINDOW, step=1)
label = present.stat_label(trend_stat)
trend = (
    stats_over_time(resources.sessions, resources.cache, player_id, window, flt)
    .select("finished_at", pl.col(trend_stat).alias("value"))
    .drop_nulls("value")
)
if trend.height:
    st.altair_chart(
        alt.Chart(
            trend.to_pandas(), title=f"{label} over the last {window} matches, match by match"
        )
        .mark_line(point=True)
        .encode(
            x=alt.X("finished_at:T", title="Date"),
            y=alt.Y("value:Q", title=f"{label} (last {window})", scale=alt.Scale(zero=False)),
            tooltip=[
                alt.Tooltip("finished_at:T", title="Date"),
                alt.Tooltip("value:Q", title=label, format=TREND_FORMAT.get(trend_stat, ".2f")),
            ],
        ),
        width="stretch",
    )
    st.caption(
        f"Each point is the stat over the {window} matches up to that one (totals divided, so "
        "a long match counts more than a short one); matches FACEIT recorded without the stat "
        "are left out of it."
    )
else:
    st.caption(f"FACEIT recorded no {label.lower()} for these matches.")

st.subheader("Streaks and tilt")


def noise_answer(group: TiltGroup) -> str:
    if group.verdict:
        return "yes"
    return "no" if group.win_rate_interval is not None else "too few matches"


def tilt_section(report: TiltReport) -> None:
    """The premium tilt analysis: each group against the player's other matches."""
    st.dataframe(
        [
            {
                "Matches played": group.label,
                "Matches": group.matches,
                "Win rate": present.stat_value("win_rate", group.win_rate),
                "Other matches' win rate": present.stat_value("win_rate", group.other_win_rate),
                "Rating": present.stat_value("rating", group.rating),
                "Other matches' rating": present.stat_value("rating", group.other_rating),
                "Beyond noise?": noise_answer(group),
            }
            for group in report.groups
        ],
        hide_index=True,
        width="stretch",
    )
    for verdict in report.verdicts:
        st.warning(plain(verdict), icon="🧊")
    tested = [g.label.lower() for g in report.groups if g.win_rate_interval is not None]
    if not report.verdicts and tested:
        st.info(
            f"No tilt found: {', '.join(tested)}, you play as in your other matches, within "
            "the noise of this many matches. The other groups have too few matches to tell.",
            icon="🙂",
        )
    elif not report.verdicts:
        st.info("Too few matches in each group to tell whether losses or long sessions tilt you.")
    st.caption(
        f"Each group is compared with your other matches; a difference counts only when its "
        f"{report.confidence:.1%} interval (the spread chance alone gives a group this small) "
        f"excludes zero, 95% for all groups together, "
        f"and only with at least {MIN_GROUP} matches on both sides."
        + (
            " Filtered: only the matches the filters keep are counted, each by the losses and "
            "the session before it in the whole history."
            if flt.active
            else ""
        )
    )


viewer = auth.current_user()
premium = viewer is not None and auth.user_is_premium(viewer)
gap = (
    st.number_input(
        "A session: matches less than this many minutes apart",
        min_value=5,
        max_value=720,
        value=60,
        step=5,
        key="session_gap",
    )
    if premium
    else SESSION_MINUTES
)
report = tilt_for(resources.sessions, player_id, int(gap), flt)
streak_cols = st.columns(3)
streak_cols[0].metric("Current streak", present.streak(report.streaks.current))
streak_cols[1].metric("Longest win streak", present.streak(report.streaks.longest_win))
streak_cols[2].metric("Longest losing streak", present.streak(-report.streaks.longest_loss))
if flt.active:
    st.caption("Streaks are runs of matches as you played them: every match, whatever the filters.")
if premium:
    tilt_section(report)
else:
    st.caption(
        "Tilt: do you win less after 1, 2, 3+ losses in a row, or late in a long session? "
        "Each group of your matches against your other matches, with a verdict only beyond "
        "the noise."
    )
    if viewer is None:
        auth.login_prompt("the tilt analysis")
    else:  # entitlement was read above: prompt without reading it again
        auth.upgrade_call_to_action(viewer, "the tilt analysis", key="upgrade_tilt")

st.subheader("Last matches")
match_history_table(overview.last_matches)
