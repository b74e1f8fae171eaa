"""Simulation invariants: hypothesis over small leagues plus a vectorised check of a bigger one."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.demo_league import (
    MAPS,
    STAT_COLUMNS,
    League,
    elo_to_level,
    generate_league,
    oracle_win_probability,
)
from core.demo_league.payloads import match_player_stats
from core.demo_league.sim import NEW_ACCOUNT_MATCHES


def check_invariants(lg: League) -> None:
    s = {k: v.astype(np.int64) for k, v in lg.stats.items()}
    rounds = lg.rounds.astype(np.int64)
    r10 = rounds[:, None]
    score = lg.score.astype(np.int64)
    k, d = s["kills"], s["deaths"]
    # kills of one team are the deaths of the other (no suicides / team kills modelled)
    assert (k[:, :5].sum(1) == d[:, 5:].sum(1)).all()
    assert (k[:, 5:].sum(1) == d[:, :5].sum(1)).all()
    assert (d <= r10).all() and (k >= 0).all()
    assert (s["headshots"] <= k).all()
    multi = s["double_kills"], s["triple_kills"], s["quadro_kills"], s["penta_kills"]
    assert (2 * multi[0] + 3 * multi[1] + 4 * multi[2] + 5 * multi[3] <= k).all()
    assert (sum(multi) <= r10).all()
    # exactly one first kill per round across both teams; entry duels involve two players
    assert (s["first_kills"].sum(1) == rounds).all()
    assert (s["entry_count"].sum(1) == 2 * rounds).all()
    assert (s["entry_wins"] <= s["entry_count"]).all()
    assert (s["entry_wins"] == s["first_kills"]).all()
    assert (s["clutch_1v1_wins"] <= s["clutch_1v1_count"]).all()
    assert (s["clutch_1v2_wins"] <= s["clutch_1v2_count"]).all()
    assert (s["clutch_kills"] <= k).all()
    weapons = s["sniper_kills"] + s["pistol_kills"] + s["knife_kills"] + s["zeus_kills"]
    assert (weapons <= k).all()
    assert (s["utility_successes"] <= s["utility_count"]).all()
    assert (s["utility_enemies"] >= s["utility_successes"]).all()
    assert (s["utility_damage"] <= s["damage"]).all()
    assert (s["flash_successes"] <= s["flash_count"]).all()
    assert (s["enemies_flashed"] >= s["flash_successes"]).all()
    assert (s["assists"] >= 0).all() and (s["damage"] >= 0).all()
    # MVPs: one per round, to the round winners
    assert (s["mvps"][:, :5].sum(1) == score[:, 0]).all()
    assert (s["mvps"][:, 5:].sum(1) == score[:, 1]).all()
    # scores: MR12 first to 13, MR3 overtimes first to 4
    hi, lo = score.max(1), score.min(1)
    assert (score.sum(1) == rounds).all()
    assert (np.where(lg.winner == 0, score[:, 0], score[:, 1]) == hi).all()
    assert (hi > lo).all()
    reg = hi == 13
    assert (lo[reg] <= 11).all()
    ot = ~reg
    assert ((hi[ot] - 16) % 3 == 0).all() and (hi[ot] >= 16).all()
    assert ((hi[ot] - lo[ot] >= 1) & (hi[ot] - lo[ot] <= 4)).all()
    parts = lg.first_half + lg.second_half + lg.overtime
    assert (parts == lg.score).all()
    assert (lg.first_half.sum(1) == 12).all()
    assert (lg.overtime[reg].sum(1) == 0).all()
    assert (lg.second_half[ot].sum(1) == 12).all()
    # players, time, Elo
    assert all(len(set(row)) == 10 for row in lg.mp_player.tolist())
    assert (np.diff(lg.started_at) >= 0).all()
    assert (lg.finished_at > lg.started_at).all()
    assert (lg.started_at >= lg.start_ts).all() and (lg.finished_at <= lg.end_ts).all()
    # a new account's first matches move three times as much (FACEIT's larger first swings)
    counts = np.diff(lg.pm_offsets)
    nth = np.empty(lg.n_matches * 10, np.int64)
    nth[lg.pm_flat] = np.arange(lg.n_matches * 10) - np.repeat(lg.pm_offsets[:-1], counts)
    new_account = (lg.joined_at > lg.start_ts)[lg.mp_player]
    boost = np.where(new_account & (nth.reshape(-1, 10) < NEW_ACCOUNT_MATCHES), 3, 1)
    moved = lg.elo_after.astype(np.int64) - lg.elo_before
    floor = (lg.elo_after == 100).any(1)
    ok = ~floor
    assert (moved[ok] % boost[ok] == 0).all()
    delta = moved // boost
    assert (delta[ok, :5] == delta[ok, :1]).all() and (delta[ok, 5:] == -delta[ok, :1]).all()
    e1 = lg.elo_before[:, :5].mean(1)
    e2 = lg.elo_before[:, 5:].mean(1)
    exp1 = 1 / (1 + 10 ** ((e2 - e1) / 400))
    expected = np.rint(50 * ((lg.winner == 0) - exp1))
    assert (delta[ok, 0] == expected[ok]).all()
    assert (lg.elo >= 100).all()
    assert ((lg.p_faction1 > 0) & (lg.p_faction1 < 1)).all()
    # per-player index: each appearance exactly once, chronological
    flat = np.sort(lg.pm_flat)
    assert (flat == np.arange(lg.n_matches * 10)).all()
    for p in range(min(lg.n_players, 50)):
        ms, sl = lg.player_matches(p)
        assert (lg.mp_player[ms, sl] == p).all()
        assert (np.diff(ms) > 0).all()


@settings(max_examples=25, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    n_players=st.integers(10, 80),
    n_matches=st.integers(1, 300),
    span_days=st.floats(5, 1200),
)
def test_invariants_small_leagues(
    seed: int, n_players: int, n_matches: int, span_days: float
) -> None:
    lg = generate_league(n_players, n_matches, seed=seed, span_days=span_days)
    assert lg.n_matches == n_matches and lg.n_players == n_players
    assert len(set(lg.player_ids)) == n_players
    assert len({n.lower() for n in lg.nicknames}) == n_players
    check_invariants(lg)


@pytest.fixture(scope="module")
def big() -> League:
    return generate_league(3000, 15000, seed=11)


def test_invariants_bigger_league(big: League) -> None:
    check_invariants(big)


def test_realistic_distributions(big: League) -> None:
    s = big.stats
    r = big.rounds[:, None]
    kd = s["kills"] / np.maximum(s["deaths"], 1)
    adr = s["damage"] / r
    hs = s["headshots"].sum() / s["kills"].sum()
    assert 0.9 < kd.mean() < 1.25
    assert 68 < adr.mean() < 82
    assert 0.4 < hs < 0.5
    assert 0.6 < (s["kills"] / r).mean() < 0.8
    levels = np.bincount(elo_to_level(big.elo), minlength=11)[1:]
    assert (levels > 0).all(), "every level 1-10 is populated"
    assert levels.max() < 0.35 * big.n_players
    assert set(np.unique(big.map_idx)) == set(range(len(MAPS)))
    assert 0.05 < (big.score.max(1) > 13).mean() < 0.25  # overtime share


def test_oracle_is_calibrated_and_informative(big: League) -> None:
    p = big.p_faction1
    won = (big.winner == 0).astype(float)
    assert abs(p.mean() - won.mean()) < 0.02
    bins = np.digitize(p, [0.3, 0.45, 0.55, 0.7])
    for b in np.unique(bins):
        sel = bins == b
        if sel.sum() > 500:
            assert abs(p[sel].mean() - won[sel].mean()) < 0.05
    assert ((p - won) ** 2).mean() < 0.245
    mid = big.match_ids[123]
    assert oracle_win_probability(big, mid) == pytest.approx(float(p[123]))


def test_elo_tracks_skill(big: League) -> None:
    skill = big.skill_at(np.arange(big.n_players), np.array([big.end_ts]))
    active = np.diff(big.pm_offsets) >= 20
    assert np.corrcoef(skill[active], big.elo[active])[0, 1] > 0.6


def test_payload_ratios_follow_the_counters(big: League) -> None:
    for m in range(0, big.n_matches, 997):
        rounds = int(big.rounds[m])
        for slot in range(10):
            ps = match_player_stats(big, m, slot)
            k = int(big.stats["kills"][m, slot])
            d = int(big.stats["deaths"][m, slot])
            assert float(ps["K/R Ratio"]) == round(k / rounds, 2)
            assert float(ps["K/D Ratio"]) == round(k / max(d, 1), 2)
            if big.extended[m]:
                assert float(ps["ADR"]) == round(int(ps["Damage"]) / rounds, 1)
                assert int(ps["Double Kills"]) == int(big.stats["double_kills"][m, slot])
            else:  # left out, not "0"
                assert "ADR" not in ps and "Damage" not in ps and "Double Kills" not in ps
            assert ps["Result"] == str(int(big.winner[m] == slot // 5))
            assert int(ps["Headshots %"]) == (
                int(np.floor(100 * int(ps["Headshots"]) / k + 0.5)) if k else 0
            )
            assert all(isinstance(v, str) for v in ps.values())


def test_same_seed_same_league_different_seed_differs() -> None:
    a = generate_league(60, 200, seed=5)
    b = generate_league(60, 200, seed=5)
    c = generate_league(60, 200, seed=6)
    assert a.player_ids == b.player_ids and a.match_ids == b.match_ids
    for name in STAT_COLUMNS:
        assert (a.stats[name] == b.stats[name]).all()
    assert a.player_ids != c.player_ids
    assert a.match_players_frame().equals(b.match_players_frame())


def test_frames(big: League) -> None:
    players = big.players_frame()
    matches = big.matches_frame()
    mp = big.match_players_frame()
    assert players.height == big.n_players and players["player_id"].n_unique() == big.n_players
    assert matches.height == big.n_matches and matches["match_id"].n_unique() == big.n_matches
    assert mp.height == 10 * big.n_matches
    assert set(STAT_COLUMNS) <= set(mp.columns)
    per_player = mp.group_by("player_id").len()
    joined = players.join(per_player, on="player_id", how="left").fill_null(0)
    assert (joined["matches"] == joined["len"]).all()
