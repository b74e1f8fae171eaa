"""A FACEIT client written by someone else (PyPI `faceit`, typed models) parses the league."""

from __future__ import annotations

import uuid

import httpx
import pytest
from faceit import AsyncDataResource
from faceit.http import AsyncClient

from core.demo_league import create_app, generate_league

KEY = str(uuid.UUID(int=7))  # that client only accepts UUID-shaped keys


@pytest.fixture(scope="module")
def league():  # type: ignore[no-untyped-def]
    return generate_league(30, 300, seed=3)


async def test_third_party_client_parses_every_endpoint_it_models(league) -> None:  # type: ignore[no-untyped-def]
    app = create_app(league, api_keys={KEY})
    transport = httpx.ASGITransport(app=app)
    client = AsyncClient(KEY, base_url="https://demo.invalid/data/v4", transport=transport)
    player = league.players_frame().row(0, named=True)
    async with AsyncDataResource(client=client) as data:
        profile = await data.players.get(player["nickname"])
        assert profile.nickname == player["nickname"]
        assert str(profile.id) == player["player_id"]

        stats = await data.players.stats(player["player_id"], "cs2")
        assert type(stats).__name__.startswith("PlayerStats")

        history = await data.players.all_history(player["player_id"], "cs2")
        assert len(history) == player["matches"]
        assert len({str(m.id) for m in history}) == player["matches"]

        per_match = await data.players.matches_stats(player["player_id"], "cs2")
        assert per_match.items and all(row.kd_ratio >= 0 for row in per_match.items)

        match_id = str(history[0].id)
        match = await data.raw_matches.get(match_id)
        assert match["match_id"] == match_id
        scoreboard = await data.raw_matches.stats(match_id)
        assert len(scoreboard["rounds"][0]["teams"]) == 2
