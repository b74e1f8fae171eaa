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


def test_a_newly_followed_player_plays_at_once_not_after_the_interval(league: League) -> None:
    """The embedded clock asks who is followed on every tick: a player followed now gets the
    next free slot at once (the hour-long interval is not waited for), once; unfollowed and
    followed again, they are owed a game again. The start-up hold (models training) stands."""
    followed: list[str] = []
    start = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)

    async def accept(event: dict[str, Any]) -> bool:
        return True

    games = LiveGames(league)
    clock = LiveClock(
        games,
        accept,
        every=3600,
        stage_seconds=10,
        seed=4,
        first_at=start,
        favourites=lambda: list(followed),
    )

    def playing(player_id: str) -> list[str]:
        index = league.player_index[player_id]
        return [g.match_id for g in games.all() if index in g.players]

    fan_of = league.player_ids[len(league.player_ids) // 2]
    followed.append(fan_of)
    clock.due(start + timedelta(seconds=30))
    assert games.all() == []  # held: the models are still training for one interval
    clock.due(start + timedelta(seconds=3600))
    (first,) = games.all()
    assert playing(fan_of) == [first.match_id]
    busy_in_first = set(first.players)
    clock.due(start + timedelta(seconds=3650))  # first game finished; nobody is owed a game
    assert len(games.all()) == 1
    newcomer = next(p for p in league.player_ids if league.player_index[p] not in busy_in_first)
    followed.insert(0, newcomer)  # a newcomer follows someone an hour before the next game
    clock.due(start + timedelta(seconds=3660))
    assert len(playing(newcomer)) == 1 and len(games.all()) == 2
    clock.due(start + timedelta(seconds=3700))
    assert len(playing(newcomer)) == 1 and len(games.all()) == 2  # once, not on every tick
    followed.remove(newcomer)
    clock.due(start + timedelta(seconds=3710))
    followed.insert(0, newcomer)
    clock.due(start + timedelta(seconds=3720))
    assert len(playing(newcomer)) == 2


def test_the_clock_plays_on_when_the_followed_players_cannot_be_read(league: League) -> None:
    async def accept(event: dict[str, Any]) -> bool:
        return True

    def down() -> list[str]:
        raise ConnectionError("database down")

    games = LiveGames(league)
    clock = LiveClock(games, accept, every=60, stage_seconds=10, seed=5, favourites=down)
    start = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
    assert [e["event"] for e in clock.due(start)] == ["match_object_created"]
    clock.due(start + timedelta(seconds=60))
    assert len(games.all()) == 2


def test_no_match_is_scheduled_while_the_models_train(league: League) -> None:
    """`faceit-ai run` trains on the first start: a match scheduled then would get no
    prediction, so the clock waits for the training (a followed player's match too)."""

    async def accept(event: dict[str, Any]) -> bool:
        return True

    trained = False
    games = LiveGames(league)
    clock = LiveClock(
        games,
        accept,
        every=60,
        stage_seconds=10,
        seed=6,
        favourites=lambda: [league.player_ids[0]],
        ready=lambda: trained,
    )
    start = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
    for seconds in (0, 60, 120):
        assert clock.due(start + timedelta(seconds=seconds)) == []
    trained = True
    (created,) = clock.due(start + timedelta(seconds=121))
    (game,) = games.all()
    assert created["event"] == "match_object_created"
    assert league.player_index[league.player_ids[0]] in game.players
