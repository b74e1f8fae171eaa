"""GET /api/players/{nickname}/elo, /trends (free) and /tilt (premium), and the Elo change in
/matches: the same numbers as the profile and the match list, on SQLite and PostgreSQL."""

from __future__ import annotations

import itertools

import pytest
from apitest_helpers import assert_problem, bearer

from core.cs2 import elo_level

ROUTES = ["/elo", "/trends", "/tilt"]


async def get(http, tokens, path: str, role: str = "free", **params):  # type: ignore[no-untyped-def]
    response = await http.get(
        f"/api/players/{path}", params=params, headers=bearer(tokens[role]["access_token"])
    )
    assert response.status_code == 200, response.text
    return response.json()


async def test_elo_points_carry_the_change_of_each_match_and_the_level_band(
    http, tokens, seeded
) -> None:
    nickname = seeded.nicknames[0]
    body = await get(http, tokens, f"{nickname}/elo")
    profile = await get(http, tokens, nickname)
    points = body["points"]
    assert len(points) >= 2
    assert points[0]["change"] is None
    for before, after in itertools.pairwise(points):
        assert after["change"] == after["elo"] - before["elo"]
    # back-filled points are the older ones: estimated changes come before observed ones
    flags = [p["change_estimated"] for p in points[1:]]
    assert flags == sorted(flags, reverse=True)
    assert [p["estimated"] for p in points][-1] is False  # the newest Elo is observed
    assert all(p["change_estimated"] >= p["estimated"] for p in points)
    band = body["level"]
    elo = profile["player"]["faceit_elo"]
    assert band["elo"] == elo and band["level"] == int(elo_level(elo))
    assert band["level"] == profile["player"]["skill_level"]
    if band["to_next"] is not None:
        assert int(elo_level(elo + band["to_next"])) == band["level"] + 1
    # the match list names the same change for the same match
    page = await get(http, tokens, f"{nickname}/matches", limit=100)
    by_match = {p["match_id"]: p for p in points}
    for match in page["matches"]:
        point = by_match.get(match["match_id"])
        assert match["elo_change"] == (point["change"] if point else None)
        assert match["elo_estimated"] == bool(
            point and point["change"] is not None and point["change_estimated"]
        )
        if match["elo_change"]:
            assert (match["elo_change"] > 0) == match["result"], match


@pytest.mark.parametrize("window", [1, 10])
async def test_trends_latest_point_is_the_profiles_last_n_stats(
    http, tokens, seeded, window: int
) -> None:
    nickname = seeded.nicknames[2]
    body = await get(http, tokens, f"{nickname}/trends", window=window)
    profile = await get(http, tokens, nickname)
    assert body["window"] == window
    assert len(body["points"]) == profile["headline"]["matches"]
    latest = body["points"][-1]
    if window == 10:
        for stat in ("kd", "adr", "hs_pct", "kpr", "entry_success", "utility_dpr"):
            assert latest[stat] == pytest.approx(profile["features"][f"{stat}_last10"]), stat
    else:  # a window of one match is that match's own line
        last = (await get(http, tokens, f"{nickname}/matches", limit=1))["matches"][0]
        assert latest["match_id"] == last["match_id"]
        assert latest["kd"] == pytest.approx(last["kills"] / last["deaths"])


async def test_streaks_are_the_whole_historys_under_a_filter(http, tokens, seeded) -> None:
    """A losses-only view keeps the player's losses, which are not one run of losses: the
    profile's headline and /tilt show the same streaks as the unfiltered view, while the
    counts are the filter's."""
    nickname = seeded.nicknames[0]
    whole = await get(http, tokens, nickname)
    losses = await get(http, tokens, nickname, result="loss")
    tilt = await get(http, tokens, f"{nickname}/tilt", "premium", result="loss")
    assert 0 < losses["headline"]["matches"] < whole["headline"]["matches"]
    assert losses["headline"]["win_rate"] == 0
    for field in ("current_streak", "longest_win_streak"):
        assert losses["headline"][field] == whole["headline"][field]
        assert losses["features"][field] == whole["features"][field]
    assert whole["headline"]["longest_win_streak"] > 0
    assert tilt["streaks"]["current"] == whole["headline"]["current_streak"]
    assert tilt["streaks"]["longest_win"] == whole["headline"]["longest_win_streak"]
    for group in tilt["groups"]:
        assert group["matches"] + group["other_matches"] == losses["headline"]["matches"]


async def test_tilt_streaks_agree_with_the_profile(http, tokens, seeded) -> None:
    nickname = seeded.nicknames[0]
    body = await get(http, tokens, f"{nickname}/tilt", "premium", session_minutes=90)
    profile = await get(http, tokens, nickname)
    assert body["session_minutes"] == 90
    assert body["streaks"]["current"] == profile["headline"]["current_streak"]
    assert body["streaks"]["longest_win"] == profile["headline"]["longest_win_streak"]
    sessions = [g for g in body["groups"] if g["kind"] == "session"]
    assert sum(g["matches"] for g in sessions) == profile["headline"]["matches"]
    for group in body["groups"]:
        assert group["matches"] + group["other_matches"] == profile["headline"]["matches"]
        if group["verdict"]:
            assert group["label"] in group["verdict"]
            intervals = [group["win_rate_interval"], group["rating_interval"]]
            assert any(i and (i["low"] > 0 or i["high"] < 0) for i in intervals)


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("/trends", {"window": 0}),
        ("/trends", {"window": "1; DROP TABLE players"}),
        ("/tilt", {"session_minutes": 0}),
        ("/tilt", {"session_minutes": "\x00"}),
    ],
)
async def test_bad_parameters_are_refused(http, tokens, seeded, path: str, params) -> None:  # type: ignore[no-untyped-def]
    response = await http.get(
        f"/api/players/{seeded.nicknames[0]}{path}",
        params=params,
        headers=bearer(tokens["premium"]["access_token"]),
    )
    assert_problem(response, 422)


@pytest.mark.parametrize("path", ROUTES)
async def test_unknown_player_and_no_login(http, tokens, path: str) -> None:
    response = await http.get(
        f"/api/players/NoSuchPlayer_zz{path}", headers=bearer(tokens["premium"]["access_token"])
    )
    assert_problem(response, 404)
    assert_problem(await http.get(f"/api/players/NoSuchPlayer_zz{path}"), 401)


async def test_tilt_is_premium(http, tokens, seeded) -> None:  # type: ignore[no-untyped-def]
    """A free user gets the streaks in the profile's headline, and a 403 naming premium for the
    tilt analysis; an unknown player is not revealed to him either."""
    nickname = seeded.nicknames[0]
    free = bearer(tokens["free"]["access_token"])
    for who in (nickname, "NoSuchPlayer_zz"):
        body = assert_problem(await http.get(f"/api/players/{who}/tilt", headers=free), 403)
        assert "premium" in body["detail"].lower()
    profile = await get(http, tokens, nickname)
    tilt = await get(http, tokens, f"{nickname}/tilt", "premium")
    assert profile["headline"]["current_streak"] == tilt["streaks"]["current"]
