"""Playstyle clusters: deterministic names, nearest players, JSON round trip."""

from __future__ import annotations

import polars as pl

from core.demo_league import League
from models import playstyle as ps


def test_names_identical_across_retrains(league_history: pl.DataFrame) -> None:
    rates = ps.player_rates(league_history)
    first = ps.fit(rates)
    second = ps.fit(rates.sample(fraction=1.0, shuffle=True, seed=3))
    assert first.names == second.names
    assert first.labels == second.labels
    assert [first.role_of(p) for p in first.player_ids] == [
        second.role_of(p) for p in first.player_ids
    ]
    assert sorted(first.names) == sorted(["AWPer", "Entry", "Support", "Anchor"])


def test_clusters_recover_hidden_roles(league_history: pl.DataFrame, small_league: League) -> None:
    model = ps.fit_from_history(league_history)
    players = small_league.players_frame()
    truth = dict(zip(players["player_id"], players["role"], strict=True))
    awpers = [p for p in model.player_ids if model.role_of(p) == "AWPer"]
    assert awpers
    assert sum(truth[p] == "awp" for p in awpers) / len(awpers) > 0.8


def test_players_like_and_json(league_history: pl.DataFrame) -> None:
    model = ps.fit_from_history(league_history)
    me = model.player_ids[0]
    like = model.players_like(me, k=5)
    assert len(like) == 5 and me not in [p for p, _ in like]
    assert [d for _, d in like] == sorted(d for _, d in like)
    again = ps.PlaystyleModel.from_bytes(model.to_bytes())
    assert again.players_like(me, k=5) == like
    assert again.names == model.names and again.profile(me) == model.profile(me)
    profile = model.profile(me)
    assert profile["role"] in model.names
    assert abs(sum(profile["affinity"].values()) - 1.0) < 1e-9
