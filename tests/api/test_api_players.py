"""GET /api/players/{nickname}[/matches|/maps] (free) and the premium analyses of a player."""

from __future__ import annotations

from datetime import datetime

import pytest
from apitest_helpers import assert_problem, bearer
from sqlalchemy import func, select

from core.db.schema import MatchPlayer, Player

FREE_ROUTES = ["", "/matches", "/maps"]
PREMIUM_ROUTES = [
    "/playstyle",
    "/improvement",
    "/ratings",
    "/benchmarks",
    "/head-to-head/x",
    "/teammates",
    "/tilt",
]


async def test_profile(http, tokens, seeded) -> None:
    nickname = seeded.nicknames[0]
    response = await http.get(
        f"/api/players/{nickname}", headers=bearer(tokens["free"]["access_token"])
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["player"]["nickname"] == nickname
    assert body["headline"]["matches"] > 0
    assert 0 <= body["headline"]["win_rate"] <= 1
    assert "kd_last10" in body["features"] and "player_id" not in body["features"]
    # case-insensitive lookup of a unique nickname
    loose = await http.get(
        f"/api/players/{nickname.swapcase()}", headers=bearer(tokens["free"]["access_token"])
    )
    assert loose.status_code == 200 and loose.json()["player"]["nickname"] == nickname


async def test_matches_cursor_pagination_walks_every_match_once(http, tokens, seeded) -> None:
    nickname = seeded.nicknames[1]
    with seeded.sessions() as session:
        player_id = session.scalar(select(Player.id).where(Player.nickname == nickname))
        total = session.scalar(
            select(func.count()).select_from(MatchPlayer).where(MatchPlayer.player_id == player_id)
        )
    headers = bearer(tokens["free"]["access_token"])
    seen: list[str] = []
    before = None
    pages = 0
    while True:
        params = {"limit": 7} | ({"before": before} if before else {})
        response = await http.get(
            f"/api/players/{nickname}/matches", params=params, headers=headers
        )
        assert response.status_code == 200, response.text
        page = response.json()
        assert len(page["matches"]) <= 7
        stamps = [datetime.fromisoformat(m["finished_at"]) for m in page["matches"]]
        assert stamps == sorted(stamps, reverse=True)
        seen += [m["match_id"] for m in page["matches"]]
        pages += 1
        before = page["next_before"]
        if before is None:
            break
        assert datetime.fromisoformat(before) == stamps[-1]
    assert len(seen) == len(set(seen)) == total
    assert pages == -(-total // 7)


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"limit": 0}, "query.limit"),
        ({"limit": 101}, "query.limit"),
        ({"limit": "ten"}, "query.limit"),
        ({"before": "yesterday"}, "query.before"),
    ],
)
async def test_matches_bad_query_is_422(http, tokens, seeded, params, field) -> None:
    response = await http.get(
        f"/api/players/{seeded.nicknames[0]}/matches",
        params=params,
        headers=bearer(tokens["free"]["access_token"]),
    )
    problem = assert_problem(response, 422)
    assert [e["field"] for e in problem["errors"]] == [field]


async def test_maps(http, tokens, seeded) -> None:
    nickname = seeded.nicknames[2]
    response = await http.get(
        f"/api/players/{nickname}/maps", headers=bearer(tokens["free"]["access_token"])
    )
    assert response.status_code == 200, response.text
    maps = response.json()["maps"]
    assert maps and all(m["wins"] <= m["matches"] for m in maps)
    assert [m["matches"] for m in maps] == sorted((m["matches"] for m in maps), reverse=True)


@pytest.mark.parametrize("suffix", FREE_ROUTES + PREMIUM_ROUTES)
async def test_unknown_player_is_404(http, tokens, suffix) -> None:
    response = await http.get(
        f"/api/players/no-such-player{suffix}", headers=bearer(tokens["premium"]["access_token"])
    )
    problem = assert_problem(response, 404)
    assert "no-such-player" in problem["detail"]


@pytest.mark.parametrize("suffix", FREE_ROUTES + PREMIUM_ROUTES)
async def test_player_routes_need_a_token(http, seeded, suffix) -> None:
    response = await http.get(f"/api/players/{seeded.nicknames[0]}{suffix}")
    assert_problem(response, 401)


@pytest.mark.parametrize("suffix", PREMIUM_ROUTES)
async def test_premium_player_routes_refuse_free_users(http, tokens, seeded, suffix) -> None:
    response = await http.get(
        f"/api/players/{seeded.nicknames[0]}{suffix}",
        headers=bearer(tokens["free"]["access_token"]),
    )
    assert "premium" in assert_problem(response, 403)["detail"]


async def test_playstyle(http, tokens, seeded) -> None:
    nickname = seeded.nicknames[3]
    response = await http.get(
        f"/api/players/{nickname}/playstyle", headers=bearer(tokens["subscriber"]["access_token"])
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["nickname"] == nickname and body["role"]
    assert isinstance(body["similar"], list)


async def test_improvement(http, tokens, seeded) -> None:
    nickname = seeded.nicknames[4]
    response = await http.get(
        f"/api/players/{nickname}/improvement", headers=bearer(tokens["admin"]["access_token"])
    )
    assert response.status_code == 200, response.text
    assert response.json()["nickname"] == nickname


async def test_player_answer_cache_serves_stale_while_one_refresh_runs(
    seeded, tmp_path, monkeypatch
) -> None:
    """Within ``player_cache_seconds`` the cached bytes; then (expired by less than that) the
    previous answer at once while one background refresh runs; later, a foreground load. The
    cache's clock is the test's, and the refresh waits for the test's word, so what the test
    sees never depends on how fast the machine is."""
    import asyncio
    import threading

    from apitest_helpers import build_app, client, login, make_config

    from api import services

    real = services.profile
    calls: list[str] = []
    release = threading.Event()
    now = [1000.0]

    def counting(resources, nickname, flt):
        calls.append(nickname)
        if len(calls) == 2:  # the background refresh: held until the stale answers are read
            assert release.wait(30)
        answer = real(resources, nickname, flt)
        answer["features"]["call"] = len(calls)  # tells the answers apart
        return answer

    monkeypatch.setattr(services, "profile", counting)
    app = build_app(seeded, tmp_path, config=make_config(player_cache_seconds=0.5))
    app.state.player_cache = services.TTLCache(0.5, clock=lambda: now[0])
    async with client(app) as http:
        headers = bearer((await login(http, seeded.users["free"]))["access_token"])
        url = f"/api/players/{seeded.nicknames[0]}"

        async def call() -> int:
            response = await http.get(url, headers=headers)
            assert response.status_code == 200, response.text
            return response.json()["features"]["call"]

        assert [await call() for _ in range(3)] == [1, 1, 1] and len(calls) == 1
        now[0] += 0.6  # expired, by less than 0.5 s
        stale = await asyncio.gather(*(call() for _ in range(4)))
        assert stale == [1, 1, 1, 1]  # the previous answer, no request waited for the load
        release.set()
        for _ in range(500):  # the one refresh lands
            if not app.state.player_pending and not app.state.player_refreshes:
                break
            await asyncio.sleep(0.02)
        assert len(calls) == 2 and await call() == 2
        now[0] += 1.1  # expired for longer than 0.5 s: loaded in the foreground
        assert await call() == 3 and len(calls) == 3


async def test_ratings_are_the_services_and_premium_only(http, tokens, seeded) -> None:
    from models.ratings import ratings_for

    nickname = seeded.nicknames[2]
    with seeded.sessions() as session:
        player_id = session.scalar(select(Player.id).where(Player.nickname == nickname))
    free = await http.get(
        f"/api/players/{nickname}/ratings", headers=bearer(tokens["free"]["access_token"])
    )
    assert free.status_code == 403
    response = await http.get(
        f"/api/players/{nickname}/ratings", headers=bearer(tokens["subscriber"]["access_token"])
    )
    assert response.status_code == 200, response.text
    body = response.json()
    expected = ratings_for(seeded.sessions, player_id).model_dump(mode="json")
    assert body == expected
    assert [r["key"] for r in body["ratings"]] == [
        "aim",
        "utility",
        "opening",
        "clutching",
        "support",
    ]
    assert all(r["peers"] >= 5 for r in body["ratings"] if r["rating"] is not None)


async def test_head_to_head_and_teammates_are_the_services(http, tokens, seeded) -> None:
    from models.head_to_head import head_to_head_for, synergy_for

    nickname = seeded.nicknames[0]
    with seeded.sessions() as session:
        player_id = session.scalar(select(Player.id).where(Player.nickname == nickname))
    token = bearer(tokens["subscriber"]["access_token"])
    mates = await http.get(f"/api/players/{nickname}/teammates", headers=token)
    assert mates.status_code == 200, mates.text
    body = mates.json()
    assert body == synergy_for(seeded.sessions, player_id).model_dump(mode="json")
    assert body["teammates"], "a demo player has teammates"
    mate = body["teammates"][0]["nickname"]
    pair = await http.get(f"/api/players/{nickname}/head-to-head/{mate}", headers=token)
    assert pair.status_code == 200, pair.text
    record = pair.json()
    assert record == head_to_head_for(seeded.sessions, nickname, mate).model_dump(mode="json")
    # the teammate's matches together are the head-to-head's matches together
    assert record["together"]["matches"] == body["teammates"][0]["matches"]
    assert record["together"]["wins"] == body["teammates"][0]["wins"]
    same = await http.get(f"/api/players/{nickname}/head-to-head/{nickname}", headers=token)
    assert_problem(same, 422)


async def test_benchmarks_agree_with_the_plan_the_ratings_and_brute_force(
    http, tokens, seeded, monkeypatch
) -> None:
    """/benchmarks is the peer table's answer; /improvement and /ratings show the same group,
    counts and percentiles; every player's percentiles equal the brute-force ones to 1e-9
    (players with legacy matches included: the league has them)."""
    from models import peers
    from models.improvement import HEADLINE
    from tests.peers.conftest import brute_force

    monkeypatch.setattr(peers, "MIN_PEERS", 3)  # the 30-player league's groups are small
    token = bearer(tokens["subscriber"]["access_token"])
    free = await http.get(
        f"/api/players/{seeded.nicknames[0]}/benchmarks",
        headers=bearer(tokens["free"]["access_token"]),
    )
    assert free.status_code == 403
    brute = brute_force(seeded.sessions, 3)
    with seeded.sessions() as session:
        ids = dict(session.execute(select(Player.nickname, Player.id)).all())
    compared = 0
    for nickname in seeded.nicknames:
        response = await http.get(f"/api/players/{nickname}/benchmarks", headers=token)
        assert response.status_code == 200, response.text
        body = response.json()
        assert body == peers.peer_benchmarks(seeded.sessions, ids[nickname]).model_dump(mode="json")
        group, size, want = brute[ids[nickname]]
        assert (body["group"], body["peers"]) == (group, size)
        for stat, (pct, n) in want.items():
            got = body["stats"][stat]
            assert got["peers"] == n
            assert got["percentile"] == (None if pct is None else pytest.approx(pct, abs=1e-9))
        compared += group is not None
    assert compared >= 10
    nickname = seeded.nicknames[3]
    marks = (await http.get(f"/api/players/{nickname}/benchmarks", headers=token)).json()
    plan = (await http.get(f"/api/players/{nickname}/improvement", headers=token)).json()
    rated = (await http.get(f"/api/players/{nickname}/ratings", headers=token)).json()
    shown = plan["percentiles"]
    assert (shown["group"], shown["peers"]) == (marks["group"], marks["peers"])
    for stat in HEADLINE:
        assert shown["stats"][stat]["percentile"] == marks["stats"][stat]["percentile"]
        assert shown["stats"][stat]["peers"] == marks["stats"][stat]["peers"]
    assert (rated["group"], rated["peers"], rated["versus"]) == (
        marks["group"],
        marks["peers"],
        marks["versus"],
    )
    aim = {s["stat"]: s for s in rated["ratings"][0]["stats"]}
    assert aim["adr"]["peer_mean"] == marks["stats"]["adr"]["peer_mean"]
