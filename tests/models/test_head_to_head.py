"""Head-to-head and teammate synergy against hand-computed histories, and the synergy verdict
silent on noise."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import polars as pl
import pytest

from models.analysis import AnalysisError
from models.filters import MatchFilter
from models.head_to_head import _first_players_matches, head_to_head, synergy
from models.history import HISTORY_SCHEMA

T0 = datetime(2025, 1, 1, tzinfo=UTC)


def rows(match: int, map_name: str | None, winner: str, **factions: str) -> list[dict[str, Any]]:
    """One match: each named player on ``faction1``/``faction2``; a legacy match has no
    extended stats (``damage`` null), which head-to-head must not care about."""
    at = T0 + timedelta(hours=match)
    return [
        {
            "player_id": player,
            "nickname": player.upper(),
            "match_id": f"m{match}",
            "ts": int(at.timestamp()),
            "finished_at": at,
            "map": map_name,
            "faction": faction,
            "result": faction == winner,
            "rounds": 20,
            "kills": 10,
            "deaths": 10,
            "extended": match > 3,
            "damage": 1500 if match > 3 else None,
        }
        for player, faction in factions.items()
    ]


F1, F2 = "faction1", "faction2"
PAIR = pl.DataFrame(
    [
        # legacy matches (1-3), then extended ones
        *rows(1, "de_mirage", F1, a=F1, b=F1),  # together, won
        *rows(2, "de_mirage", F2, a=F1, b=F1),  # together, lost
        *rows(3, "de_inferno", F1, a=F1, b=F2),  # against, a won
        *rows(4, "de_inferno", F1, a=F2, b=F1),  # against, a lost
        *rows(5, "de_inferno", F2, a=F2, b=F1),  # against, a won
        *rows(6, "de_nuke", F1, a=F1, b=F1),  # together, won
        *rows(7, "de_nuke", F1, a=F1),  # a alone
        *rows(8, None, F2, a=F1, b=F2),  # against, a lost, map unknown
    ],
    schema=HISTORY_SCHEMA,
)


def test_head_to_head_by_hand() -> None:
    together, against = head_to_head(PAIR, "a", "b")
    assert (together.matches, together.wins, together.losses) == (3, 2, 1)
    assert together.win_rate == pytest.approx(2 / 3)
    assert [(m.map, m.matches, m.wins) for m in together.maps] == [
        ("de_mirage", 2, 1),
        ("de_nuke", 1, 1),
    ]
    assert (against.matches, against.wins, against.losses) == (4, 2, 2)
    assert [(m.map, m.matches, m.wins) for m in against.maps] == [
        ("de_inferno", 3, 2),
        (None, 1, 0),
    ]
    # from b's side the record against is mirrored, the one together the same
    b_together, b_against = head_to_head(PAIR, "b", "a")
    assert (b_together.wins, b_against.wins, b_against.losses) == (2, 2, 2)
    with pytest.raises(AnalysisError):
        head_to_head(PAIR, "a", "a")


def test_the_compare_pages_filter_reads_the_first_players_matches() -> None:
    """Compare's filter (models.filters) on the head-to-head: the first player's matches it
    keeps, whoever else played them."""
    on_inferno = _first_players_matches(PAIR, "a", MatchFilter(map=["de_inferno"]))
    together, against = head_to_head(on_inferno, "a", "b")
    assert (together.matches, against.matches, against.wins) == (0, 3, 2)
    lost = _first_players_matches(PAIR, "a", MatchFilter(result="loss"))  # a's losses: 2, 4, 8
    together, against = head_to_head(lost, "a", "b")
    assert (together.matches, together.wins, against.matches, against.wins) == (1, 0, 2, 0)
    assert _first_players_matches(PAIR, "a", MatchFilter()) is PAIR


def test_synergy_by_hand() -> None:
    matches, rate, _confidence, mates = synergy(PAIR, "a")
    assert (matches, rate) == (8, 5 / 8)
    b = next(t for t in mates if t.nickname == "B")
    # with b on the team: matches 1, 2, 6 -> 2 wins of 3; without (3, 4, 5, 7, 8): 3 wins
    assert (b.matches, b.wins, b.other_matches) == (3, 2, 5)
    assert b.win_rate == pytest.approx(2 / 3) and b.other_win_rate == pytest.approx(3 / 5)
    assert b.interval_low is None and b.verdict is None  # 3 matches: too few to test


def league(seed: int, boost: float = 0.0, matches: int = 160) -> pl.DataFrame:
    """A player with 6 regular teammates (each in a match with probability 1/2); the player wins
    half their matches, plus ``boost`` when teammate ``t0`` plays."""
    rng = np.random.default_rng(seed)
    out: list[dict[str, Any]] = []
    for m in range(matches):
        present = [f"t{i}" for i in range(6) if rng.random() < 0.5]
        p = 0.5 + (boost if "t0" in present else 0.0)
        winner = F1 if rng.random() < p else F2
        out += rows(m, "de_mirage", winner, p=F1, **dict.fromkeys(present, F1), opp=F2)
    return pl.DataFrame(out, schema=HISTORY_SCHEMA)


def test_no_synergy_gets_no_verdict_in_95_percent_of_seeds() -> None:
    noisy = [seed for seed in range(100) if any(t.verdict for t in synergy(league(seed), "p")[3])]
    assert len(noisy) <= 5, noisy


def test_a_real_synergy_is_found_and_said() -> None:
    found = 0
    for seed in range(10):
        mates = {t.nickname: t for t in synergy(league(seed, boost=0.3), "p")[3]}
        assert "OPP" not in mates  # an opponent is no teammate
        if mates["T0"].verdict:
            found += 1
            assert mates["T0"].verdict.startswith("You win more often with T0:")
            assert mates["T0"].interval_low is not None and mates["T0"].interval_low > 0
    assert found >= 8
