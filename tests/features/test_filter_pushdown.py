"""A filtered load (models.history.load(flt=...)) sends the filter's date range, maps, team
and result to the database, so a filtered view reads only the rows it keeps: it must keep
exactly the rows models.filters.apply keeps of the whole history, on SQLite and PostgreSQL,
at the edges of the UTC day (the match's start, else the player's end, else the match's end),
with a player row that has no time or map of its own and with a premade flag FACEIT did not
give."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta

import pytest
from polars.testing import assert_frame_equal
from sqlalchemy.orm import Session, sessionmaker

from core.db.schema import Match, MatchPlayer, Player
from models import filters, history
from models.dashboard import HISTORY_COLUMNS
from models.filters import WEEKDAYS, MatchFilter

MAPS = ("de_mirage", "de_nuke", "de_inferno")
DAY = date(2025, 3, 10)
MIDNIGHT = datetime(2025, 3, 10, tzinfo=UTC)


def seed(session: Session, rng: random.Random) -> None:
    session.add_all([Player(id="p1", nickname="One"), Player(id="p2", nickname="Two")])
    # times around midnight of a few days, one second either side, and spread over weeks
    moments = [MIDNIGHT + timedelta(days=d, seconds=s) for d in (-1, 0, 1) for s in (-1, 0, 1)]
    moments += [
        MIDNIGHT + timedelta(minutes=rng.randrange(-30 * 1440, 30 * 1440)) for _ in range(50)
    ]
    for i, moment in enumerate(moments):
        shape = i % 3  # started_at known / only the player's end / only the match's end
        match_map = rng.choice(MAPS)
        session.add(
            Match(
                id=f"m{i:03d}",
                map=match_map,
                rounds=24,
                started_at=moment if shape == 0 else None,
                finished_at=moment + timedelta(minutes=40) if shape != 1 else moment,
                winner_faction="faction1",
            )
        )
        session.flush()
        for player in ("p1", "p2"):
            session.add(
                MatchPlayer(
                    match_id=f"m{i:03d}",
                    player_id=player,
                    faction="faction1",
                    finished_at=moment if shape == 1 else None,
                    map=None if i % 4 == 0 else match_map,
                    result=rng.random() < 0.5,
                    premade=rng.choice([True, False, None]),
                    kills=rng.randrange(30),
                    deaths=rng.randrange(30),
                    assists=3,
                    headshots=5,
                    headshots_pct=30.0,
                    mvps=1,
                    kd_ratio=1.0,
                    kr_ratio=0.7,
                    damage=rng.choice([None, 2000]),
                )
            )


def some_filters(rng: random.Random) -> list[MatchFilter]:
    edges = [DAY + timedelta(days=d) for d in (-2, -1, 0, 1)]
    out = [
        MatchFilter(since=DAY),
        MatchFilter(until=DAY),
        MatchFilter(since=DAY, until=DAY),
        MatchFilter(since=DAY - timedelta(days=1), until=DAY - timedelta(days=1)),
        MatchFilter(map=["de_mirage"]),
        MatchFilter(team="premade"),
        MatchFilter(team="solo"),
        MatchFilter(result="win"),
        MatchFilter(result="loss", map=["de_nuke", "de_inferno"], since=DAY),
        MatchFilter(weekday=["mon"], hour_from=0, hour_to=0),
    ]
    for _ in range(40):
        since, until = sorted(rng.sample(edges, 2))
        out.append(
            MatchFilter(
                since=rng.choice([None, since]),
                until=rng.choice([None, until]),
                map=rng.sample(MAPS, rng.randrange(3)),
                weekday=rng.sample(WEEKDAYS, rng.randrange(3)),
                team=rng.choice([None, "premade", "solo"]),
                result=rng.choice([None, "win", "loss"]),
            )
        )
    return out


@pytest.mark.parametrize("columns", [HISTORY_COLUMNS, ("finished_at",), None])
def test_a_filtered_load_keeps_what_the_filter_keeps_of_the_whole_history(
    sessions: sessionmaker[Session], columns: tuple[str, ...] | None
) -> None:
    rng = random.Random(15)
    with sessions.begin() as session:
        seed(session, rng)
    with sessions() as session:
        whole = history.load(session, ["p1"])
        sizes = []
        for flt in some_filters(rng):
            assert flt.active
            pushed = history.load(session, ["p1"], columns=columns, flt=flt)
            want = filters.apply(whole, flt).select(history.columns_for(columns))
            assert_frame_equal(pushed, want)
            if not flt.weekday and flt.hour_from is None and flt.hour_to is None:
                # what SQL answers alone, the database already keeps exactly: it sends no
                # row the view drops
                sent = history._load(session, ["p1"], None, list(want.columns), flt)
                assert sent.height == want.height
            assert set(pushed["player_id"]) <= {"p1"}  # p2 played the same matches
            sizes.append(want.height)
    # the filters keep some rows and drop others (the comparison is not of empty frames)
    assert sum(0 < size < whole.height for size in sizes) > len(sizes) // 2


def test_an_empty_filter_loads_every_row(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        seed(session, random.Random(3))
    with sessions() as session:
        assert_frame_equal(
            history.load(session, ["p1"], flt=MatchFilter()), history.load(session, ["p1"])
        )
