"""The product voice's wording rules (app/present.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from app import present

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("ago", "text"),
    [
        (timedelta(seconds=20), "just now"),
        (timedelta(minutes=5), "5 minutes ago"),
        (timedelta(days=3, hours=2), "3 days ago"),
        (timedelta(days=-29, hours=-23), "a month from now"),
    ],
)
def test_dates_in_the_users_terms(ago: timedelta, text: str) -> None:
    assert present.relative_time(NOW - ago, NOW) == text
    assert present.relative_time((NOW - ago).replace(tzinfo=None), NOW) == text  # naive = UTC
    assert present.relative_time(None, NOW) == "never"


@pytest.mark.parametrize(
    ("faction", "score"), [("faction1", "3 – 13"), ("faction2", "13 – 3"), (None, "3 – 13")]
)
def test_scores_read_from_the_players_side(faction: str | None, score: str) -> None:
    assert present.player_score(faction, 3, 13) == score
    assert present.player_score(faction, None, 13) == "–"


@pytest.mark.parametrize(
    ("key", "value", "text"),
    [
        ("win_rate_last10", 0.3077, "31%"),
        ("hs_pct_lifetime", 61.6871, "62%"),
        ("adr", 84.349, "84.3"),
        ("kd_last10", 0.6666, "0.67"),
        ("utility_dpr", 5.55, "5.5"),
        ("matches", 1234, "1,234"),
        ("kd", None, "–"),
    ],
)
def test_numbers_at_sensible_precision(key: str, value: float | None, text: str) -> None:
    assert present.stat_value(key, value) == text


def test_standing_stays_true_for_a_few_peers() -> None:
    assert present.standing(0.0, 2, "level-8") == "below all 2 level-8 players"
    assert present.standing(100.0, 1, "level-8 NA") == "above 1 level-8 NA player"
    assert (
        present.standing(61.6, 40, "level-3 EU") == "the 62nd percentile of 40 level-3 EU players"
    )
    assert [present.ordinal(n) for n in (1, 2, 3, 11, 12, 13, 21, 112)] == [
        "1st",
        "2nd",
        "3rd",
        "11th",
        "12th",
        "13th",
        "21st",
        "112th",
    ]


def test_labels_never_show_keys() -> None:
    assert present.stat_label("utility_dpr") == "Utility damage per round"
    assert present.stat_label("kd_last10") == "K/D (last 10)"
    assert present.stat_label("some_new_stat") == "Some new stat"
    assert present.map_label("de_mirage") == "Mirage" and present.map_label(None) == "Unknown map"
    assert present.role_phrase("Support") == "a support"
    assert present.role_phrase("AWPer") == "an AWPer" and present.role_phrase(None)
    assert [present.role_label(r) for r in ("AWPer", "Entry", "Support")] == [
        "AWPer",
        "Entry fragger",
        "Support",
    ]
    assert present.stat_change("kd", 0.67, 0.89) == "-0.22"
    assert present.stat_change("win_rate", 0.6, 0.5) == "+10 pts"
    # no change at the shown precision has no direction: no arrow, no colour
    for key, now, before, shown in (
        ("win_rate", 0.0, 0.0, "±0 pts"),
        ("win_rate", 0.5, 0.502, "±0 pts"),
        ("kd", 1.0, 1.001, "±0.00"),
        ("adr", 80.0, 80.01, "±0.0"),
    ):
        change = present.stat_change(key, now, before)
        assert change == shown and present.is_flat(change), (key, change)
    assert not present.is_flat(present.stat_change("win_rate", 0.51, 0.5) or "")
