"""Match room: a live match's lineups, the pre-match prediction per map and the veto advice,
updated as the match moves on; after it finishes, the result next to what was predicted."""

from __future__ import annotations

from typing import Any

import streamlit as st

from app import auth, present
from app.notifications import follow_buttons
from app.resources import get_resources
from app.widgets import level_badge, plain, text_input
from core import notify
from models.live import current_matches, match_room, room_default

STATES = ("created", "configuring", "ready", "finished")
STATE_LABELS = {
    "created": "Match found",
    "configuring": "Map veto",
    "ready": "Live",
    "finished": "Finished",
    "cancelled": "Cancelled",
    "aborted": "Aborted",
}
REFRESH_SECONDS = 3

resources = get_resources()
st.title("Match room")
demo_note = " The demo league plays a new match every few minutes."
st.caption(
    "Matches FACEIT tells us about as they happen: both lineups, our prediction for every map "
    "made before the start, and how it scored."
    + (demo_note if resources.settings.uses_demo_league else "")
)


def lineup_label(match: dict[str, Any]) -> str:
    teams = match["lineups"]
    sides = [", ".join(teams.get(f, [])[:5]) or "?" for f in ("faction1", "faction2")]
    star = "★ " if match["followed"] else ""  # a text star: every font has it, not every emoji
    state = STATE_LABELS.get(match["status"], match["status"])
    return f"{star}{state} · {sides[0]}  vs  {sides[1]}"


viewer = auth.current_user()
with resources.sessions() as session:
    following = set(notify.followed(session, viewer.id)) if viewer is not None else set()
recent = current_matches(resources, followed=following)
wanted = st.query_params.get("match")  # the user's own pick (or a shared link's)
options = [m["match_id"] for m in recent]
if wanted and wanted not in options:
    options.insert(0, wanted)
default = wanted or room_default(recent, st.session_state.get("match_room_shown"))
labels = {m["match_id"]: lineup_label(m) for m in recent}
pick, paste = st.columns([3, 2])
with pick:
    chosen = st.selectbox(
        "Follow a live match",
        options,
        index=options.index(default) if default in options else None,
        format_func=lambda m: labels.get(m, m),
        placeholder="No live match yet",
    )
with paste:
    pasted = text_input("or paste a match id", placeholder="1-6e9986d0-fca9-4840-...")
match_id = (pasted or "").strip() or chosen
st.session_state["match_room_shown"] = match_id


@st.fragment(run_every=REFRESH_SECONDS)
def offer_new_matches(known: frozenset[tuple[str, str]]) -> None:
    """Rerun the page when a match arrives or moves on, so the picker offers it (a followed
    player's match first) and its labels say the stage the room shows, without a reload."""
    now = current_matches(resources, followed=following)
    if {(m["match_id"], m["status"]) for m in now} != known:
        st.rerun()


offer_new_matches(frozenset((m["match_id"], m["status"]) for m in recent))
if not match_id:
    st.info("No live match yet: they appear here as soon as FACEIT announces them.")
    st.stop()
if match_id != default or wanted:
    # the user's pick is kept in the address (a reload or a shared link shows it); the
    # default is not, so a followed player's match can still take over when it arrives
    st.query_params["match"] = match_id


def player_rows(team: dict[str, Any]) -> list[dict[str, object]]:
    return [
        {
            "Player": p["nickname"],  # a table cell is text, not markdown
            "Level": str(p["level"]) if p["level"] else "–",
            "Elo": f"{p['elo']:,}" if p["elo"] is not None else "–",
            "Form": present.stat_value("form", p["form"]),
            "Win rate (last 10)": present.stat_value("win_rate", p["win_rate_last10"]),
            "Best maps": ", ".join(present.map_label(m) for m in p["best_maps"]) or "–",
        }
        for p in team["players"]
    ]


@st.fragment(run_every=REFRESH_SECONDS)
def room() -> None:
    data = match_room(resources, match_id)
    if data is None:
        st.warning(
            f"FACEIT has not told us about the match {plain(match_id)} (yet). Matches appear "
            "here when their first event arrives."
        )
        return
    status = data["status"]
    step = STATES.index(status) if status in STATES else len(STATES) - 1
    st.progress(
        (step + 1) / len(STATES),
        text=" → ".join(
            f"**{STATE_LABELS[s]}**" if s == status else STATE_LABELS[s] for s in STATES
        )
        if status in STATES
        else STATE_LABELS.get(status, status),
    )
    teams = data["teams"]
    names = {f: teams[f]["name"] if f in teams else f for f in ("faction1", "faction2")}
    left, right = st.columns(2)
    for column, faction in ((left, "faction1"), (right, "faction2")):
        with column:
            team = teams.get(faction)
            st.subheader(plain(names[faction]))
            if team is None:
                st.caption("Lineup not known yet.")
                continue
            levels = [p["level"] for p in team["players"] if p["level"]]
            if levels:
                st.markdown(level_badge(round(sum(levels) / len(levels))) + " average")
            st.dataframe(player_rows(team), hide_index=True, width="stretch")
            follow_buttons(team["players"], key=f"follow_{faction}")
    prediction = data["prediction"]
    if prediction is None:
        st.info(data["note"] or "The prediction is being made…", icon="⏳")
        return
    when = present.relative_time(data["predicted_at"])
    st.subheader(f"Prediction (made {when}, before the start)")
    veto = prediction.get("veto") or {}
    pick = veto.get("pick")
    bans = ", ".join(present.map_label(m) for m in veto.get("bans", [])) or "–"
    cols = st.columns(3)
    if pick:
        cols[0].metric(
            f"{names['faction1']} on {present.map_label(pick)}",
            f"{prediction['per_map'].get(pick, prediction.get('p_pick', 0.5)):.0%}",
            help="Win probability of the first team on the map the veto advice picks.",
        )
    cols[1].metric("Veto advice: pick", present.map_label(pick) if pick else "–")
    cols[2].metric("and ban", bans)
    st.dataframe(
        [
            {
                "Map": present.map_label(m),
                f"{names['faction1']} wins": f"{p:.0%}",
                f"{names['faction2']} wins": f"{1 - p:.0%}",
                "Played": "✔" if data["map"] == m else "",
            }
            for m, p in sorted(prediction["per_map"].items(), key=lambda kv: -kv[1])
        ],
        hide_index=True,
        width="stretch",
    )
    if status != "finished":
        return
    st.subheader("Result")
    if data["winner_faction"] is None:
        st.info("Waiting for FACEIT's scoreboard…", icon="⏳")
        return
    winner = names[data["winner_faction"]]
    cols = st.columns(3)
    cols[0].metric("Winner", winner)
    cols[1].metric("Map played", present.map_label(data["map"]))
    if data["p_played"] is not None:
        favourite = names["faction1"] if data["p_played"] >= 0.5 else names["faction2"]
        cols[2].metric(
            f"We gave {favourite}",
            f"{max(data['p_played'], 1 - data['p_played']):.0%}",
            "called it" if data["prediction_right"] else "missed",
            delta_color="normal" if data["prediction_right"] else "inverse",
        )


room()
