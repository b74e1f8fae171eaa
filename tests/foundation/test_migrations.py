from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Engine, inspect, select

from core.db.engine import make_session_factory
from core.db.migrate import current_revision, downgrade, head_revision, upgrade
from core.db.schema import Base, Match, MatchPlayer, Player

EXPECTED_TABLES = {
    "players",
    "elo_history",
    "matches",
    "match_players",
    "ingest_state",
    "quarantine",
    "users",
    "subscriptions",
    "stripe_events",
    "model_versions",
    "audit_log",
}


def test_upgrade_creates_every_table_and_is_idempotent(empty_engine: Engine) -> None:
    upgrade(empty_engine)
    upgrade(empty_engine)
    tables = set(inspect(empty_engine).get_table_names())
    assert tables >= EXPECTED_TABLES
    assert current_revision(empty_engine) == head_revision(empty_engine)


def test_migrated_schema_matches_the_orm(empty_engine: Engine) -> None:
    upgrade(empty_engine)
    inspector = inspect(empty_engine)
    for table in Base.metadata.sorted_tables:
        columns = {column["name"]: column for column in inspector.get_columns(table.name)}
        assert set(columns) == set(table.columns.keys()), table.name
        for name, column in table.columns.items():  # a missing stat must be storable as NULL
            assert columns[name]["nullable"] == column.nullable, f"{table.name}.{name}"
    player_time = [ix["column_names"] for ix in inspector.get_indexes("match_players")]
    assert ["player_id", "finished_at"] in player_time


def test_downgrade_then_upgrade_round_trips(empty_engine: Engine) -> None:
    upgrade(empty_engine)
    downgrade(empty_engine, "base")
    assert not EXPECTED_TABLES & set(inspect(empty_engine).get_table_names())
    assert current_revision(empty_engine) is None
    upgrade(empty_engine)
    assert set(inspect(empty_engine).get_table_names()) >= EXPECTED_TABLES


def test_rows_round_trip_with_aware_utc_times(engine: Engine) -> None:
    finished = datetime(2026, 3, 16, 23, 22, 42, tzinfo=UTC)
    sessions = make_session_factory(engine)
    with sessions.begin() as session:
        session.add(Player(id="p1", nickname="Darwin", faceit_elo=2014, skill_level=10))
        session.add(Match(id="m1", map="de_inferno", finished_at=finished, rounds=24))
        session.flush()
        session.add(
            MatchPlayer(
                match_id="m1",
                player_id="p1",
                faction="faction1",
                finished_at=finished,
                result=True,
                kills=19,
                deaths=15,
                assists=2,
                headshots=9,
                headshots_pct=47.0,
                mvps=2,
                kd_ratio=1.27,
                kr_ratio=0.79,
                double_kills=5,
                triple_kills=0,
                quadro_kills=0,
                penta_kills=0,
                adr=None,
            )
        )
    with sessions() as session:
        row = session.scalars(select(MatchPlayer)).one()
        assert row.finished_at == finished and row.finished_at.tzinfo is not None
        assert row.adr is None and row.kills == 19
