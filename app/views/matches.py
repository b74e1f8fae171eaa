"""Matches: a filterable history, and any match's scoreboard for both teams."""

from __future__ import annotations

import polars as pl
import streamlit as st

from app.resources import get_resources
from app.widgets import match_history_table, plain, require_player
from core import crud

resources = get_resources()
player_id = require_player()

with resources.sessions() as session:
    player = crud.get_player(session, player_id)
    maps = crud.player_maps(session, player_id)
assert player is not None
st.title(f"Matches of {plain(player.nickname)}")

left, middle, right = st.columns([3, 2, 1])
chosen_maps = left.multiselect("Maps", maps)
outcome = middle.radio("Result", ["All", "Wins", "Losses"], horizontal=True)
limit = right.number_input("Show", min_value=10, max_value=500, value=50, step=10)
result = {"All": None, "Wins": True, "Losses": False}[outcome]

with resources.sessions() as session:
    rows = crud.recent_matches(
        session, player_id, limit=int(limit), maps=chosen_maps or None, result=result
    )
if not rows:
    st.info("No matches with these filters.", icon="📭")
    st.stop()

match_history_table(rows)

labels = {
    r["match_id"]: f"{r['finished_at']:%Y-%m-%d %H:%M} · {r['map']} · {r['score']}" for r in rows
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
    st.markdown(f"**{plain(team[0].team_name or faction)}** {'🏆' if won else ''}")
    st.dataframe(
        pl.DataFrame(
            [
                {
                    "Player": p.nickname,
                    "K": p.kills,
                    "D": p.deaths,
                    "A": p.assists,
                    "ADR": p.adr,
                    "HS %": p.headshots_pct,
                    "K/D": p.kd_ratio,
                    "Entries": p.entry_count,
                    "MVPs": p.mvps,
                }
                for p in team
            ]
        ),
        hide_index=True,
        width="stretch",
    )
