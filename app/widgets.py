"""Shared pieces of the pages: the selected player, level badges, empty states."""

from __future__ import annotations

import re
from datetime import date

import streamlit as st

from app import present
from app.present import map_label  # noqa: F401  (re-exported for the pages)
from app.resources import get_resources
from core import crud
from core.cs2 import MAP_POOL
from core.text import control_character_error
from models import filters
from models.filters import MatchFilter

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
    """The player chosen on Home, or named in the URL (?player=NICKNAME), else "me": the FACEIT
    player the logged-in account is linked to (Log in with FACEIT)."""
    resources = get_resources()
    nickname = st.query_params.get("player")
    if nickname:
        with resources.sessions() as session:
            player = crud.find_player(session, nickname)
        if player is not None:
            st.session_state["player_id"] = player.id
            return player.id
    return st.session_state.get("player_id") or my_stored_player_id()


def my_stored_player_id() -> str | None:
    """The logged-in user's linked FACEIT player, if it is in the database."""
    from app.auth import my_player_id

    player_id = my_player_id()
    if player_id is None:
        return None
    with get_resources().sessions() as session:
        return player_id if crud.get_player(session, player_id) is not None else None


def me_and_teammates() -> list[str]:
    """Nicknames of "me" (the linked player) and my recent teammates, me first (empty for a
    visitor or an account without a linked player)."""
    player_id = my_stored_player_id()
    if player_id is None:
        return []
    with get_resources().sessions() as session:
        me = crud.get_player(session, player_id)
        teammates = crud.recent_teammates(session, player_id)
    return [me.nickname, *teammates] if me is not None else []


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
    match (empty when no player is being viewed); when the viewed player is "me", my team is
    me and my recent teammates."""
    player_id = selected_player_id()
    if player_id is None:
        return [], []
    with get_resources().sessions() as session:
        own, opponents = crud.last_match_lineups(session, player_id)
    if player_id == my_stored_player_id():
        mine = me_and_teammates()
        own = mine or own
        opponents = [name for name in opponents if name not in mine]
    return own, opponents


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


# ---- the match filter of the stats pages (models.filters) ----------------------------------

_FILTER_STATE = "match_filter"
_WIDGETS = {
    "since": "filter_since",
    "until": "filter_until",
    "map": "filter_map",
    "weekday": "filter_weekday",
    "hours": "filter_hours",
    "team": "filter_team",
    "result": "filter_result",
}
_TEAM = {"Any team": None, "Premade party": "premade", "Solo queue": "solo"}
_RESULT = {"All results": None, "Wins": "win", "Losses": "loss"}


def _url_filter() -> tuple[MatchFilter, list[str]] | None:
    """The filter named in the URL (and its refused values), or None when the URL names none."""
    if not any(name in st.query_params for name in filters.FIELDS):
        return None
    return filters.from_query({name: st.query_params.get_all(name) for name in filters.FIELDS})


def _start_widgets(flt: MatchFilter) -> None:
    state = st.session_state
    state[_WIDGETS["since"]] = _pickable(flt.since)
    state[_WIDGETS["until"]] = _pickable(flt.until)
    state[_WIDGETS["map"]] = list(flt.map)
    state[_WIDGETS["weekday"]] = list(flt.weekday)
    state[_WIDGETS["hours"]] = (
        0 if flt.hour_from is None else flt.hour_from,
        23 if flt.hour_to is None else flt.hour_to,
    )
    state[_WIDGETS["team"]] = next(k for k, v in _TEAM.items() if v == flt.team)
    state[_WIDGETS["result"]] = next(k for k, v in _RESULT.items() if v == flt.result)


def _pickable(day: date | None) -> date | None:
    """A date within the pickers' range (a date beyond it keeps the same matches)."""
    return None if day is None else min(max(day, filters.FIRST_DAY), filters.LAST_DAY)


def _clear_filter() -> None:
    _start_widgets(MatchFilter())


def _widget_query() -> dict[str, list[str]]:
    """The widgets' values as URL parameters (validated by models.filters like any URL)."""
    state = st.session_state
    since, until = state[_WIDGETS["since"]], state[_WIDGETS["until"]]
    low, high = state[_WIDGETS["hours"]]
    team, result = _TEAM[state[_WIDGETS["team"]]], _RESULT[state[_WIDGETS["result"]]]
    return {
        "since": [since.isoformat()] if since else [],
        "until": [until.isoformat()] if until else [],
        "map": list(state[_WIDGETS["map"]]),
        "weekday": list(state[_WIDGETS["weekday"]]),
        "hour_from": [str(low)] if (low, high) != (0, 23) else [],
        "hour_to": [str(high)] if (low, high) != (0, 23) else [],
        "team": [team] if team else [],
        "result": [result] if result else [],
    }


def match_filter(maps: list[str] | None = None) -> MatchFilter:
    """The filter bar of every stats page (Overview, Matches, Maps, Compare): date range, map,
    weekday, hour of day, premade or solo, result. Its state is in the URL (``?map=de_mirage&
    result=win...``, models.filters.FIELDS), so a filtered view can be shared and reloaded; a
    refused URL value gets a plain sentence and is ignored. Opening another page keeps the
    filter. ``maps``: the map choices (default: the active pool), plus any the filter names."""
    shared = _url_filter()
    if _WIDGETS["result"] not in st.session_state:  # a new page: its URL, else the last filter
        if shared is not None:
            flt, refused = shared
            for sentence in refused:
                st.warning(plain(sentence), icon="⚠️")
        else:
            flt = st.session_state.get(_FILTER_STATE, MatchFilter())
        _start_widgets(flt)
    choices = list(dict.fromkeys([*(maps or MAP_POOL), *st.session_state[_WIDGETS["map"]]]))
    active = st.session_state.get(_FILTER_STATE, MatchFilter()).active or (
        shared is not None and shared[0].active
    )
    with st.expander("Filters", expanded=active, icon=":material/filter_list:"):
        row = st.columns([1, 1, 2, 2])
        row[0].date_input(
            "From (UTC)",
            min_value=filters.FIRST_DAY,
            max_value=filters.LAST_DAY,
            key=_WIDGETS["since"],
            format="YYYY-MM-DD",
        )
        row[1].date_input(
            "To (UTC)",
            min_value=filters.FIRST_DAY,
            max_value=filters.LAST_DAY,
            key=_WIDGETS["until"],
            format="YYYY-MM-DD",
        )
        row[2].multiselect(
            "Maps",
            choices,
            format_func=present.map_label,
            key=_WIDGETS["map"],
            placeholder="All maps",
        )
        row[3].multiselect(
            "Weekdays",
            list(filters.WEEKDAYS),
            format_func=filters.WEEKDAY_LABELS.__getitem__,
            key=_WIDGETS["weekday"],
            placeholder="Every day",
        )
        row = st.columns([2, 2, 2, 1], vertical_alignment="bottom")
        row[0].slider("Hour of day (UTC)", 0, 23, key=_WIDGETS["hours"], format="%d:00")
        row[1].radio("Team", list(_TEAM), horizontal=True, key=_WIDGETS["team"])
        row[2].radio("Result", list(_RESULT), horizontal=True, key=_WIDGETS["result"])
        row[3].button("Clear filters", on_click=_clear_filter, icon=":material/close:")
    flt, refused = filters.from_query(_widget_query())
    for sentence in refused:  # only the date range can be chosen out of order
        st.warning(plain(sentence), icon="⚠️")
    st.session_state[_FILTER_STATE] = flt
    wanted = flt.query()
    for name in filters.FIELDS:
        if name in wanted:
            if st.query_params.get_all(name) != _as_list(wanted[name]):
                st.query_params[name] = wanted[name]
        elif name in st.query_params:
            del st.query_params[name]
    return flt


def _as_list(value: str | list[str]) -> list[str]:
    return value if isinstance(value, list) else [value]


def filter_note(flt: MatchFilter, kept: int, total: int | None = None) -> None:
    """One line above a filtered view: which matches its numbers are of."""
    if not flt.active:
        return
    of = f" of {total:,}" if total is not None else ""
    st.caption(
        f"Filtered: {plain(present.filter_summary(flt))}. {kept:,}{of} "
        f"match{'es' if kept != 1 else ''}."
    )


def no_filtered_matches(flt: MatchFilter) -> None:
    """The empty state of a filtered view (and the page stops)."""
    st.info(
        f"No matches with these filters ({plain(present.filter_summary(flt))}): widen the "
        "dates or hours, or clear a map, weekday, team or result (*Clear filters*).",
        icon="📭",
    )
    st.stop()
