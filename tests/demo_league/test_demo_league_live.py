"""The demo league plays live: the clock's games and webhook events keep FACEIT's shapes."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from core.demo_league import League, create_app
from core.demo_league.live import LiveClock, LiveGames
from core.faceit import MatchDetails, MatchStats
from core.faceit.webhooks import WebhookEvent

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "faceit"


def keys(body: dict[str, Any]) -> set[str]:
    return set(body)


async def test_a_live_game_moves_from_created_to_finished_with_the_api_answering_as_faceit(
    league: League,
) -> None:
    games = LiveGames(league)
    sent: list[dict[str, Any]] = []

    async def collect(event: dict[str, Any]) -> bool:
        sent.append(event)
        return True

    clock = LiveClock(games, collect, every=3600, stage_seconds=10, seed=1)
    start = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
    app = create_app(league, live=games)
    reference = json.loads((FIXTURES / "match.json").read_text())
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app),
        base_url="http://demo/data/v4",
        headers={"Authorization": "Bearer demo-league"},
    ) as api:
        await clock.tick(start)
        (game,) = games.all()
        live = (await api.get(f"/matches/{game.match_id}")).json()
        assert live["status"] == "CREATED" and "results" not in live
        assert keys(live) >= keys(reference) - {"results"}
        assert (await api.get(f"/matches/{game.match_id}/stats")).status_code == 404
        await clock.tick(start + timedelta(seconds=35))  # configuring, ready, finished at once
        details = MatchDetails.model_validate((await api.get(f"/matches/{game.match_id}")).json())
        stats_body = (await api.get(f"/matches/{game.match_id}/stats")).json()
    events = [WebhookEvent.model_validate(e) for e in sent]
    assert [e.event for e in events] == [
        "match_object_created",
        "match_status_configuring",
        "match_status_ready",
        "match_status_finished",
    ]
    assert len({e.event_id for e in events}) == 4
    lineups = events[0].payload.lineups()
    assert [len(t.roster) for t in lineups.values()] == [5, 5]
    ids = [p.player_id for t in lineups.values() for p in t.roster]
    assert len(set(ids)) == 10 and all(p in league.player_index for p in ids)
    assert events[-1].payload.finished_at is not None
    # the finished match: result, map and scoreboard agree with one another
    stats = MatchStats.model_validate(stats_body)
    assert details.is_finished and details.map == game.map
    assert details.winner == f"faction{game.winner + 1}"
    played = stats.rounds[0]
    by_team = {t.team_id: t for t in played.teams}
    winner = by_team[details.teams[details.winner].faction_id]
    loser = next(t for t in played.teams if t is not winner)
    score = details.score
    assert score[details.winner] > score["faction1" if details.winner == "faction2" else "faction2"]
    assert sum(p.stats.kills for p in winner.players) == sum(p.stats.deaths for p in loser.players)
    assert {p.player_id for t in played.teams for p in t.players} == set(ids)
