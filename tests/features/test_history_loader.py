"""The PostgreSQL history loader (one query joined, derived and sorted by the server, parsed in
pieces) returns the frame the portable loader (two queries joined, derived and sorted by polars)
returns, on a small demo league with legacy matches (extended stats NULL), player rows without
their own time or map, matches without a start, missing Elo points and hostile text."""

from __future__ import annotations

from datetime import date, timedelta

import polars as pl
import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from core import store
from core.db import columnar, transaction
from core.db.engine import make_session_factory
from core.demo_league import generate_league
from models import features, history
from models import match_outcome as mo
from models.filters import MatchFilter
from pipelines.train import TRAINING_COLUMNS, load_history
from tests.utils.stored_history import matches_of, store_matches

HOSTILE = ["tab\there", "new\nline", "back\\slash", "\\N", "", "ünïcødé ✓"]


def stored_league(sessions: sessionmaker[Session]) -> pl.DataFrame:
    """A 40-player league written into the database (its legacy matches with NULL extended
    stats, as an ingest stores them); returns the frame that was written."""
    league = generate_league(40, 200, seed=11, span_days=1400)
    frame = history.from_league(league).with_row_index("i")
    i = pl.col("i")
    frame = frame.with_columns(
        # a player row without its own time or map takes the match's
        pl.when(i % 7 == 0).then(None).otherwise(pl.col("finished_at")).alias("player_finished"),
        pl.when(i % 5 == 0).then(None).otherwise(pl.col("map")).alias("player_map"),
        pl.when(i % 11 == 0)
        .then(pl.lit(HOSTILE).list.get((i // 11) % len(HOSTILE)))
        .otherwise(pl.col("nickname"))
        .alias("nickname"),
    )
    assert frame.filter(~pl.col("extended")).height > 100, "the league has legacy matches"
    matches = matches_of(frame)
    # some matches without a start (ts is their end), a few without a time at all (the rows
    # without their own time have no ts: sorted first)
    ends = pl.col("match_id").str.ends_with
    matches = matches.with_columns(
        pl.when(ends("3") | ends("0")).then(None).otherwise("started_at").alias("started_at"),
        pl.when(ends("0")).then(None).otherwise("finished_at").alias("finished_at"),
    )
    rows = frame.drop("finished_at", "map").rename(
        {"player_finished": "finished_at", "player_map": "map"}
    )
    with transaction(sessions) as session:
        store.upsert_players(
            session,
            [
                {"id": r["player_id"], "nickname": r["nickname"]}
                for r in league.players_frame().iter_rows(named=True)
            ],
        )
        store_matches(session, matches, rows)
        # Elo points for two rows in three; one estimated; one recorded without a match
        elo = frame.filter(i % 3 != 0).select(
            "player_id",
            "match_id",
            pl.col("elo_after").alias("elo"),
            pl.col("finished_at").alias("recorded_at"),
            (i % 4 == 0).alias("estimated"),
        )
        store.upsert_elo_history(session, elo.to_dicts())
        first = frame.row(0, named=True)
        store.upsert_elo_history(
            session,
            [
                {
                    "player_id": first["player_id"],
                    "match_id": None,
                    "elo": 1234,
                    "recorded_at": first["finished_at"] - timedelta(days=1),
                    "estimated": False,
                }
            ],
        )
    return frame


def assert_same(got: pl.DataFrame, expected: pl.DataFrame) -> None:
    assert got.schema == expected.schema
    assert got.height == expected.height
    differ = ~pl.all_horizontal(pl.col(c).eq_missing(expected[c]) for c in expected.columns)
    assert got.equals(expected, null_equal=True), got.filter(differ)


@pytest.mark.parametrize("chunk_bytes", [4096, 1 << 20])
def test_the_server_sorted_loader_equals_the_portable_one(
    pg_engine: Engine, monkeypatch: pytest.MonkeyPatch, chunk_bytes: int
) -> None:
    sessions = make_session_factory(pg_engine)
    written = stored_league(sessions)
    # 4 KiB pieces: the stream is cut into dozens, parsed by the second thread
    monkeypatch.setattr(columnar, "CHUNK_BYTES", chunk_bytes)
    some_players = written["player_id"].unique().sort().head(7).to_list()
    some_matches = written["match_id"].unique().sort().tail(9).to_list()
    with sessions() as session:
        cases = {
            "everything": ({}, None),
            "training": ({}, TRAINING_COLUMNS),
            "vocabulary": ({}, features.INPUT_COLUMNS),
            "model": ({"players": some_players}, mo.HISTORY_COLUMNS),
            "lobbies": ({"matches": some_matches}, None),
            "filtered": (
                {
                    "players": some_players,
                    "flt": MatchFilter(
                        since=date(2023, 1, 1),
                        map=["de_mirage", "de_nuke"],
                        result="win",
                        weekday=["sat", "sun", "mon", "tue"],
                    ),
                },
                features.INPUT_COLUMNS,
            ),
        }
        for name, (where, columns) in cases.items():
            got = history.load(session, columns=columns, **where)  # type: ignore[arg-type]
            expected = history.load_joined(session, columns=columns, **where)  # type: ignore[arg-type]
            assert got.height > 0, name
            assert_same(got, expected)
        training = load_history(session)
        everything = history.load(session)

    assert everything.height == written.height
    assert everything.equals(everything.sort(history.SORT))
    # what the NULLs mean survived: legacy matches' extended stats are null, never 0, and
    # a row without an Elo point has none
    legacy = everything.filter(~pl.col("extended"))
    assert legacy.height == written.filter(~pl.col("extended")).height
    for column in (*history.EXTENDED_COUNTS, *history.EXTENDED_RATES):
        assert legacy[column].null_count() == legacy.height, column
    assert everything["elo_after"].null_count() == written.filter(pl.col("i") % 3 == 0).height
    assert everything["elo_before"].null_count() == everything.height
    assert set(HOSTILE) <= set(everything["nickname"].to_list())
    # the player rows without their own time or map were given the match's
    assert everything["map"].null_count() == 0
    timeless = written.filter((pl.col("i") % 7 == 0) & pl.col("match_id").str.ends_with("0"))
    assert timeless.height > 0
    assert everything["ts"].null_count() == everything["finished_at"].null_count()
    assert everything["ts"].null_count() == timeless.height
    assert training.columns == history.columns_for(TRAINING_COLUMNS)
    assert_same(training, everything.select(training.columns))


def test_the_teammates_elo_of_a_player_loaded_alone_is_from_all_his_teammates(
    pg_engine: Engine,
) -> None:
    # The model's teammates' Elo edge must be the same in training (everyone loaded) and in
    # serving (the lineup's players loaded): each row's mates_elo is the mean pre-match Elo of
    # the other players of its faction whose Elo point is recorded, null when none is.
    sessions = make_session_factory(pg_engine)
    written = stored_league(sessions)
    recorded = written.with_columns(
        pl.when(pl.col("i") % 3 != 0).then(pl.col("elo_after")).alias("elo_after")
    )
    expected = history.with_mates_elo(recorded).select("player_id", "match_id", "mates_elo")
    player = written["player_id"].unique().sort()[3]
    with sessions() as session:
        alone = {
            "server": history.load(session, [player], columns=mo.HISTORY_COLUMNS),
            "portable": history.load_joined(session, [player], columns=mo.HISTORY_COLUMNS),
        }
    for name, frame in alone.items():
        got = frame.select("player_id", "match_id", "mates_elo").join(
            expected, on=["player_id", "match_id"], suffix="_expected"
        )
        assert got.height == frame.height > 10, name
        assert got["mates_elo"].null_count() < got.height, name
        assert (
            got.select((pl.col("mates_elo") - pl.col("mates_elo_expected")).abs().max()).item()
            < 1e-9
        ), name
        assert got["mates_elo"].is_null().eq(got["mates_elo_expected"].is_null()).all(), name
    # a teammate's pre-match Elo is his recorded point one step back (up after a loss)
    row = (
        expected.join(written, on=["player_id", "match_id"])
        .filter(pl.col("mates_elo").is_not_null())
        .row(0, named=True)
    )
    mates = recorded.filter(
        (pl.col("match_id") == row["match_id"])
        & (pl.col("faction") == row["faction"])
        & (pl.col("player_id") != row["player_id"])
        & pl.col("elo_after").is_not_null()
    )
    by_hand = [e - 25 if won else e + 25 for e, won in mates.select("elo_after", "result").rows()]
    assert row["mates_elo"] == pytest.approx(sum(by_hand) / len(by_hand))


def test_an_empty_selection_and_an_empty_database(pg_engine: Engine) -> None:
    sessions = make_session_factory(pg_engine)
    with sessions() as session:
        nothing = history.load(session, columns=TRAINING_COLUMNS)
        nobody = history.load(session, ["nobody"])
    assert nothing.height == 0 and nothing.columns == history.columns_for(TRAINING_COLUMNS)
    assert nobody.height == 0 and nobody.schema == pl.Schema(history.HISTORY_SCHEMA)
