"""Shared pieces of the pages: the selected player, level badges, empty states."""

from __future__ import annotations

import re

import streamlit as st

from app import present
from app.present import map_label  # noqa: F401  (re-exported for the pages)
from app.resources import get_resources
from core import crud
from core.text import control_character_error

# every character that can start markdown, HTML or a Streamlit directive (":red[...]")
_MARKUP = re.compile(r"([\\`*_{}\[\]()<>#+\-.!|~:$&=^])")


def plain(text: object) -> str:
    """``text`` (a nickname, a team name: anything from FACEIT or a user) shown as itself inside
    any Streamlit markdown (titles, captions, info boxes, metric labels): every markup character
    escaped, line breaks folded, so an image, link, HTML tag or colour directive in the data is
    text, never rendered or fetched by the viewer's browser. Not for widget options
    (selectbox, multiselect, format_func): Streamlit 1.67 shows those as plain text (only
    widget labels take Markdown), so escaping them would show the backslashes."""
    return _MARKUP.sub(r"\\\1", " ".join(str(text).split()))


def text_input(label: str, **kwargs: object) -> str | None:
    """``st.text_input`` under the shared text rule (core.text): the value, or None after a
    clear message under the field when it holds a control character (NUL included)."""
    value = st.text_input(label, **kwargs)  # type: ignore[arg-type]
    error = control_character_error(value or "")
    if error is not None:
        st.error(f"{label} {error}.", icon="⚠️")
        return None
    return value


def select_player(player_id: str, nickname: str) -> None:
    st.session_state["player_id"] = player_id
    st.query_params["player"] = nickname


def selected_player_id() -> str | None:
    """The player chosen on Home, or named in the URL (?player=NICKNAME)."""
    resources = get_resources()
    nickname = st.query_params.get("player")
    if nickname:
        with resources.sessions() as session:
            player = crud.find_player(session, nickname)
        if player is not None:
            st.session_state["player_id"] = player.id
            return player.id
    return st.session_state.get("player_id")


def keep_player_in_url() -> None:
    """Every page's address names the player being viewed (?player=NICKNAME), so a view can be
    shared and survives a page change (the navigation drops query parameters)."""
    if st.query_params.get("player"):
        return
    player_id = st.session_state.get("player_id")
    if player_id is None:
        return
    with get_resources().sessions() as session:
        player = crud.get_player(session, player_id)
    if player is not None:
        st.query_params["player"] = player.nickname


def require_player() -> str:
    player_id = selected_player_id()
    if player_id is None:
        st.info("Search a player on the Home page first.", icon="🔎")
        st.page_link("views/home.py", label="Go to Home", icon="🏠")
        st.stop()
    return player_id


def level_badge(level: int | None) -> str:
    if not level:
        return "unranked"
    colour = "red" if level == 10 else "orange" if level >= 8 else "green" if level >= 4 else "gray"
    return f":{colour}-background[Level {level}]"


def known_nicknames() -> list[str]:
    with get_resources().sessions() as session:
        return crud.player_nicknames(session, limit=5000)


def viewed_lineups() -> tuple[list[str], list[str]]:
    """Defaults of the lineup pickers: the viewed player's team and opponents of their latest
    match (empty when no player is being viewed)."""
    player_id = selected_player_id()
    if player_id is None:
        return [], []
    with get_resources().sessions() as session:
        return crud.last_match_lineups(session, player_id)


def lineup_picker(label: str, key: str, default: list[str] | None = None) -> list[str]:
    options = known_nicknames()
    known = set(options)
    return st.multiselect(
        label,
        options,
        default=[name for name in default or [] if name in known][:5],
        max_selections=5,
        key=key,
        placeholder="Choose up to 5 players",
    )


def table_or_note(rows: list[dict[str, object]], empty: str) -> None:
    """A full-width table of `rows`, or a short note when there are none."""
    if rows:
        st.dataframe(rows, hide_index=True, width="stretch")
    else:
        st.caption(empty)


def match_history_table(rows: list[dict[str, object]]) -> None:
    """A player's matches (core.crud.recent_matches rows) as one table, newest first, with the
    score from the player's side, and the Elo change of each match when the rows carry it
    (models.dashboard.matches_with_elo; "~" marks an estimated change)."""
    table = [
        {
            "When": present.relative_time(row["finished_at"]),  # type: ignore[arg-type]
            "Map": present.map_label(row["map"]),  # type: ignore[arg-type]
            "Score": present.player_score(
                row["faction"],  # type: ignore[arg-type]
                row["faction1_score"],  # type: ignore[arg-type]
                row["faction2_score"],  # type: ignore[arg-type]
            ),
            "Result": "Win" if row["result"] else "Loss",
            "K": row["kills"],
            "D": row["deaths"],
            "A": row["assists"],
            "ADR": present.stat_value("adr", row["adr"]),  # type: ignore[arg-type]
            "HS %": present.stat_value("hs_pct", row["headshots_pct"]),  # type: ignore[arg-type]
            "K/D": present.stat_value("kd", row["kd_ratio"]),  # type: ignore[arg-type]
            **(
                {
                    "Elo": present.elo_change(
                        row["elo_change"],  # type: ignore[arg-type]
                        bool(row.get("elo_estimated")),
                    )
                }
                if "elo_change" in row
                else {}
            ),
        }
        for row in rows
    ]
    st.dataframe(table, hide_index=True, width="stretch")


def models_ready(*, playstyle: bool) -> bool:
    from app.resources import get_models

    models = get_models()
    if models.match_outcome.get() is None:
        return False
    return not playstyle or models.playstyle.get() is not None


def require_trained_models(what: str, *, playstyle: bool = False) -> None:
    """Top of a page that needs the promoted models: when there are none yet, say why and when
    they will be ready (the default set-up trains them right after loading the demo league),
    refresh by itself while they are being trained, and stop the page."""
    from models import training_status

    if models_ready(playstyle=playstyle):
        return
    status = training_status.read_status(get_resources().settings.data_dir)
    if status is not None and status.state == "running":
        st.info(
            f"The models behind {what} are being trained on the latest matches: ready in "
            f"~{status.remaining_seconds()} s. This page opens by itself when they are.",
            icon="⏳",
        )
        wait_for_models(playstyle)
    elif status is not None and status.state == "failed":
        st.error(
            f"Training the models behind {what} failed ({status.error}). Restart the app or "
            "run `faceit-ai train` to try again.",
            icon="⚠️",
        )
    else:
        st.info(
            f"{what[:1].upper()}{what[1:]} needs trained models and none has been trained yet. "
            "They are trained when the app starts on the demo league, and every night in "
            "production; `faceit-ai train` trains them now.",
            icon="⏳",
        )
        wait_for_models(playstyle)
    st.stop()


@st.fragment(run_every=2)
def wait_for_models(playstyle: bool) -> None:
    """Re-checks every 2 s and reruns the page once the models are promoted."""
    if models_ready(playstyle=playstyle):
        st.rerun(scope="app")
