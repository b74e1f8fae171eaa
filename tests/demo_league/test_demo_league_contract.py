"""Every endpoint answers with the same keys and value types as the real API references."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from demo_league_helpers import assert_same_shape, client, reference

from core.demo_league import League
from core.faceit import LEGACY_PLAYER_STAT_KEYS

# keys present in a reference but optional by nature (a substitute bench)
OPTIONAL = frozenset({"substitutes"})
# keys the real API sometimes leaves out, and so does the league: the reference's own UK location
# has no game_location_id; a match whose demo was never uploaded has no demo_url
SOMETIMES_MISSING = frozenset({"game_location_id", "demo_url"})


def _busy_player(league: League) -> int:
    return int(np.argmax(np.diff(league.pm_offsets)))


async def _get(league: League, url: str) -> Any:
    async with client(league) as c:
        r = await c.get(url)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("application/json")
    return r.json()


async def test_player_by_nickname_and_id(league: League) -> None:
    p = _busy_player(league)
    ref = reference("player.json")
    for url in (
        f"/data/v4/players?nickname={league.nicknames[p]}&game=cs2",
        f"/data/v4/players/{league.player_ids[p]}",
    ):
        got = await _get(league, url)
        assert got["player_id"] == league.player_ids[p]
        assert set(got["games"]) <= set(ref["games"])
        assert_same_shape(ref["games"]["cs2"], got["games"]["cs2"], "$.games.cs2")
        assert_same_shape(
            {k: v for k, v in ref.items() if k != "games"},
            {k: v for k, v in got.items() if k != "games"},
        )
        assert got["games"]["cs2"]["faceit_elo"] == int(league.elo[p])


async def test_player_stats(league: League) -> None:
    p = _busy_player(league)
    got = await _get(league, f"/data/v4/players/{league.player_ids[p]}/stats/cs2")
    assert_same_shape(reference("player_stats_cs2.json"), got)
    assert got["segments"], "a busy player has per-map segments"
    assert set(got["lifetime"]["Recent Results"]) <= {"0", "1"}
    life = got["lifetime"]
    n = int(life["Matches"])
    assert n == int(np.diff(league.pm_offsets)[p])
    assert int(life["Total Matches"]) <= n
    # lifetime K/D is a sum of per-match K/Ds, "Average K/D Ratio" the mean
    assert float(life["K/D Ratio"]) == pytest.approx(float(life["Average K/D Ratio"]) * n, abs=n)


async def test_history(league: League) -> None:
    p = _busy_player(league)
    got = await _get(league, f"/data/v4/players/{league.player_ids[p]}/history?game=cs2&limit=20")
    assert_same_shape(reference("player_history.json"), got)
    assert len(got["items"]) == 20
    assert got["start"] == 0 and got["end"] == 20
    item = got["items"][0]
    assert item["results"]["winner"] in ("faction1", "faction2")
    assert league.player_ids[p] in item["playing_players"]


async def test_games_stats(league: League) -> None:
    p = _busy_player(league)
    got = await _get(league, f"/data/v4/players/{league.player_ids[p]}/games/cs2/stats?limit=20")
    assert_same_shape(reference("player_games_cs2_stats.json"), got)
    row = got["items"][0]["stats"]
    assert row["Player Id"] == league.player_ids[p]
    assert row["Match Finished At"] % 1000 == 0 and row["Match Finished At"] > 10**12


async def test_match_and_match_stats(league: League) -> None:
    m = league.n_matches - 1
    assert league.extended[m]
    mid = league.match_ids[m]
    got = await _get(league, f"/data/v4/matches/{mid}")
    assert_same_shape(reference("match.json"), got, optional=OPTIONAL | SOMETIMES_MISSING)
    stats = await _get(league, f"/data/v4/matches/{mid}/stats")
    assert_same_shape(reference("match_stats.json"), stats)
    players = [p for t in stats["rounds"][0]["teams"] for p in t["players"]]
    assert len(players) == 10 and all(len(p["player_stats"]) == 47 for p in players)


async def test_legacy_match_has_only_basic_stats(league: League) -> None:
    legacy = np.flatnonzero(~league.extended)
    assert legacy.size, "the fixture's span reaches before the extended-stats cutoff"
    mid = league.match_ids[int(legacy[0])]
    stats = await _get(league, f"/data/v4/matches/{mid}/stats")
    ref = reference("match_stats.json")["rounds"][0]["teams"][0]["players"][0]["player_stats"]
    for team in stats["rounds"][0]["teams"]:
        for player in team["players"]:
            ps = player["player_stats"]
            assert set(ps) < set(ref)
            # the classic scoreboard only: damage, ADR and double kills are extended stats too
            # (the reference lifetime "ADR" is "Total Damage" / "Total Rounds with extended stats")
            assert set(ps) == LEGACY_PLAYER_STAT_KEYS
            assert "ADR" not in ps and "Damage" not in ps and "Entry Count" not in ps


async def test_legacy_games_stats_rows_leave_out_damage(league: League) -> None:
    """A legacy row of /games/cs2/stats is the reference row minus ADR, Damage, Double Kills."""
    p = _busy_player(league)
    url = f"/data/v4/players/{league.player_ids[p]}/games/cs2/stats?limit=100"
    oldest = int(np.diff(league.pm_offsets)[p]) - 100
    rows = [
        item["stats"]
        for offset in (0, oldest)
        for item in (await _get(league, f"{url}&offset={offset}"))["items"]
    ]
    ref = reference("player_games_cs2_stats.json")["items"][0]["stats"]
    legacy = set(np.asarray(league.match_ids)[~league.extended])
    old = [r for r in rows if r["Match Id"] in legacy]
    new = [r for r in rows if r["Match Id"] not in legacy]
    assert old and new, "the busy player's newest and oldest matches straddle the cutoff"
    for row in new:
        assert set(row) == set(ref)
    for row in old:
        assert set(ref) - set(row) == {"ADR", "Damage", "Double Kills"}


async def test_search_players(league: League) -> None:
    nick = league.nicknames[3]
    got = await _get(league, f"/data/v4/search/players?nickname={nick[:2]}&limit=20")
    assert_same_shape(reference("search_players.json"), got)
    assert got["items"]
    assert all(i["nickname"].lower().startswith(nick[:2].lower()) for i in got["items"])
    exact = await _get(league, f"/data/v4/search/players?nickname={nick}")
    assert exact["items"][0]["nickname"] == nick
    assert exact["items"][0]["games"][0]["skill_level"].isdigit()


async def test_404_body_is_the_reference(league: League) -> None:
    ref = reference("error_404.json")
    async with client(league) as c:
        for url in (
            "/data/v4/players/00000000-0000-4000-8000-000000000000",
            "/data/v4/players?nickname=no-such-player-anywhere",
            f"/data/v4/players?nickname={league.nicknames[0].swapcase()}",
            "/data/v4/matches/1-00000000-0000-4000-8000-000000000000",
            "/data/v4/matches/1-00000000-0000-4000-8000-000000000000/stats",
            f"/data/v4/players/{league.player_ids[0]}/stats/csgo",
            "/data/v4/no/such/route",
        ):
            r = await c.get(url)
            assert r.status_code == 404, url
            assert r.json() == ref, url
