"""The Overview's Elo per match, level band, stats over time, streaks and (premium) tilt, and
the Matches list's Elo column, read as a person reads them (AppTest), agree with the JSON API on
the same database."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
from streamlit.testing.v1 import AppTest

from api.main import create_app
from app import present
from core import auth
from core.resources import Resources
from core.settings import get_settings
from tests.app.conftest import APP

PASSWORD = "Elo-Per-Match-Check-7"


def open_page(page: str, player_id: str, user_id: int | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=90)
    at.session_state["player_id"] = player_id
    if user_id is not None:
        at.session_state["auth_user_id"] = user_id
    at.run()
    at.switch_page(page).run()
    assert not at.exception, at.exception
    return at


def user(role: str) -> int:
    """The id of a logged-in-able user with ``role`` ("free" or "premium")."""
    with Resources.open(get_settings()) as resources, resources.sessions() as session:
        found = auth.get_user(session, f"progress-{role}")
        if found is None:
            found = auth.register_user(
                session, f"progress-{role}", f"{role}@example.com", PASSWORD, role
            )
        return found.id


def api(nickname: str, *paths: str, role: str = "premium", status: int = 200) -> list[Any]:
    """GET each /api/players/{nickname}{path} as a logged-in ``role`` user."""
    settings = get_settings()
    user(role)
    with Resources.open(settings) as resources:

        async def fetch() -> list[dict[str, Any]]:
            app = create_app(resources)
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
                login = await http.post(
                    "/api/auth/login", json={"username": f"progress-{role}", "password": PASSWORD}
                )
                token = login.json()["access_token"]
                headers = {"Authorization": f"Bearer {token}"}
                out = []
                for path in paths:
                    response = await http.get(f"/api/players/{nickname}{path}", headers=headers)
                    assert response.status_code == status, response.text
                    out.append(response.json())
                return out

        return asyncio.run(fetch())


def test_overview_and_api_show_the_same_elo_level_streaks_and_tilt(
    seeded: dict[str, Any],
) -> None:
    at = open_page("views/player.py", seeded["player_id"], user("premium"))
    elo, tilt, trends = api(seeded["nickname"], "/elo", "/tilt", "/trends?window=20")
    cards = {m.label: m.value for m in at.metric}

    band = elo["level"]
    assert cards[f"Level {band['level']}"] == f"{band['low']:,}–{band['high']:,} Elo" or (
        band["high"] is None and cards[f"Level {band['level']}"] == f"{band['low']:,}+ Elo"
    )
    if band["to_next"] is not None:
        assert cards[f"To level {band['level'] + 1}"] == f"+{band['to_next']:,} Elo"
    if band["to_previous"] is not None:
        assert cards[f"Drop to level {band['level'] - 1}"] == f"-{band['to_previous']:,} Elo"
    assert band["elo"] == seeded["faceit_elo"]

    streaks = tilt["streaks"]
    assert cards["Current streak"] == present.streak(streaks["current"])
    assert cards["Longest win streak"] == present.streak(streaks["longest_win"])
    assert cards["Longest losing streak"] == present.streak(-streaks["longest_loss"])
    assert streaks["longest_win"] + streaks["longest_loss"] >= 1

    frames = [df.value for df in at.dataframe]
    groups = next(f for f in frames if "Matches played" in f.columns)
    assert list(groups["Matches played"]) == [g["label"] for g in tilt["groups"]]
    assert list(groups["Matches"]) == [g["matches"] for g in tilt["groups"]]
    assert list(groups["Win rate"]) == [
        present.stat_value("win_rate", g["win_rate"]) for g in tilt["groups"]
    ]
    assert list(groups["Beyond noise?"]) == [
        "yes" if g["verdict"] else "no" if g["win_rate_interval"] else "too few matches"
        for g in tilt["groups"]
    ]
    assert any(g["win_rate_interval"] is None for g in tilt["groups"])  # small groups untested
    said = " ".join(i.value for i in at.info)
    if not any(g["verdict"] for g in tilt["groups"]):
        tested = any(g["win_rate_interval"] for g in tilt["groups"])
        assert ("No tilt found" in said) == tested and ("Too few matches" in said) != tested
    losses = [g["matches"] for g in tilt["groups"] if g["kind"] == "losses"]
    sessions = [g["matches"] for g in tilt["groups"] if g["kind"] == "session"]
    assert sum(sessions) == seeded["matches"]  # every match has a place in a session
    assert sum(losses) <= seeded["matches"]

    # the last matches' Elo column is the API's change of the same match, with its sign
    last = next(f for f in frames if "Elo" in f.columns)
    matches = api(seeded["nickname"], f"/matches?limit={len(last)}")[0]["matches"]
    by_match = {p["match_id"]: p for p in elo["points"]}
    expected = [present.elo_change(m["elo_change"], m["elo_estimated"]) for m in matches]
    assert list(last["Elo"]) == expected
    for m in matches:
        point = by_match.get(m["match_id"])
        assert (point["change"] if point else None) == m["elo_change"]
    assert any(text.lstrip("~").startswith(("+", "-")) for text in expected)

    # stats over time: the slider's default window, the API's latest point is the profile's
    assert trends["window"] == 20 and trends["points"]
    assert len(trends["points"]) == seeded["matches"]


def test_matches_page_lists_the_elo_change_of_every_match(seeded: dict[str, Any]) -> None:
    at = open_page("views/matches.py", seeded["player_id"])
    history = at.dataframe[0].value
    matches = api(seeded["nickname"], f"/matches?limit={len(history)}")[0]["matches"]
    assert list(history["Elo"]) == [
        present.elo_change(m["elo_change"], m["elo_estimated"]) for m in matches
    ]


def test_tilt_is_premium_and_the_streaks_free(seeded: dict[str, Any]) -> None:
    """A free user (and a visitor) reads the streaks, the same as the premium tilt report's and
    the free profile's headline, and an upgrade (or login) prompt where the tilt table is; the
    API refuses /tilt to a free user."""
    (profile,) = api(seeded["nickname"], "", role="free")
    (refused,) = api(seeded["nickname"], "/tilt", role="free", status=403)
    (tilt,) = api(seeded["nickname"], "/tilt")
    assert refused["status"] == 403 and "premium" in refused["detail"].lower()
    assert profile["headline"]["current_streak"] == tilt["streaks"]["current"]
    for user_id, prompt in ((user("free"), "Upgrade to premium"), (None, "Log in to use")):
        at = open_page("views/player.py", seeded["player_id"], user_id)
        cards = {m.label: m.value for m in at.metric}
        assert cards["Current streak"] == present.streak(tilt["streaks"]["current"])
        assert cards["Longest losing streak"] == present.streak(-tilt["streaks"]["longest_loss"])
        assert not any("Matches played" in df.value.columns for df in at.dataframe)
        assert not at.number_input  # the session length belongs to the tilt analysis
        said = " ".join(e.value for e in [*at.info, *at.warning])
        assert prompt in said and "tilt analysis" in said, said
        assert "No tilt found" not in said and "Too few matches in each group" not in said
