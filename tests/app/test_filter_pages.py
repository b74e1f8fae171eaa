"""The match filter on the stats pages (AppTest): the page reads it from its URL, shows the
numbers the services compute under the same filter, names a refused URL value and ignores it,
and says so in words when no match is left."""

from __future__ import annotations

from typing import Any

import pytest
from streamlit.testing.v1 import AppTest

from app import present
from app.resources import get_resources
from models.dashboard import compare_players, player_overview
from models.filters import MatchFilter
from tests.app.conftest import APP, shown

PAGES = ["views/player.py", "views/matches.py", "views/maps.py", "views/compare.py"]


def open_page(page: str, player_id: str, query: dict[str, Any]) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    at.session_state["player_id"] = player_id
    at.run()
    at.switch_page(page)
    for name, value in query.items():
        at.query_params[name] = value
    at.run()
    return at


def texts(at: AppTest) -> str:
    parts = [
        e.value for kind in ("caption", "info", "warning", "markdown") for e in getattr(at, kind)
    ]
    return "\n".join(str(p) for p in parts)


def most_played_map(player_id: str) -> str:
    resources = get_resources()
    maps = player_overview(resources.sessions, resources.cache, player_id).maps
    return str(maps.row(0, named=True)["map"])


def test_the_overview_shows_the_services_filtered_numbers(seeded: dict[str, Any]) -> None:
    pid = seeded["player_id"]
    chosen = most_played_map(pid)
    at = open_page("views/player.py", pid, {"map": chosen, "result": "win"})
    assert not at.exception, at.exception
    resources = get_resources()
    flt = MatchFilter(map=[chosen], result="win")
    summary = player_overview(resources.sessions, resources.cache, pid, flt).summary
    cards = {m.label: m.value for m in at.metric}
    assert cards["Matches"] == f"{summary['matches_lifetime']:,}"
    assert cards["K/D"] == present.stat_value("kd", summary["kd_lifetime"])
    assert cards["Win rate"] == "100%"
    every = player_overview(resources.sessions, resources.cache, pid).summary
    assert summary["matches_lifetime"] < every["matches_lifetime"]
    assert f"Filtered: {present.map_label(chosen)} · wins." in shown(texts(at))
    # the kept wins are not one run of wins: the streak cards are the whole history's runs
    assert cards["Current streak"] == present.streak(every["current_streak"])
    assert cards["Longest win streak"] == present.streak(every["longest_win_streak"])
    assert summary["current_streak"] == every["current_streak"]
    assert "every match, whatever the filters" in shown(texts(at))


def test_a_change_that_shows_as_zero_has_no_arrow(seeded: dict[str, Any]) -> None:
    # losses only: 0% over every kept match and over the last 10, so "±0 pts", no green arrow
    from streamlit.proto.Metric_pb2 import Metric

    at = open_page("views/player.py", seeded["player_id"], {"result": "loss"})
    assert not at.exception, at.exception
    (win_rate,) = [m for m in at.metric if m.label == "Win rate"]
    assert win_rate.value == "0%"
    assert win_rate.proto.delta == "±0 pts last 10"
    assert win_rate.proto.direction == Metric.MetricDirection.NONE
    assert win_rate.proto.color == Metric.MetricColor.GRAY
    # a real change keeps its arrow (K/D moves over the last 10 of the kept losses)
    (kd,) = [m for m in at.metric if m.label == "K/D"]
    assert kd.proto.delta[0] in "+-" and kd.proto.direction != Metric.MetricDirection.NONE


def test_refused_url_values_are_named_and_ignored(seeded: dict[str, Any]) -> None:
    pid = seeded["player_id"]
    hostile = {
        "hour_from": "99",
        "map": "<script>alert(1)</script>",
        "since": "2025-05-01",
        "until": "2025-01-01",
        "weekday": "'; DROP TABLE matches;--",
    }
    at = open_page("views/player.py", pid, hostile)
    assert not at.exception, at.exception
    raw = "\n".join(w.value for w in at.warning)
    assert "<script>" not in raw  # escaped: shown as text, never as HTML
    warnings = "\n".join(shown(w.value) for w in at.warning)
    assert "From hour “99” is not an hour from 0 to 23: it is ignored." in warnings
    assert "Map “<script>alert(1)</script>” is not a map of CS2" in warnings
    assert "ends (2025-01-01) before it starts (2025-05-01): both are ignored." in warnings
    assert "Weekday “'; DROP TABLE matches;--” is not one of mon, tue" in warnings
    resources = get_resources()
    every = player_overview(resources.sessions, resources.cache, pid).summary
    cards = {m.label: m.value for m in at.metric}
    assert cards["Matches"] == f"{every['matches_lifetime']:,}"  # nothing filtered
    assert not at.query_params.get("hour_from") and not at.query_params.get("map")


@pytest.mark.parametrize("page", PAGES[:3])
def test_a_filter_that_keeps_nothing_says_so(seeded: dict[str, Any], page: str) -> None:
    at = open_page(page, seeded["player_id"], {"since": "2099-01-01"})
    assert not at.exception, at.exception
    assert any("No matches with these filters" in i.value for i in at.info), texts(at)


def test_compare_filters_every_player(seeded: dict[str, Any]) -> None:
    pid = seeded["player_id"]
    at = open_page("views/compare.py", pid, {"result": "loss"})
    others = [o for o in at.multiselect[0].options if o != at.multiselect[0].value[0]]
    at.multiselect[0].set_value([*at.multiselect[0].value, others[0]]).run()
    assert not at.exception, at.exception
    table = at.dataframe[0].value
    resources = get_resources()
    from core import crud

    with resources.sessions() as session:
        ids = [crud.find_player(session, name).id for name in table["Player"]]  # type: ignore[union-attr]
    expected = compare_players(resources.sessions, resources.cache, ids, MatchFilter(result="loss"))
    assert list(table["Matches"]) == list(expected["Matches"])
    assert list(table["Win rate"]) == ["0%"] * len(ids)
    assert "Filtered: losses." in shown(texts(at))
