"""Every page renders for a seeded player (AppTest), without tracebacks."""

from __future__ import annotations

from typing import Any

import pytest
from streamlit.testing.v1 import AppTest

from core.settings import get_settings
from tests.app.conftest import APP, reset_app_state, shown
from tests.utils.ports import free_port
from tests.utils.redis_server import start_redis, stop_redis

PAGES = ["views/player.py", "views/matches.py", "views/maps.py", "views/compare.py"]


def open_page(page: str, player_id: str | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    if player_id:
        at.session_state["player_id"] = player_id
    at.run()
    at.switch_page(page).run()
    return at


def metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


@pytest.mark.parametrize("page", PAGES)
def test_every_page_renders_for_a_seeded_player(seeded: dict[str, Any], page: str) -> None:
    at = open_page(page, seeded["player_id"])
    assert not at.exception, at.exception
    assert not at.error


def test_overview_shows_the_players_numbers(seeded: dict[str, Any]) -> None:
    at = open_page("views/player.py", seeded["player_id"])
    assert shown(at.title[0].value) == seeded["nickname"]
    cards = metrics(at)
    assert cards["Matches"] == f"{seeded['matches']:,}"
    assert str(seeded["faceit_elo"]) in at.markdown[0].value


def test_pages_without_a_player_point_to_home(app_settings: object) -> None:
    at = open_page("views/player.py")
    assert not at.exception
    assert "Search a player on the Home page first" in at.info[0].value


def test_unknown_nickname_gets_a_clear_message(seeded: dict[str, Any]) -> None:
    at = AppTest.from_file(APP, default_timeout=60).run()
    at.text_input[0].input("NoSuchPlayer_zz")
    at.button[0].click().run()
    assert not at.exception
    assert "No FACEIT player is called 'NoSuchPlayer_zz'" in at.error[0].value


@pytest.mark.parametrize("nickname", ["<script>alert(1)</script>", "'; DROP TABLE players;--"])
def test_html_and_sql_in_the_search_box_are_refused(seeded: dict[str, Any], nickname: str) -> None:
    at = AppTest.from_file(APP, default_timeout=60).run()
    at.text_input[0].input(nickname)
    at.button[0].click().run()
    assert not at.exception
    assert at.error and "nickname" in at.error[0].value.lower()


def test_a_new_nickname_is_fetched_on_demand(app_settings: object) -> None:
    from core.sources import demo_league

    player = demo_league(get_settings()).players_frame().row(5, named=True)
    at = AppTest.from_file(APP, default_timeout=60).run()
    at.text_input[0].input(player["nickname"])
    at.button[0].click().run()
    assert not at.exception, at.exception
    assert shown(at.title[0].value) == player["nickname"]
    assert metrics(at)["Matches"] == f"{player['matches']:,}"


def test_pages_keep_correct_numbers_when_redis_stops(
    seeded: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    port = free_port()
    server = start_redis(port)
    try:
        monkeypatch.setenv("REDIS_URL", f"redis://127.0.0.1:{port}/0")
        reset_app_state()
        with_redis = metrics(open_page("views/player.py", seeded["player_id"]))
        stop_redis(server)
        without_redis = open_page("views/player.py", seeded["player_id"])
        assert not without_redis.exception
        assert metrics(without_redis) == with_redis
    finally:
        stop_redis(server)
