"""Home: search a nickname; a player not yet stored is fetched on demand with progress."""

from __future__ import annotations

import asyncio

import streamlit as st

from app.resources import get_resources
from app.widgets import plain, select_player, text_input
from core import crud
from core.faceit import FaceitError, InvalidNickname, validate_nickname
from core.ingest import IngestError
from core.sources import run_ingest

resources = get_resources()
st.title("Faceit AI")
st.write("Analytics and match intelligence for FACEIT Counter-Strike 2 players.")

with resources.sessions() as session:
    players = crud.count_players(session)
    matches = crud.count_matches(session)
    examples = crud.player_nicknames(session, limit=5)

with st.form("search"):
    nickname = text_input(
        "FACEIT nickname", placeholder="e.g. " + (examples[0] if examples else "s1mple")
    )
    submitted = st.form_submit_button("Analyse", type="primary")


def fetch_player(name: str) -> str | None:
    """Ingest `name` with a progress bar; the player's id, or None after showing why not."""
    bar = st.progress(0.0, text=f"Looking up {name} on FACEIT…")

    def progress(stage: str, done: int, total: int) -> None:
        if stage == "matches" and total:
            bar.progress(done / total, text=f"Fetching matches: {done} of {total}")
        elif stage == "history":
            bar.progress(0.05, text=f"Reading match history: {done} matches so far")

    try:
        asyncio.run(run_ingest(resources, lambda i: i.ingest_nickname(name), progress=progress))
    except (IngestError, FaceitError) as exc:
        bar.empty()
        st.error(str(exc))
        return None
    bar.progress(1.0, text="Done")
    with resources.sessions() as session:
        player = crud.find_player(session, name)
    return player.id if player else None


if submitted and nickname is not None:
    try:
        name = validate_nickname(nickname)
    except InvalidNickname as exc:
        st.error(str(exc))
        st.stop()
    with resources.sessions() as session:
        found = crud.find_player(session, name)
    player_id = found.id if found else fetch_player(name)
    if player_id is not None:
        with resources.sessions() as session:
            player = crud.get_player(session, player_id)
        assert player is not None
        select_player(player.id, player.nickname)
        st.switch_page("views/player.py")

if players == 0:
    st.info(
        "No players in the database yet: search a FACEIT nickname above to fetch a player "
        "(`faceit-ai run` loads the demo league on its first start).",
        icon="📭",
    )
else:
    left, right = st.columns(2)
    left.metric("Players tracked", f"{players:,}")
    right.metric("Matches analysed", f"{matches:,}")
    if examples:
        st.caption("Try: " + ", ".join(plain(e) for e in examples))
