"""Compare: two or more players side by side (the player being viewed is pre-selected), and for
premium users the first two players' head-to-head and the first one's teammates
(models.head_to_head)."""

from __future__ import annotations

import altair as alt
import polars as pl
import streamlit as st

from app import present
from app.auth import current_user, user_is_premium
from app.resources import get_resources
from app.widgets import filter_note, match_filter, me_and_teammates, plain, selected_player_id
from core import crud
from models.dashboard import compare_players
from models.errors import AnalysisError
from models.head_to_head import head_to_head_for, synergy_for
from models.results import PairRecord

resources = get_resources()
st.title("Compare players")

with resources.sessions() as session:
    nicknames = crud.player_nicknames(session, limit=2000)
    viewed = selected_player_id()
    player = crud.get_player(session, viewed) if viewed else None
if len(nicknames) < 2:
    st.info(
        "Compare needs at least two players with matches: search them on the Home page.",
        icon="📭",
    )
    st.stop()

# the viewed player, and "me" (Log in with FACEIT) next to them, or my most frequent recent
# teammate when I am the one viewed: the head-to-head below reads the first two
mine = me_and_teammates()
default = [player.nickname] if player is not None else []
default += [name for name in mine if name not in default][: 2 - len(default)]
default = [name for name in default if name in nicknames]
chosen = st.multiselect(
    "Players", nicknames, default=default, max_selections=6, placeholder="Choose players"
)
if len(chosen) < 2:
    st.info("Pick at least two players to compare (up to six).", icon="👥")
    st.stop()

with resources.sessions() as session:
    ids = [p.id for name in chosen if (p := crud.find_player(session, name)) is not None]
flt = match_filter()
table = compare_players(resources.sessions, resources.cache, ids, flt)
if flt.active:
    filter_note(flt, int(table["Matches"].fill_null(0).sum()))
    st.caption(
        "Each player's numbers are over their own matches the filters keep (Matches: how "
        "many); a player with none shows dashes."
    )
keys = {
    "Win rate": "win_rate",
    "K/D": "kd",
    "K/D last 10": "kd",
    "ADR": "adr",
    "HS %": "hs_pct",
    "Rating": "rating",
    "Form": "form",
}
st.dataframe(
    [
        {
            column: present.stat_value(keys[column], value) if column in keys else value
            for column, value in row.items()
        }
        for row in table.iter_rows(named=True)
    ],
    hide_index=True,
    width="stretch",
)
long = (
    table.unpivot(index="Player", on=["K/D", "K/D last 10", "Rating", "Form"])
    .rename({"variable": "Stat", "value": "Value"})
    .with_columns(pl.col("Value").round(2))
)
st.altair_chart(
    alt.Chart(long.to_pandas(), title="K/D, recent K/D, rating and form side by side")
    .mark_bar()
    .encode(
        x=alt.X("Player:N", title=None, sort=chosen),
        y=alt.Y("Value:Q", title="Value (1.00 = even / average)"),
        color=alt.Color("Player:N", title="Player", sort=chosen),
        column=alt.Column("Stat:N", title=None, sort=["K/D", "K/D last 10", "Rating", "Form"]),
        tooltip=["Player", "Stat", "Value"],
    )
)


def record_line(record: PairRecord) -> str:
    if not record.matches or record.win_rate is None:
        return "no matches"
    return (
        f"{record.matches} matches, {record.wins} won, {record.losses} lost ({record.win_rate:.0%})"
    )


def map_rows(record: PairRecord) -> list[dict[str, object]]:
    return [
        {
            "Map": present.map_label(m.map),
            "Matches": m.matches,
            "Won": m.wins,
            "Win rate": f"{m.win_rate:.0%}",
        }
        for m in record.maps
    ]


first, second = chosen[0], chosen[1]
st.header(f"{plain(first)} and {plain(second)}")
user = current_user()
if user is None or not user_is_premium(user):
    st.info(
        "Head-to-head (matches together and against each other, per map) and the teammates "
        "a player wins more with are premium analyses.",
        icon="⭐",
    )
    st.stop()
pair = head_to_head_for(resources.sessions, ids[0], ids[1], flt)
together_col, against_col = st.columns(2)
with together_col:
    st.subheader("Together")
    st.markdown(f"On the same team: **{record_line(pair.together)}**")
    if pair.together.maps:
        st.dataframe(map_rows(pair.together), hide_index=True, width="stretch")
with against_col:
    st.subheader("Against each other")
    st.markdown(f"{plain(first)} against {plain(second)}: **{record_line(pair.against)}**")
    if pair.against.maps:
        st.dataframe(map_rows(pair.against), hide_index=True, width="stretch")

try:
    mates = synergy_for(resources.sessions, ids[0], flt)
except AnalysisError as exc:
    st.info(plain(str(exc)), icon="📭")
    st.stop()
st.subheader(f"Who {plain(first)} wins more with")
baseline = "–" if mates.win_rate is None else f"{mates.win_rate:.0%}"
st.caption(
    f"{plain(first)} wins {baseline} of {mates.matches} matches. A teammate with at least "
    f"{mates.min_matches} matches together (and as many without) is tested; a verdict only "
    "when the difference is "
    f"bigger than its noise ({mates.tested} tested, intervals at {mates.confidence:.1%})."
)
verdicts = [t.verdict for t in mates.teammates if t.verdict]
if verdicts:
    st.markdown("\n".join(f"- {plain(v)}" for v in verdicts))
else:
    st.markdown("No teammate changes the win rate by more than its noise.")
if mates.teammates:
    st.dataframe(
        [
            {
                "Teammate": t.nickname,
                "Matches together": t.matches,
                "Win rate together": f"{t.win_rate:.0%}",
                "Win rate without": "–" if t.other_win_rate is None else f"{t.other_win_rate:.0%}",
                "Verdict": "too few matches"
                if t.interval_low is None
                else ("yes" if t.verdict else "within noise"),
            }
            for t in mates.teammates
        ],
        hide_index=True,
        width="stretch",
    )
