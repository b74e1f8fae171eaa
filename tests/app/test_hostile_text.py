"""Hostile text in the app: markdown and HTML inside FACEIT data (a nickname, a team name) is shown
as text, never rendered (issue 16 item 9: a team name embedded a markdown image every viewer's
browser fetched); control characters typed into any text input get a clear message."""

from __future__ import annotations

from typing import Any

import pytest
from markdown_it import MarkdownIt
from sqlalchemy import text
from streamlit.testing.v1 import AppTest

from core.db.engine import make_engine
from core.settings import get_settings
from tests.app.conftest import APP
from tests.app.test_pages import open_page

IMAGE = "![pwned](https://attacker.invalid/pixel.png)"
HOSTILE_NICKNAME = "<img src=x onerror=alert(1)>**big**_x_"
HOSTILE_TEAM = f"team {IMAGE} [click](https://attacker.invalid/) :red[alarm] <b>bold</b>"


def _rendered(at: AppTest) -> list[tuple[str, str]]:
    """(markdown source, the HTML CommonMark makes of it) of every markdown-bearing element."""
    parser = MarkdownIt("commonmark")
    elements = [*at.title, *at.subheader, *at.markdown, *at.caption, *at.info, *at.error]
    return [(e.value, parser.render(e.value)) for e in elements]


@pytest.fixture
def hostile(seeded: dict[str, Any]) -> dict[str, Any]:
    """The seeded player renamed, and every team name of their matches replaced, with markup."""
    engine = make_engine(get_settings().effective_database_url)
    with engine.begin() as conn:
        conn.execute(
            text("UPDATE players SET nickname = :n WHERE id = :id"),
            {"n": HOSTILE_NICKNAME, "id": seeded["player_id"]},
        )
        conn.execute(text("UPDATE match_players SET team_name = :t"), {"t": HOSTILE_TEAM})
    engine.dispose()
    return seeded


@pytest.mark.parametrize("page", ["views/player.py", "views/matches.py", "views/maps.py"])
def test_markup_in_faceit_data_is_shown_as_text(hostile: dict[str, Any], page: str) -> None:
    at = open_page(page, hostile["player_id"])
    assert not at.exception, at.exception
    rendered = _rendered(at)
    html = "\n".join(out for _, out in rendered)
    assert "<img" not in html and "<a " not in html and "<strong>big" not in html
    assert "<b>" not in html
    assert not [src for src, _ in rendered if ":red[" in src]  # Streamlit's colour directive
    # what a person reads is the nickname itself, characters and all
    assert "&lt;img src=x onerror=alert(1)&gt;**big**_x_" in html
    if page == "views/matches.py":
        assert "team ![pwned](https://attacker.invalid/pixel.png)" in html


def _account_tab(at: AppTest) -> AppTest:
    at.switch_page("views/account.py").run()
    return at


@pytest.mark.parametrize("typed", ["demo\x00user", "demo\x1b[31muser"])
def test_control_characters_in_the_login_form_get_a_clear_message(
    app_settings: object, typed: str
) -> None:
    at = _account_tab(AppTest.from_file(APP, default_timeout=60).run())
    next(t for t in at.text_input if t.label == "Username").input(typed)
    next(t for t in at.text_input if t.label == "Password").input("Whatever-123")
    next(b for b in at.button if b.label == "Log in").click().run()
    assert not at.exception, at.exception
    errors = [e.value for e in at.error]
    assert any("Username must not contain control characters" in e for e in errors), errors


def test_control_characters_in_the_search_box_get_a_clear_message(app_settings: object) -> None:
    at = AppTest.from_file(APP, default_timeout=60).run()
    at.text_input[0].input("s1mple\x00")
    at.button[0].click().run()
    assert not at.exception, at.exception
    assert "FACEIT nickname must not contain control characters (found NUL" in at.error[0].value
