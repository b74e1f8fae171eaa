"""POST /api/analysis/analyze (premium)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from apitest_helpers import assert_problem, bearer, build_app, client, login, seed

from core.db.engine import make_engine


async def test_analyze_lineups(http, tokens, seeded) -> None:
    body = {"lineup_a": seeded.nicknames[:5], "lineup_b": seeded.nicknames[5:10]}
    response = await http.post(
        "/api/analysis/analyze", json=body, headers=bearer(tokens["premium"]["access_token"])
    )
    assert response.status_code == 200, response.text
    result = response.json()
    assert result["lineup_a"] == body["lineup_a"] and result["lineup_b"] == body["lineup_b"]
    assert 0 < result["probability"] < 1 and 0 < result["elo_probability"] < 1
    assert result["map"] == result["veto"]["pick"]
    assert result["map"] in result["per_map"]
    assert all(isinstance(s, str) for s in result["factors"])
    assert result["model_version"] >= 1


async def test_analyze_on_a_map_and_a_stored_match(http, tokens, seeded) -> None:
    headers = bearer(tokens["subscriber"]["access_token"])
    on_map = await http.post(
        "/api/analysis/analyze",
        json={
            "lineup_a": seeded.nicknames[:2],
            "lineup_b": seeded.nicknames[2:4],
            "map": "de_nuke",
        },
        headers=headers,
    )
    assert on_map.status_code == 200, on_map.text
    assert on_map.json()["map"] == "de_nuke"
    match = await http.post(
        "/api/analysis/analyze", json={"match_id": seeded.match_ids[-1]}, headers=headers
    )
    assert match.status_code == 200, match.text
    assert match.json()["actual_winner"] in {"faction1", "faction2"}


async def test_analyze_needs_premium_and_a_token(http, tokens, seeded) -> None:
    body = {"lineup_a": seeded.nicknames[:1], "lineup_b": seeded.nicknames[1:2]}
    assert_problem(await http.post("/api/analysis/analyze", json=body), 401)
    refused = await http.post(
        "/api/analysis/analyze", json=body, headers=bearer(tokens["free"]["access_token"])
    )
    assert_problem(refused, 403)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "body.lineup_a"),
        ({"lineup_a": ["a"]}, "body.lineup_b"),
        ({"lineup_a": ["a", "A"], "lineup_b": ["b"]}, "body.lineup_a"),
        ({"lineup_a": ["a"], "lineup_b": ["b"], "map": "de_atlantis"}, "body.map"),
        ({"match_id": ""}, "body.match_id"),
        ([1, 2], "body"),
        ({"lineup_a": ["a", "b", "c", "d", "e", "f"], "lineup_b": ["g"]}, "body.lineup_a"),
        ({"lineup_a": [], "lineup_b": ["g"]}, "body.lineup_a"),
        ({"lineup_a": ["a"], "lineup_b": [""]}, "body.lineup_b.0"),
        ({"lineup_a": "abc", "lineup_b": ["g"]}, "body.lineup_a"),
        ({"match_id": "x", "lineup_a": ["a"], "lineup_b": ["b"]}, "body.lineup_a"),
        ({"lineup_a": ["a"], "lineup_b": ["b"], "colour": "red"}, "body.colour"),
    ],
)
async def test_analyze_bad_body_is_422_naming_the_field(http, tokens, body, field) -> None:
    response = await http.post(
        "/api/analysis/analyze", json=body, headers=bearer(tokens["premium"]["access_token"])
    )
    problem = assert_problem(response, 422)
    assert field in [e["field"] for e in problem["errors"]], problem


async def test_analyze_unknown_players_and_match_are_404(http, tokens, seeded) -> None:
    headers = bearer(tokens["premium"]["access_token"])
    response = await http.post(
        "/api/analysis/analyze",
        json={"lineup_a": [seeded.nicknames[0], "ghost-one"], "lineup_b": ["ghost-two"]},
        headers=headers,
    )
    assert "ghost-one" in assert_problem(response, 404)["detail"]
    match = await http.post("/api/analysis/analyze", json={"match_id": "nope"}, headers=headers)
    assert "nope" in assert_problem(match, 404)["detail"]


async def test_analyze_impossible_requests_are_422(http, tokens, seeded) -> None:
    headers = bearer(tokens["premium"]["access_token"])
    same = seeded.nicknames[0]
    both = await http.post(
        "/api/analysis/analyze", json={"lineup_a": [same], "lineup_b": [same]}, headers=headers
    )
    assert "both teams" in assert_problem(both, 422)["detail"]


async def test_no_trained_model_is_503(tmp_path: Path, api_league) -> None:
    url = f"sqlite:///{tmp_path / 'untrained.db'}"
    engine = make_engine(url)
    try:
        untrained = seed("sqlite", url, engine, api_league, train=False)
        app = build_app(untrained, tmp_path)
        async with client(app) as http:
            pair = await login(http, untrained.users["premium"])
            response = await http.post(
                "/api/analysis/analyze",
                json={"lineup_a": untrained.nicknames[:1], "lineup_b": untrained.nicknames[1:2]},
                headers=bearer(pair["access_token"]),
            )
            problem = assert_problem(response, 503)
            assert "train" in problem["detail"]
    finally:
        engine.dispose()


async def test_same_question_is_computed_once_within_the_cache_time(
    http, tokens, seeded, monkeypatch
) -> None:
    """An identical analyze question is answered from the process cache (the premium check
    still runs every time); another order of the players or another map is another question."""
    from models import analysis

    calls: list[tuple] = []
    real = analysis.analyze_lineups

    def counting(sessions, models, lineup_a, lineup_b, map_name=None):
        calls.append((tuple(lineup_a), tuple(lineup_b), map_name))
        return real(sessions, models, lineup_a, lineup_b, map_name=map_name)

    monkeypatch.setattr(analysis, "analyze_lineups", counting)
    headers = bearer(tokens["premium"]["access_token"])
    body = {"lineup_a": seeded.nicknames[:2], "lineup_b": seeded.nicknames[2:4]}
    url = "/api/analysis/analyze"
    first = await http.post(url, json=body, headers=headers)
    assert first.status_code == 200, first.text
    answers = await asyncio.gather(*(http.post(url, json=body, headers=headers) for _ in range(5)))
    assert all(a.status_code == 200 and a.json() == first.json() for a in answers)
    assert answers[0].headers["content-type"] == "application/json"
    # at most one more: the very first answer may predate the model version being known
    assert 1 <= len(calls) <= 2
    computed = len(calls)
    for _ in range(3):
        again = await http.post(url, json=body, headers=headers)
        assert again.status_code == 200 and again.json() == first.json()
    assert len(calls) == computed
    swapped = {"lineup_a": body["lineup_a"][::-1], "lineup_b": body["lineup_b"]}
    reordered = await http.post(url, json=swapped, headers=headers)
    assert reordered.json()["lineup_a"] == swapped["lineup_a"]
    on_map = await http.post(url, json=dict(body, map="de_nuke"), headers=headers)
    assert on_map.json()["map"] == "de_nuke"
    assert len(calls) == computed + 2
    refused = await http.post(url, json=body, headers=bearer(tokens["free"]["access_token"]))
    assert_problem(refused, 403)  # cached, but not for a free account


async def test_unequal_lineups_are_refused_with_the_reason(http, tokens, seeded) -> None:
    body = {"lineup_a": seeded.nicknames[:1], "lineup_b": seeded.nicknames[5:10]}
    response = await http.post(
        "/api/analysis/analyze", json=body, headers=bearer(tokens["premium"]["access_token"])
    )
    assert_problem(response, 422)
    assert "same number of players" in response.json()["detail"]
    assert "1 against 5" in response.json()["detail"]


async def test_the_model_report_is_public_and_matches_the_champion(http, seeded) -> None:
    response = await http.get("/api/models/match-outcome")  # no token: the record is public
    assert response.status_code == 200, response.text
    report = response.json()
    assert report["version"] >= 1 and report["learner"] == "symmetric logistic regression"
    assert {"model", "xgboost", "elo"} <= set(report["metrics"])
    bins = report["reliability"]
    assert sum(b["n"] for b in bins) == report["metrics"]["model"]["n"]
    assert report["evaluation_window"]["start"] >= report["selection_window"]["end"]
    assert report["live"]["served"] >= report["live"]["finished"]
