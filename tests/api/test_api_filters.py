"""The match filter in the API (models.filters as query parameters of the free stats routes):
the same filter gives the same K/D, ADR, win rate and match count on each page's service
function (Overview, Matches, Maps, Compare) and in every API answer; a bad value is a 422
problem naming it, and changes nothing; OpenAPI documents the filter and an example answer
of every route of issue 18."""

from __future__ import annotations

from typing import Any

import pytest
from apitest_helpers import assert_problem, bearer

from api.main import create_app
from models import dashboard
from models.filters import FIELDS, MatchFilter

FILTERS = [
    {"weekday": ["mon", "tue", "wed", "thu", "sat"], "team": "solo"},
    {"result": "win", "hour_from": 10, "hour_to": 21, "since": "2020-01-01"},
]


def query_of(flt: MatchFilter) -> list[tuple[str, str]]:
    return [
        (name, value)
        for name, values in flt.query().items()
        for value in (values if isinstance(values, list) else [values])
    ]


@pytest.mark.parametrize("spec", FILTERS, ids=["weekdays-solo", "wins-hours"])
async def test_one_filter_gives_the_same_numbers_everywhere(
    http: Any, tokens: dict[str, Any], seeded: Any, app: Any, spec: dict[str, Any]
) -> None:
    resources = app.state.resources
    nickname = seeded.nicknames[0]
    headers = bearer(tokens["premium"]["access_token"])  # /tilt is premium
    profile = (await http.get(f"/api/players/{nickname}", headers=headers)).json()
    player_id = profile["player"]["id"]
    # the player's most played map joins the filter
    flt = MatchFilter.model_validate(
        {
            **spec,
            "map": [
                dashboard.player_overview(resources.sessions, resources.cache, player_id).maps[
                    "map"
                ][0]
            ],
        }
    )
    every = profile["headline"]["matches"]

    # the pages' services
    overview = dashboard.player_overview(resources.sessions, resources.cache, player_id, flt)
    summary = overview.summary
    matches, kd, adr = summary["matches_lifetime"], summary["kd_lifetime"], summary["adr_lifetime"]
    assert 0 < matches < every, "the filter keeps some matches, not all"
    compared = dashboard.compare_players(resources.sessions, resources.cache, [player_id], flt).row(
        0, named=True
    )
    assert (compared["Matches"], compared["K/D"], compared["ADR"]) == (matches, kd, adr)
    (per_map,) = overview.maps.to_dicts()  # one map in the filter: its row is the whole view
    assert (per_map["matches"], per_map["kd"], per_map["adr"]) == (matches, kd, adr)
    listed = dashboard.match_list(resources.sessions, player_id, flt, limit=1000)
    assert len(listed) == matches
    assert sum(r["kills"] for r in listed) / sum(r["deaths"] for r in listed) == pytest.approx(kd)
    assert all(r["map"] == flt.map[0] for r in listed)
    tilt = dashboard.tilt_for(resources.sessions, player_id, 60, flt)
    assert sum(g.matches for g in tilt.groups if g.kind == "session") == matches

    # the API, under the same query parameters
    params = query_of(flt)
    got = (await http.get(f"/api/players/{nickname}", params=params, headers=headers)).json()
    assert got["filters"] == flt.query()
    headline = got["headline"]
    assert (headline["matches"], headline["kd"], headline["adr"]) == (matches, kd, adr)
    assert headline["win_rate"] == summary["win_rate_lifetime"]
    maps = (await http.get(f"/api/players/{nickname}/maps", params=params, headers=headers)).json()
    assert [(m["map"], m["matches"], m["kd"], m["adr"]) for m in maps["maps"]] == [
        (flt.map[0], matches, kd, adr)
    ]
    seen: list[dict[str, Any]] = []
    before = None
    while True:
        page_params = [*params, ("limit", "7"), *([("before", before)] if before else [])]
        page = (
            await http.get(f"/api/players/{nickname}/matches", params=page_params, headers=headers)
        ).json()
        seen += page["matches"]
        before = page["next_before"]
        if before is None:
            break
    assert [m["match_id"] for m in seen] == [r["match_id"] for r in listed]
    trends = (
        await http.get(
            f"/api/players/{nickname}/trends", params=[*params, ("window", "200")], headers=headers
        )
    ).json()
    assert len(trends["points"]) == matches
    assert trends["points"][-1]["kd"] == pytest.approx(kd)
    assert trends["points"][-1]["adr"] == pytest.approx(adr)
    tilted = (
        await http.get(f"/api/players/{nickname}/tilt", params=params, headers=headers)
    ).json()
    assert sum(g["matches"] for g in tilted["groups"] if g["kind"] == "session") == matches
    elo = (await http.get(f"/api/players/{nickname}/elo", params=params, headers=headers)).json()
    assert {p["match_id"] for p in elo["points"]} <= {r["match_id"] for r in listed}
    # the unfiltered answer is still every match (the filter has its own cache entry)
    again = (await http.get(f"/api/players/{nickname}", headers=headers)).json()
    assert again["headline"]["matches"] == every and again["filters"] == {}


HOSTILE = [
    ({"hour_from": "99"}, "hour_from"),
    ({"map": "<script>alert(1)</script>"}, "map"),
    ({"map": "de_nuke'; DROP TABLE matches;--"}, "map"),
    ({"map": "de_\x00nuke"}, "map"),
    ({"since": "2025-05-01", "until": "2025-01-01"}, "before it starts"),
    ({"hour_from": "20", "hour_to": "3"}, "before they start"),
    ({"weekday": "**monday**"}, "weekday"),
    ({"team": "five"}, "team"),
    ({"result": "draw"}, "result"),
    ({"since": "2025-02-30"}, "since"),
]


@pytest.mark.parametrize("route", ["", "/matches", "/maps", "/elo", "/trends", "/tilt"])
async def test_a_bad_filter_value_is_a_422_problem_naming_it(
    http: Any, tokens: dict[str, Any], seeded: Any, route: str
) -> None:
    nickname = seeded.nicknames[0]
    headers = bearer(tokens["premium"]["access_token"])  # /tilt is premium
    before = (await http.get(f"/api/players/{nickname}{route}", headers=headers)).json()
    for params, named in HOSTILE:
        response = await http.get(f"/api/players/{nickname}{route}", params=params, headers=headers)
        body = assert_problem(response, 422)
        assert named in body["detail"], (params, body)
    after = (await http.get(f"/api/players/{nickname}{route}", headers=headers)).json()
    assert after == before  # nothing changed


OPENAPI = create_app().openapi()
ISSUE_18 = {
    "/api/players/{nickname}/elo": "PlayerElo",
    "/api/players/{nickname}/trends": "PlayerTrends",
    "/api/players/{nickname}/tilt": "PlayerTilt",
    "/api/players/{nickname}/ratings": "PlayerRatings",
    "/api/players/{nickname}/head-to-head/{other}": "HeadToHead",
    "/api/players/{nickname}/teammates": "Synergy",
}
FILTERED = ["", "/matches", "/maps", "/elo", "/trends", "/tilt"]


@pytest.mark.parametrize("path", list(ISSUE_18))
def test_every_route_of_issue_18_has_a_typed_answer_with_an_example(path: str) -> None:
    from pydantic import TypeAdapter

    import api.schemas as schemas

    op = OPENAPI["paths"][path]["get"]
    ref = op["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
    name = ref.rsplit("/", 1)[-1]
    assert name == ISSUE_18[path]
    component = OPENAPI["components"]["schemas"][name]
    assert component.get("properties") and component.get("examples"), f"{name} has no example"
    model = getattr(schemas, name)
    for example in component["examples"]:
        TypeAdapter(model).validate_python(example)  # the example is a valid answer
    assert op.get("summary")


@pytest.mark.parametrize("route", FILTERED)
def test_the_free_stats_routes_document_the_filter(route: str) -> None:
    op = OPENAPI["paths"][f"/api/players/{{nickname}}{route}"]["get"]
    params = {p["name"]: p for p in op["parameters"] if p["in"] == "query"}
    assert set(FIELDS) <= set(params), sorted(params)
    assert all(params[name].get("description") for name in FIELDS)
    hour = params["hour_from"]["schema"]
    assert [part.get("maximum") for part in hour["anyOf"]] == [23, None]
