"""Matches: a filterable history with the Elo change of each match, and any match's
scoreboard for both teams."""

from __future__ import annotations

import streamlit as st

from app import present
from app.resources import get_resources
from app.widgets import (
    filter_note,
    match_filter,
    match_history_table,
    no_filtered_matches,
    plain,
    require_player,
)
from core import crud
from models.dashboard import match_list, player_history

resources = get_resources()
player_id = require_player()

with resources.sessions() as session:
    player = crud.get_player(session, player_id)
    maps = crud.player_maps(session, player_id)
assert player is not None
st.title(f"Matches of {plain(player.nickname)}")

flt = match_filter(maps)
limit = st.number_input("Matches shown", min_value=10, max_value=500, value=50, step=10)
rows = match_list(resources.sessions, player_id, flt, limit=int(limit))
if not rows:
    if flt.active:
        no_filtered_matches(flt)
    st.info("No matches stored yet: press *Refresh from FACEIT* on the Overview page.", icon="📭")
    st.stop()
if flt.active:
    filter_note(flt, player_history(resources.sessions, player_id, flt).height)

match_history_table(rows)

labels = {
    r["match_id"]: f"{present.relative_time(r['finished_at'])} · {present.map_label(r['map'])} · "
    f"{present.player_score(r['faction'], r['faction1_score'], r['faction2_score'])} · "
    f"{'Win' if r['result'] else 'Loss'}"
    for r in rows
}
match_id = st.selectbox("Scoreboard of", list(labels), format_func=labels.__getitem__)
with resources.sessions() as session:
    match, players = crud.scoreboard(session, match_id)
if match is None:
    st.stop()
for faction in ("faction1", "faction2"):
    team = [p for p in players if p.faction == faction]
    if not team:
        continue
    won = match.winner_faction == faction
    side = "your team" if any(p.player_id == player_id for p in team) else "opponents"
    st.markdown(f"**{plain(team[0].team_name or faction)}** ({side}) {'🏆 won' if won else ''}")
    st.dataframe(
        [
            {
                "Player": p.nickname,
                "K": p.kills,
                "D": p.deaths,
                "A": p.assists,
                "ADR": present.stat_value("adr", p.adr),
                "HS %": present.stat_value("hs_pct", p.headshots_pct),
                "K/D": present.stat_value("kd", p.kd_ratio),
                "Opening duels": p.entry_count if p.entry_count is not None else "–",
                "MVPs": p.mvps,
            }
            for p in team
        ],
        hide_index=True,
        width="stretch",
    )
