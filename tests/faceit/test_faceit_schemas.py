"""The models validate the real reference payloads and parse strings once, at the edge."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from faceit_fakes import PAYLOADS, payload, payload_text
from hypothesis import given
from hypothesis import strategies as st
from pydantic import BaseModel, ValidationError

from core.faceit.schemas import (
    EXTENDED_PLAYER_STAT_FIELDS,
    PLAYER_STAT_API_KEYS,
    PLAYER_STAT_FIELDS,
    REQUIRED_PLAYER_STAT_FIELDS,
    ErrorBody,
    GameStatsPage,
    HistoryPage,
    MatchDetails,
    MatchStats,
    PlayerLifetimeStats,
    PlayerMatchStats,
    PlayerProfile,
    SearchPage,
)

REFERENCE = [
    ("player.json", PlayerProfile),
    ("player_stats_cs2.json", PlayerLifetimeStats),
    ("player_history.json", HistoryPage),
    ("player_games_cs2_stats.json", GameStatsPage),
    ("match.json", MatchDetails),
    ("match_stats.json", MatchStats),
    ("search_players.json", SearchPage),
    ("error_404.json", ErrorBody),
]

BRIEF_STAT_NAMES = (
    "kills",
    "deaths",
    "assists",
    "headshots",
    "headshots_pct",
    "mvps",
    "kd_ratio",
    "kr_ratio",
    "adr",
    "damage",
    "double_kills",
    "triple_kills",
    "quadro_kills",
    "penta_kills",
    "first_kills",
    "entry_count",
    "entry_wins",
    "match_entry_rate",
    "match_entry_success_rate",
    "one_v_one_count",
    "one_v_one_wins",
    "one_v_two_count",
    "one_v_two_wins",
    "match_1v1_win_rate",
    "match_1v2_win_rate",
    "clutch_kills",
    "utility_count",
    "utility_successes",
    "utility_damage",
    "utility_enemies",
    "utility_usage_per_round",
    "utility_success_rate",
    "utility_damage_per_round",
    "utility_damage_success_rate",
    "flash_count",
    "flash_successes",
    "enemies_flashed",
    "flash_success_rate",
    "flashes_per_round",
    "enemies_flashed_per_round",
    "sniper_kills",
    "sniper_kill_rate_per_match",
    "sniper_kill_rate_per_round",
    "pistol_kills",
    "knife_kills",
    "zeus_kills",
    "result",
)


def test_every_reference_payload_is_covered() -> None:
    assert {name for name, _ in REFERENCE} == {p.name for p in PAYLOADS.glob("*.json")}


@pytest.mark.parametrize(("name", "model"), REFERENCE, ids=[n for n, _ in REFERENCE])
def test_reference_payload_validates(name: str, model: type[BaseModel]) -> None:
    parsed = model.model_validate_json(payload_text(name))
    assert parsed is not None


def test_player_profile() -> None:
    player = PlayerProfile.model_validate(payload("player.json"))
    assert player.player_id == "ffe3566c-9574-4f1b-8012-bf4d42aeb898"
    assert player.nickname == "Darwin"
    assert player.country == "gb"
    assert player.cs2 is not None
    assert (player.elo, player.skill_level, player.region) == (2014, 10, "EU")
    assert player.activated_at == datetime(2014, 7, 15, 13, 29, 43, 243000, tzinfo=UTC)


def test_player_without_cs2_is_representable() -> None:
    raw = payload("player.json")
    del raw["games"]["cs2"]
    player = PlayerProfile.model_validate(raw)
    assert player.cs2 is None
    assert player.elo is None and player.skill_level is None and player.region is None
    raw.pop("games")
    assert PlayerProfile.model_validate(raw).cs2 is None


def test_lifetime_stats_use_averages_and_parse_numbers() -> None:
    stats = PlayerLifetimeStats.model_validate(payload("player_stats_cs2.json"))
    life = stats.lifetime
    assert life.matches == 2423 and isinstance(life.matches, int)
    assert life.matches_with_extended_stats == 795
    assert life.average_kd_ratio == pytest.approx(0.95)
    assert life.kd_ratio_sum == pytest.approx(2309.97)  # a sum, kept apart
    assert life.average_headshots_pct == 33.0
    assert life.recent_results == [True, True, True, True, False]
    assert life.adr == pytest.approx(75.72)
    assert len(stats.segments) == 10
    inferno = next(s for s in stats.segments if s.label == "Inferno")
    assert inferno.type == "Map" and inferno.mode == "5v5"
    assert inferno.stats.matches == 188 and inferno.stats.kills == 2866
    assert inferno.stats.average_kd_ratio == pytest.approx(1.02)
    assert inferno.stats.average_kr_ratio == pytest.approx(0.68)
    assert len(stats.map_segments) == 10


def test_history_page() -> None:
    page = HistoryPage.model_validate(payload("player_history.json"))
    assert (page.start, page.end, len(page.items)) == (0, 20, 20)
    assert page.from_ is None  # from=0: no lower bound
    assert page.to == datetime.fromtimestamp(1774315641, UTC)
    first = page.items[0]
    assert first.match_id == "1-6e9986d0-fca9-4840-986a-cd2cc127b227"
    assert first.competition_name == "Europe 5v5 Queue"
    assert first.region == "EU"
    assert first.started_at == datetime.fromtimestamp(1773700669, UTC)
    assert first.finished_at == datetime.fromtimestamp(1773703361, UTC)
    assert first.finished_at is not None and first.finished_at.tzinfo is not None
    assert first.winner == "faction2"
    assert first.score == {"faction1": 11, "faction2": 13}
    darwin = "ffe3566c-9574-4f1b-8012-bf4d42aeb898"
    assert first.faction_of(darwin) == "faction1"
    assert first.won_by(darwin) is False
    f1 = first.teams["faction1"]
    assert len(f1.players) == 5 and darwin in f1.player_ids
    assert f1.players[1].nickname == "Darwin" and f1.players[1].skill_level == 10
    assert all(len(m.teams) == 2 for m in page.items)


@pytest.mark.parametrize("parse", ["json", "python"])
def test_history_nulls_read_as_empty(parse: str) -> None:
    """FACEIT sends null for an empty list or map (items, teams, a roster, a score): read
    as empty, from the JSON bytes as from Python objects."""
    raw = {
        "items": [
            {"match_id": "m1", "teams": None, "results": {"winner": None, "score": None}},
            {"match_id": "m2", "teams": {"faction1": {"players": None}}},
        ],
        "start": 0,
        "end": 2,
    }
    empty: dict[str, Any] = {"items": None}
    if parse == "json":
        page = HistoryPage.model_validate_json(json.dumps(raw).encode())
        nothing = HistoryPage.model_validate_json(json.dumps(empty).encode())
    else:
        page, nothing = HistoryPage.model_validate(raw), HistoryPage.model_validate(empty)
    first, second = page.items
    assert first.teams == {} and first.score == {} and first.winner is None
    assert second.teams["faction1"].players == [] and second.teams["faction1"].player_ids == []
    assert nothing.items == []


def test_games_stats_rows() -> None:
    page = GameStatsPage.model_validate(payload("player_games_cs2_stats.json"))
    assert len(page.items) == 20
    row = page.items[0]
    assert row.match_id == "1-6e9986d0-fca9-4840-986a-cd2cc127b227"
    assert row.kills == 19 and isinstance(row.kills, int)
    assert row.kd_ratio == pytest.approx(1.27) and isinstance(row.kd_ratio, float)
    assert row.result is False
    assert row.map == "de_inferno"
    assert row.score == "11 / 13"
    assert row.adr == 75.0 and row.damage == 1801
    # "Match Finished At" is Unix milliseconds: same moment as the history's finished_at seconds
    assert row.finished_at == datetime.fromtimestamp(1773703361, UTC)
    assert row.created_at == datetime(2026, 3, 16, 23, 22, 42, 472000, tzinfo=UTC)


def test_match_details() -> None:
    match = MatchDetails.model_validate(payload("match.json"))
    assert match.match_id == "1-bb13fd78-e183-4d37-8a4b-ceed67da5265"
    assert match.competition_name == "S56 EU Open10 Central - Regular Season"
    assert match.map == "de_inferno"
    assert match.location == "Germany"
    assert match.winner == "faction1"
    assert match.score == {"faction1": 13, "faction2": 10}
    assert match.is_finished
    assert match.started_at == datetime.fromtimestamp(1771965597, UTC)
    assert match.finished_at == datetime.fromtimestamp(1771968208, UTC)
    f2 = match.teams["faction2"]
    assert f2.name == "FlensburgUnited" and len(f2.roster) == 5 and len(f2.substitutes) == 2
    assert f2.roster[0].skill_level == 10  # from game_skill_level


def test_match_without_voting_has_no_map() -> None:
    raw = payload("match.json")
    raw.pop("voting")
    assert MatchDetails.model_validate(raw).map is None


def test_match_stats_parse_numbers() -> None:
    stats = MatchStats.model_validate(payload("match_stats.json"))
    assert stats.match_id == "1-bb13fd78-e183-4d37-8a4b-ceed67da5265"
    rnd = stats.rounds[0]
    assert (rnd.map, rnd.region, rnd.rounds, rnd.score) == ("de_inferno", "EU", 23, "13 / 10")
    assert rnd.winner_team_id == "21c6e887-daa4-4649-b781-189adb3e744d"
    team = rnd.teams[0]
    assert team.team_id == rnd.winner_team_id and team.name == "speciaLz" and team.premade is True
    assert team.team_stats.team_win is True and team.team_stats.final_score == 13
    melma = team.players[0]
    s = melma.stats
    assert melma.nickname == "MelMA"
    assert s.kd_ratio == 1.46 and isinstance(s.kd_ratio, float)
    assert s.kills == 19 and isinstance(s.kills, int)
    assert s.result is True
    assert s.one_v_one_count == 0 and s.match_entry_success_rate == 0.5
    assert s.utility_damage_per_round == pytest.approx(4.04)
    assert s.flashes_per_round == pytest.approx(0.96)
    assert len(stats.players()) == 10
    losers = rnd.teams[1]
    assert all(p.stats.result is False for p in losers.players)


def test_player_stat_fields_are_the_47_snake_case_names() -> None:
    assert BRIEF_STAT_NAMES == PLAYER_STAT_FIELDS
    assert len(set(PLAYER_STAT_FIELDS)) == 47
    raw_keys = set(
        payload("match_stats.json")["rounds"][0]["teams"][0]["players"][0]["player_stats"]
    )
    assert set(PLAYER_STAT_API_KEYS.values()) == raw_keys
    assert PLAYER_STAT_API_KEYS["kd_ratio"] == "K/D Ratio"
    assert PLAYER_STAT_API_KEYS["one_v_one_count"] == "1v1Count"
    assert set(REQUIRED_PLAYER_STAT_FIELDS) | set(EXTENDED_PLAYER_STAT_FIELDS) <= set(
        PLAYER_STAT_FIELDS
    )
    row = (
        MatchStats.model_validate(payload("match_stats.json"))
        .rounds[0]
        .teams[0]
        .players[0]
        .stats.as_row()
    )
    assert tuple(row) == PLAYER_STAT_FIELDS


def _basic_only(stats: dict[str, Any]) -> dict[str, Any]:
    basic = {
        "Kills",
        "Deaths",
        "Assists",
        "Headshots",
        "Headshots %",
        "MVPs",
        "K/D Ratio",
        "K/R Ratio",
        "ADR",
        "Damage",
        "Double Kills",
        "Triple Kills",
        "Quadro Kills",
        "Penta Kills",
        "Result",
    }
    return {k: v for k, v in stats.items() if k in basic}


def test_missing_extended_stats_are_none() -> None:
    raw = payload("match_stats.json")
    for team in raw["rounds"][0]["teams"]:
        for player in team["players"]:
            player["player_stats"] = _basic_only(player["player_stats"])
    player = MatchStats.model_validate(raw).rounds[0].teams[0].players[0].stats
    assert player.kills == 19
    extended = ("first_kills", "entry_count", "one_v_one_count", "utility_damage", "flash_count")
    extended += ("sniper_kills", "zeus_kills", "match_1v1_win_rate", "utility_success_rate")
    for name in extended:
        assert getattr(player, name) is None, name
    # empty strings are "missing" too
    stats = _basic_only(
        payload("match_stats.json")["rounds"][0]["teams"][0]["players"][0]["player_stats"]
    )
    stats["Clutch Kills"] = ""
    assert PlayerMatchStats.model_validate(stats).clutch_kills is None


def test_missing_basic_stat_is_an_error() -> None:
    stats = payload("match_stats.json")["rounds"][0]["teams"][0]["players"][0]["player_stats"]
    stats.pop("Kills")
    with pytest.raises(ValidationError):
        PlayerMatchStats.model_validate(stats)


@pytest.mark.parametrize("bad", ["many", "1.5", "nan", "", None])
def test_bad_numbers_are_rejected(bad: Any) -> None:
    stats = payload("match_stats.json")["rounds"][0]["teams"][0]["players"][0]["player_stats"]
    stats["Kills"] = bad
    with pytest.raises(ValidationError):
        PlayerMatchStats.model_validate(stats)


def test_unknown_fields_are_ignored() -> None:
    raw = payload("match_stats.json")
    raw["brand_new"] = {"x": 1}
    raw["rounds"][0]["teams"][0]["players"][0]["player_stats"]["Grenade Kills"] = "3"
    MatchStats.model_validate(raw)


def test_search_skill_level_string_becomes_int() -> None:
    page = SearchPage.model_validate(payload("search_players.json"))
    zywoo = page.items[0]
    assert zywoo.nickname == "ZywOo" and zywoo.verified is True
    assert zywoo.cs2_skill_level == 10


def test_models_accept_python_names() -> None:
    stats = PlayerMatchStats.model_validate(
        {
            "kills": "3",
            "deaths": 1,
            "assists": 0,
            "headshots": 1,
            "headshots_pct": "33",
            "mvps": 0,
            "kd_ratio": "3.0",
            "kr_ratio": 0.2,
            "result": "0",
        }
    )
    assert stats.kills == 3 and stats.result is False and stats.adr is None


@given(
    kills=st.integers(min_value=0, max_value=200),
    kd=st.floats(min_value=0, max_value=50, allow_nan=False).map(lambda x: round(x, 2)),
    win=st.booleans(),
)
def test_string_stats_round_trip(kills: int, kd: float, win: bool) -> None:
    stats = PlayerMatchStats.model_validate(
        {
            "Kills": str(kills),
            "Deaths": "10",
            "Assists": "2",
            "Headshots": "1",
            "Headshots %": "50",
            "MVPs": "1",
            "K/D Ratio": f"{kd}",
            "K/R Ratio": "0.5",
            "Result": "1" if win else "0",
        }
    )
    assert stats.kills == kills
    assert stats.kd_ratio == pytest.approx(kd)
    assert stats.result is win
