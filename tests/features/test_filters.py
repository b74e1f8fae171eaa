"""The one match filter (models.filters): the rows it keeps are the rows a brute-force reading
of the same history keeps, and the stats of the kept rows are the brute-force sums, over
generated histories that mix matches with FACEIT's extended stats and legacy ones without
(damage null), and premade flags FACEIT did not give (null). Then the URL reading: a refused
value is named in a sentence and left out, the rest of the filter still applies."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from models import features, filters
from models.filters import WEEKDAYS, MatchFilter, from_query
from models.history import HISTORY_SCHEMA

MAPS = ("de_mirage", "de_nuke", "de_inferno")
START = datetime(2024, 6, 1, tzinfo=UTC)
DAYS = 90


@st.composite
def histories(draw: Any) -> list[dict[str, Any]]:
    count = draw(st.integers(0, 40))
    rows = []
    for i in range(count):
        when = START + timedelta(minutes=draw(st.integers(0, DAYS * 24 * 60)))
        extended = draw(st.booleans())
        rounds = draw(st.integers(16, 30))
        rows.append(
            {
                "player_id": "p1",
                "match_id": f"m{i:03d}",
                "started_at": when,
                "finished_at": when + timedelta(minutes=40),
                "ts": int(when.timestamp()),
                "map": draw(st.sampled_from(MAPS)),
                "rounds": rounds,
                "result": draw(st.booleans()),
                "premade": draw(st.sampled_from([True, False, None])),
                "kills": draw(st.integers(0, 35)),
                "deaths": draw(st.integers(0, 30)),
                "extended": extended,
                "damage": draw(st.integers(0, 3500)) if extended else None,  # legacy: not recorded
            }
        )
    return rows


GENERATED = ("player_id", "match_id", "started_at", "finished_at", "ts", "map", "rounds")
GENERATED += ("result", "premade", "kills", "deaths", "extended", "damage")


def frame_of(rows: list[dict[str, Any]]) -> pl.DataFrame:
    schema = {c: HISTORY_SCHEMA[c] for c in (list(rows[0]) if rows else GENERATED)}
    return pl.DataFrame(rows, schema=schema) if rows else pl.DataFrame(schema=schema)


days = st.dates(START.date() - timedelta(days=5), START.date() + timedelta(days=DAYS + 5))
hours = st.integers(0, 23)


@st.composite
def match_filters(draw: Any) -> MatchFilter:
    since, until = draw(st.none() | days), draw(st.none() | days)
    if since and until and since > until:
        since, until = until, since
    low, high = draw(st.none() | hours), draw(st.none() | hours)
    if low is not None and high is not None and low > high:
        low, high = high, low
    return MatchFilter(
        since=since,
        until=until,
        map=draw(st.lists(st.sampled_from(MAPS), unique=True, max_size=2)),
        weekday=draw(st.lists(st.sampled_from(WEEKDAYS), unique=True, max_size=3)),
        hour_from=low,
        hour_to=high,
        team=draw(st.sampled_from([None, "premade", "solo"])),
        result=draw(st.sampled_from([None, "win", "loss"])),
    )


def kept_by_hand(row: dict[str, Any], flt: MatchFilter) -> bool:
    """The filter read literally, one row at a time."""
    when = datetime.fromtimestamp(row["ts"], UTC)
    checks = [
        flt.since is None or when.date() >= flt.since,
        flt.until is None or when.date() <= flt.until,
        not flt.map or row["map"] in flt.map,
        not flt.weekday or WEEKDAYS[when.weekday()] in flt.weekday,
        flt.hour_from is None or when.hour >= flt.hour_from,
        flt.hour_to is None or when.hour <= flt.hour_to,
        flt.team is None or row["premade"] is (flt.team == "premade"),
        flt.result is None or row["result"] is (flt.result == "win"),
    ]
    return all(checks)


@settings(max_examples=150, deadline=None)
@given(histories(), match_filters())
def test_the_filter_keeps_what_a_brute_force_reading_keeps(
    rows: list[dict[str, Any]], flt: MatchFilter
) -> None:
    kept = filters.apply(frame_of(rows), flt)
    assert kept["match_id"].to_list() == [r["match_id"] for r in rows if kept_by_hand(r, flt)]


@settings(max_examples=100, deadline=None)
@given(histories(), match_filters())
def test_the_stats_of_the_kept_matches_are_their_sums(
    rows: list[dict[str, Any]], flt: MatchFilter
) -> None:
    chosen = [r for r in rows if kept_by_hand(r, flt)]
    stats = features.window_stats(filters.apply(frame_of(rows), flt))
    if not chosen:
        assert stats.is_empty()
        return
    got = stats.row(0, named=True)
    assert got["matches"] == len(chosen)
    deaths = sum(r["deaths"] for r in chosen)
    kd = sum(r["kills"] for r in chosen) / deaths if deaths else None
    assert got["kd"] == pytest.approx(kd)
    # ADR: the legacy matches (no damage recorded) count in neither damage nor rounds
    extended = [r for r in chosen if r["damage"] is not None]
    adr = (
        sum(r["damage"] for r in extended) / sum(r["rounds"] for r in extended)
        if extended
        else None
    )
    assert got["adr"] == pytest.approx(adr)
    assert got["win_rate"] == pytest.approx(sum(r["result"] for r in chosen) / len(chosen))


@settings(max_examples=100, deadline=None)
@given(match_filters())
def test_a_filter_survives_its_url(flt: MatchFilter) -> None:
    query = flt.query()
    params = {k: v if isinstance(v, list) else [v] for k, v in query.items()}
    again, refused = from_query(params)
    assert refused == [] and again == flt and again.key() == flt.key()


def test_no_filter_keeps_every_match_and_says_so() -> None:
    flt, refused = from_query({"player": ["someone"]})
    assert flt == MatchFilter() and not flt.active and flt.key() == "all" and refused == []


@pytest.mark.parametrize(
    ("params", "kept", "said"),
    [
        (
            {"hour_from": ["99"], "result": ["win"]},
            {"result": "win"},
            "From hour “99” is not an hour",
        ),
        (
            {"map": ["<script>alert(1)</script>", "de_nuke"]},
            {"map": ["de_nuke"]},
            "Map “<script>alert(1)</script>” is not a map of CS2",
        ),
        (
            {"since": ["2025-05-01"], "until": ["2025-01-01"], "team": ["solo"]},
            {"team": "solo"},
            "The date range ends (2025-01-01) before it starts (2025-05-01): both are ignored.",
        ),
        ({"hour_from": ["20"], "hour_to": ["3"]}, {}, "The hours end (3) before they start (20)"),
        ({"map": ["de_nuke'; DROP TABLE matches;--"]}, {}, "is not a map of CS2"),
        ({"weekday": ["**bold**"], "map": ["de_\x00nuke"]}, {}, "Weekday “**bold**” is not one of"),
        ({"since": ["yesterday"], "until": ["2025-13-01"]}, {}, "From “yesterday” is not a date"),
        ({"result": ["draw"], "team": ["five"]}, {}, "Result “draw” is not win or loss"),
    ],
)
def test_a_refused_url_value_is_named_and_ignored(
    params: dict[str, list[str]], kept: dict[str, Any], said: str
) -> None:
    flt, refused = from_query(params)
    assert flt.query() == kept
    assert any(said in sentence for sentence in refused), refused
    dropped = sum(len(v) for k, v in params.items() if k not in kept) + sum(
        len(v) - len(kept[k]) for k, v in params.items() if k in kept and isinstance(kept[k], list)
    )
    pairs = sum(1 for s in refused if "both are ignored" in s)
    assert len(refused) + pairs == dropped, refused  # one sentence per refused value


def test_a_long_hostile_value_is_shortened_in_the_sentence() -> None:
    _flt, refused = from_query({"map": ["x" * 500]})
    assert len(refused) == 1 and len(refused[0]) < 120


def test_times_are_read_in_utc_from_the_match_start() -> None:
    # Sunday 23:30 UTC: Monday in Europe, but the filter reads UTC (and says so on the page)
    start = datetime(2025, 6, 1, 23, 30, tzinfo=UTC)
    frame = frame_of(
        [
            {
                "player_id": "p1",
                "match_id": "m1",
                "started_at": start,
                "finished_at": start + timedelta(minutes=45),
                "ts": int(start.timestamp()),
                "map": "de_nuke",
                "result": True,
                "premade": None,
            }
        ]
    )
    on = MatchFilter(weekday=["sun"], hour_from=23, since=date(2025, 6, 1), until=date(2025, 6, 1))
    assert filters.apply(frame, on).height == 1
    assert filters.apply(frame, MatchFilter(weekday=["mon"])).height == 0
    # FACEIT gave no premade flag: kept without a team filter, dropped by either team filter
    assert filters.apply(frame, MatchFilter(team="solo")).height == 0
    assert filters.apply(frame, MatchFilter(team="premade")).height == 0
