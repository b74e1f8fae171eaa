"""The league has the heterogeneity of real FACEIT data, in the API's own format: legacy matches
without extended stats, mid-season joiners, premade parties and fields the API sometimes leaves out.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from demo_league_helpers import client

from core.demo_league import League, generate_league
from core.demo_league.sim import NEW_ACCOUNT_ELO, iso_to_ts
from core.faceit import (
    LEGACY_PLAYER_STAT_KEYS,
    HistoryPage,
    MatchDetails,
    MatchStats,
    PlayerLifetimeStats,
    PlayerProfile,
)

CUTOFF = iso_to_ts("2024-08-01T00:00:00Z")


@pytest.fixture(scope="module")
def default_shaped() -> League:
    """A league with the default span and shares (smaller than the app's)."""
    return generate_league(400, seed=3)


async def _get(league: League, url: str) -> Any:
    async with client(league) as c:
        r = await c.get(url)
    assert r.status_code == 200, r.text
    return r.json()


def test_default_league_has_every_kind_of_heterogeneity(default_shaped: League) -> None:
    lg = default_shaped
    legacy = ~lg.extended
    assert 0.15 < legacy.mean() < 0.35, "about a quarter of the matches are legacy"
    assert (lg.started_at[legacy] < CUTOFF).all() and (lg.started_at[~legacy] >= CUTOFF).all()
    assert 0.05 < lg.premade.any(1).mean() < 0.3, "a premade in some matches, not most"
    assert not lg.premade.all(1).any() or lg.premade.all(1).mean() < 0.05
    joiners = lg.joined_at > lg.start_ts
    assert 0.1 < joiners.mean() < 0.2
    assert 0.01 < lg.demo_missing.mean() < 0.1


def test_same_seed_same_heterogeneity() -> None:
    a, b = generate_league(80, 600, seed=9), generate_league(80, 600, seed=9)
    assert (a.premade == b.premade).all() and (a.joined_at == b.joined_at).all()
    assert (a.party == b.party).all() and (a.demo_missing == b.demo_missing).all()
    assert a.match_players_frame().equals(b.match_players_frame())


def test_joiners_play_only_after_joining_and_start_at_1000(default_shaped: League) -> None:
    lg = default_shaped
    joiners = np.flatnonzero(lg.joined_at > lg.start_ts)
    played = 0
    for p in joiners:
        ms, slots = lg.player_matches(int(p))
        assert (lg.started_at[ms] >= lg.joined_at[p]).all()
        assert lg.activated_at[p] <= lg.joined_at[p]
        if len(ms):
            played += 1
            assert lg.elo_before[ms[0], slots[0]] == NEW_ACCOUNT_ELO
    assert played > 0.9 * len(joiners)


async def test_joiner_profile_and_history_in_api_format(default_shaped: League) -> None:
    lg = default_shaped
    p = int(np.flatnonzero(lg.joined_at > lg.start_ts + 200 * 86400)[0])
    pid = lg.player_ids[p]
    profile = PlayerProfile.model_validate(await _get(lg, f"/data/v4/players/{pid}"))
    assert profile.activated_at is not None
    assert profile.activated_at.timestamp() >= lg.start_ts
    before = await _get(
        lg, f"/data/v4/players/{pid}/history?game=cs2&from={lg.start_ts}&to={lg.joined_at[p]}"
    )
    assert before["items"] == []
    after = HistoryPage.model_validate(await _get(lg, f"/data/v4/players/{pid}/history?limit=100"))
    assert after.items and all(m.started_at.timestamp() >= lg.joined_at[p] for m in after.items)  # type: ignore[union-attr]


def test_premade_factions_are_one_party(default_shaped: League) -> None:
    lg = default_shaped
    rows, factions = np.nonzero(lg.premade)
    assert rows.size
    for m, f in zip(rows, factions, strict=True):
        members = lg.mp_player[m, f * 5 : f * 5 + 5]
        assert len({int(lg.party[x]) for x in members}) == 1 and lg.party[members[0]] >= 0
    # a party queues together again and again: each premade five recurs
    fives = np.sort(lg.mp_player[rows[:, None], factions[:, None] * 5 + np.arange(5)], axis=1)
    counts = np.unique(fives, axis=0, return_counts=True)[1]
    assert (counts >= 3).mean() > 0.5
    # party members also queue solo, in teams that are not premade
    solo_rows = np.flatnonzero(~lg.premade.any(1))
    in_party = lg.party[lg.mp_player[solo_rows]] >= 0
    assert in_party.any()


def test_a_premade_is_stronger_than_its_players_and_the_oracle_knows() -> None:
    """Coordination is real signal in the outcome (and in the oracle), not a cosmetic flag."""
    lg = generate_league(1500, 9000, seed=4)
    f1_won = lg.winner == 0
    # the oracle's logit minus the players' skill and map terms leaves tilt and the party bonus
    skill = lg.skill_at(lg.mp_player, lg.started_at[:, None])
    skill += lg.map_affinity[lg.mp_player, lg.map_idx[:, None]]
    p = lg.p_faction1
    residual = np.log(p / (1 - p)) / 1.7 - (skill[:, :5].mean(1) - skill[:, 5:].mean(1))
    sign = lg.premade[:, 0].astype(int) - lg.premade[:, 1].astype(int)
    bonus = (residual[sign == 1].mean() - residual[sign == -1].mean()) / 2
    assert 0.1 < bonus < 0.2 and abs(residual[sign == 0].mean()) < 0.03
    # and the results follow the oracle on premade matches (calibrated, within 3 sd)
    one_side = sign != 0
    won = np.where(sign[one_side] == 1, f1_won[one_side], ~f1_won[one_side])
    oracle = np.where(sign[one_side] == 1, p[one_side], 1 - p[one_side])
    assert won.size > 800
    assert abs(won.mean() - oracle.mean()) < 3 * np.sqrt(0.25 / won.size)


async def test_premade_exposed_as_the_api_does(default_shaped: League) -> None:
    lg = default_shaped
    m = int(np.flatnonzero(lg.premade.any(1))[-1])
    f = int(np.argmax(lg.premade[m]))
    mid = lg.match_ids[m]
    details = MatchDetails.model_validate(await _get(lg, f"/data/v4/matches/{mid}"))
    assert details.teams[f"faction{f + 1}"].type == "premade"
    assert details.teams[f"faction{2 - f}"].type == ""
    stats = MatchStats.model_validate(await _get(lg, f"/data/v4/matches/{mid}/stats"))
    assert [t.premade for t in stats.rounds[0].teams] == [bool(x) for x in lg.premade[m]]
    member = lg.player_ids[int(lg.mp_player[m, f * 5])]
    history = HistoryPage.model_validate(
        await _get(
            lg,
            f"/data/v4/players/{member}/history?from={lg.started_at[m]}&to={lg.started_at[m] + 1}",
        )
    )
    (item,) = history.items
    assert item.teams[f"faction{f + 1}"].premade and not item.teams[f"faction{2 - f}"].premade


async def test_legacy_match_payloads_leave_the_keys_out(default_shaped: League) -> None:
    lg = default_shaped
    m = int(np.flatnonzero(~lg.extended)[-1])
    raw = await _get(lg, f"/data/v4/matches/{lg.match_ids[m]}/stats")
    for team in raw["rounds"][0]["teams"]:
        for player in team["players"]:
            assert set(player["player_stats"]) == LEGACY_PLAYER_STAT_KEYS
    parsed = MatchStats.model_validate(raw).players()
    for _, _, player in parsed:
        assert player.stats.damage is None and player.stats.adr is None
        assert player.stats.double_kills is None and player.stats.entry_count is None
        assert player.stats.triple_kills is not None and player.stats.kills >= 0


async def test_lifetime_totals_count_extended_matches_only(default_shaped: League) -> None:
    lg = default_shaped
    counts = np.diff(lg.pm_offsets)
    mixed = [
        p
        for p in np.argsort(-counts)[:50]
        if 0 < (~lg.extended[lg.player_matches(int(p))[0]]).sum() < counts[p]
    ]
    p = int(mixed[0])
    ms, sl = lg.player_matches(p)
    ext = lg.extended[ms]
    body = PlayerLifetimeStats.model_validate(
        await _get(lg, f"/data/v4/players/{lg.player_ids[p]}/stats/cs2")
    )
    life = body.lifetime
    assert life.matches == len(ms) and life.matches_with_extended_stats == int(ext.sum())
    damage = int(lg.stats["damage"][ms[ext], sl[ext]].sum())
    rounds_ext = int(lg.rounds[ms[ext]].sum())
    assert life.total_damage == damage and life.total_rounds_extended == rounds_ext
    assert life.adr == pytest.approx(damage / rounds_ext, abs=0.005)


async def test_fields_the_api_sometimes_leaves_out(default_shaped: League) -> None:
    lg = default_shaped
    gone = int(np.flatnonzero(lg.demo_missing)[0])
    kept = int(np.flatnonzero(~lg.demo_missing)[0])
    raw_gone = await _get(lg, f"/data/v4/matches/{lg.match_ids[gone]}")
    raw_kept = await _get(lg, f"/data/v4/matches/{lg.match_ids[kept]}")
    assert "demo_url" not in raw_gone and raw_kept["demo_url"]
    assert MatchDetails.model_validate(raw_gone).demo_url == []
    locations = {e["name"]: e for e in raw_kept["voting"]["location"]["entities"]}
    assert "game_location_id" not in locations["UK"]
    assert locations["Germany"]["game_location_id"] == "Germany"
