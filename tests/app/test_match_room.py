"""The match room page: a live match's lineups, the prediction per map, then the result."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from streamlit.testing.v1 import AppTest

from core.cs2 import MAP_POOL
from core.db.schema import LiveMatch
from core.resources import Resources
from core.settings import get_settings
from core.sources import demo_league
from tests.app.conftest import APP


def add_live_match(status: str, **result: Any) -> str:
    league = demo_league(get_settings())
    frame = league.players_frame()
    ids, nicks = list(frame["player_id"][:10]), list(frame["nickname"][:10])
    per_map = {m: round(0.3 + 0.05 * i, 2) for i, m in enumerate(MAP_POOL)}
    match_id = f"1-room-{status}"
    now = datetime.now(UTC)
    with Resources.open(get_settings()) as resources, resources.sessions.begin() as session:
        session.add(
            LiveMatch(
                match_id=match_id,
                status=status,
                teams={
                    f"faction{f + 1}": {
                        "name": f"team_{nicks[f * 5]}",
                        "players": [
                            {"player_id": ids[i], "nickname": nicks[i], "skill_level": 7}
                            for i in range(f * 5, f * 5 + 5)
                        ],
                    }
                    for f in (0, 1)
                },
                prediction={
                    "model_version": 1,
                    "per_map": per_map,
                    "veto": {"pick": MAP_POOL[-1], "bans": list(MAP_POOL[:2])},
                    "pick": MAP_POOL[-1],
                    "p_pick": per_map[MAP_POOL[-1]],
                },
                predicted_at=now - timedelta(minutes=3),
                started_at=now - timedelta(minutes=2) if status != "created" else None,
                **result,
            )
        )
    return match_id


def open_room(match_id: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    at.query_params["match"] = match_id
    at.switch_page("views/match_room.py").run()
    assert not at.exception, at.exception
    return at


def test_before_the_start_the_room_shows_both_lineups_and_the_prediction(
    seeded: dict[str, Any],
) -> None:
    match_id = add_live_match("created")
    at = open_room(match_id)
    tables = [t.value for t in at.dataframe]
    lineups = [t for t in tables if "Player" in t.columns]
    assert len(lineups) == 2 and all(len(t) == 5 for t in lineups)
    assert seeded["nickname"] in set(lineups[0]["Player"]) | set(lineups[1]["Player"])
    per_map = next(t for t in tables if "Map" in t.columns)
    assert len(per_map) == len(MAP_POOL)
    labels = {m.label for m in at.metric}
    assert "Veto advice: pick" in labels and "Winner" not in labels


def test_after_the_finish_the_result_stands_next_to_the_prediction(
    seeded: dict[str, Any],
) -> None:
    played = MAP_POOL[-1]  # predicted 0.3 + 0.05 * 6 = 60% for faction1, who lost
    match_id = add_live_match(
        "finished",
        finished_at=datetime.now(UTC),
        map=played,
        winner_faction="faction2",
        p_played=0.6,
        scored_at=datetime.now(UTC),
    )
    at = open_room(match_id)
    cards = {m.label: m for m in at.metric}
    assert cards["Winner"].value.startswith("team_")
    gave = next(m for label, m in cards.items() if label.startswith("We gave"))
    assert gave.value == "60%" and gave.delta == "missed"


def test_an_unknown_match_id_gets_a_clear_message(app_settings: object) -> None:
    at = open_room("1-nobody-told-us")
    assert "has not told us about the match" in at.warning[0].value
