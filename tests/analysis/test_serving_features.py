"""Materialized serving features (models.serving_features): a prediction from the stored rows
is the one computed from the history, and a row is never served once a new match or a model
promotion has made it stale."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import textwrap
import time
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select, text, update
from sqlalchemy.orm import Session, sessionmaker

from core import crud, store
from core.cache import FeatureCache
from core.cs2 import MAP_POOL
from core.db import transaction
from core.db.engine import make_engine, make_session_factory
from core.db.migrate import upgrade
from core.db.schema import Match, MatchPlayer, ModelVersion, Player, ServingFeatures
from models import history, registry, serving_features
from models import match_outcome as mo
from models.analysis import AnalysisModels, analyze_lineups
from tests.conftest import required_env
from tests.utils.trained_db import copy_database, trained_sqlite

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def trained_engine(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Engine]:
    """A small demo league ingested and trained, on SQLite and on PostgreSQL (a fresh schema),
    shared by the module's tests (each starts from freshly built rows: see ``models``). Both
    start from one build (tests.utils.trained_db): the SQLite file copied, its rows copied
    into PostgreSQL (ingesting and training there are tested in tests/ingest and
    tests/models)."""
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin: Engine | None = None
    built = trained_sqlite(tmp_path_factory.mktemp("serving"), 30, 500, seed=33)
    if request.param == "sqlite":
        engine = make_engine(f"sqlite:///{built}")
    else:
        url = required_env("TEST_DATABASE_URL")
        admin = make_engine(url)
        with admin.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        engine = make_engine(url, connect_args={"options": f"-csearch_path={schema}"})
    try:
        if request.param != "sqlite":
            upgrade(engine)
            source = make_engine(f"sqlite:///{built}")
            try:
                copy_database(source, engine)
            finally:
                source.dispose()
        yield engine
    finally:
        engine.dispose()
        if admin is not None:
            with admin.begin() as conn:
                conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
            admin.dispose()


@pytest.fixture
def trained(trained_engine: Engine) -> sessionmaker[Session]:
    """The module's league, every row rebuilt for today's key (what earlier tests poisoned or
    made stale starts over)."""
    sessions = make_session_factory(trained_engine)
    serving_features.materialize(sessions, None, None, fresh_models(sessions).serving_key())
    return sessions


def fresh_models(sessions: sessionmaker[Session], cache: FeatureCache | None = None) -> Any:
    return AnalysisModels.for_sessions(sessions, ttl=0.0, cache=cache)


def lineups(sessions: sessionmaker[Session], offset: int = 0) -> tuple[list[Player], list[Player]]:
    with sessions() as session:
        players = list(session.scalars(select(Player).order_by(Player.id).offset(offset).limit(10)))
        for p in players:
            session.expunge(p)
    return players[:5], players[5:]


def from_history(
    sessions: sessionmaker[Session], models: Any, team_a: list[Player], team_b: list[Player]
) -> dict[str, float]:
    """Lineup A's probability per map computed the old way: the ten histories, per map."""
    model = models.outcome_model()
    everyone = [*team_a, *team_b]
    with sessions() as session:
        frame = history.load(session, [p.id for p in everyone], columns=mo.HISTORY_COLUMNS)
        elos = crud.profile_elos(session, [p.id for p in everyone])
    current = {p: float(e) for p, e in elos.items() if e}
    ids_a, ids_b = [p.id for p in team_a], [p.id for p in team_b]
    return {
        m: mo.predict(model, ids_a, ids_b, m, frame, current_elo=current).probability
        for m in MAP_POOL
    }


def assert_same(result: Any, expected: dict[str, float]) -> None:
    assert set(result.per_map) == set(expected)
    for m, p in expected.items():
        assert abs(result.per_map[m] - p) < 1e-9, (m, result.per_map[m], p)
    assert abs(result.probability - expected[result.map]) < 1e-9


def names(team: list[Player]) -> list[str]:
    return [p.nickname for p in team]


def rows(sessions: sessionmaker[Session]) -> dict[str, dict[str, Any]]:
    with sessions() as session:
        return crud.serving_features(session, crud.all_player_ids(session))


def poison(sessions: sessionmaker[Session], player_id: str) -> None:
    """Make the player's stored row say something no history says (games = 1000 on every map),
    keeping its key: served, it would move every probability."""
    with transaction(sessions) as session:
        row = session.get(ServingFeatures, player_id)
        assert row is not None
        maps = {
            m: {**v, "games": 1000.0, "win_rate_20": 0.99} for m, v in row.payload["maps"].items()
        }
        row.payload = {**row.payload, "maps": maps}


def add_match(sessions: sessionmaker[Session], player_id: str) -> None:
    """A new finished match of the player (a copy of their latest, an hour later, won)."""
    with sessions() as session:
        last = session.scalars(
            select(MatchPlayer)
            .where(MatchPlayer.player_id == player_id)
            .order_by(MatchPlayer.finished_at.desc())
            .limit(1)
        ).one()
        match = session.get(Match, last.match_id)
        assert match is not None
        roster = list(session.scalars(select(MatchPlayer).where(MatchPlayer.match_id == match.id)))
        new_id = f"new-{uuid.uuid4().hex[:8]}"
        later = (match.finished_at or last.finished_at) + timedelta(hours=1)

        def as_row(obj: Any, **changes: Any) -> dict[str, Any]:
            cols = obj.__table__.columns.keys()
            values = {c: getattr(obj, c) for c in cols if c != "id"}
            return {**values, **changes}

        match_row = as_row(
            match, id=new_id, finished_at=later, started_at=later - timedelta(minutes=40)
        )
        player_rows = [
            as_row(r, match_id=new_id, finished_at=later, kills=(r.kills or 0) + 15) for r in roster
        ]
    with transaction(sessions) as session:
        store.upsert_matches(session, [match_row])
        store.upsert_match_players(session, player_rows)


def test_a_prediction_from_materialized_rows_is_the_one_from_history(
    trained: sessionmaker[Session],
) -> None:
    models = fresh_models(trained)
    for offset in (0, 10, 20):
        team_a, team_b = lineups(trained, offset)
        expected = from_history(trained, models, team_a, team_b)
        first = analyze_lineups(trained, models, names(team_a), names(team_b))  # builds rows
        assert_same(first, expected)
        again = analyze_lineups(trained, models, names(team_a), names(team_b))  # reads rows
        assert_same(again, expected)
        assert again.factors == first.factors and again.veto == first.veto
    stored = rows(trained)
    assert len(stored) == 30  # every player of the league, none for a player without matches
    assert {r["model_version"] for r in stored.values()} == {models.match_outcome.version}


def test_the_stored_row_is_what_is_served(trained: sessionmaker[Session]) -> None:
    """The control of the invalidation tests: a current row is read, not recomputed."""
    models = fresh_models(trained)
    team_a, team_b = lineups(trained)
    honest = analyze_lineups(trained, models, names(team_a), names(team_b), "de_mirage")
    poison(trained, team_a[0].id)
    served = analyze_lineups(trained, models, names(team_a), names(team_b), "de_mirage")
    assert abs(served.probability - honest.probability) > 0.01


def test_a_new_match_makes_the_row_stale(trained: sessionmaker[Session]) -> None:
    models = fresh_models(trained)
    team_a, team_b = lineups(trained)
    analyze_lineups(trained, models, names(team_a), names(team_b))
    before = rows(trained)[team_a[0].id]
    poison(trained, team_a[0].id)
    add_match(trained, team_a[0].id)
    result = analyze_lineups(trained, models, names(team_a), names(team_b))
    assert_same(result, from_history(trained, models, team_a, team_b))
    after = rows(trained)[team_a[0].id]
    assert after["watermark"] != before["watermark"]
    assert after["payload"] != before["payload"]


def test_a_promotion_makes_every_row_stale(trained: sessionmaker[Session]) -> None:
    models = fresh_models(trained)
    team_a, team_b = lineups(trained)
    analyze_lineups(trained, models, names(team_a), names(team_b))
    old_version = models.match_outcome.version
    poison(trained, team_a[0].id)
    with transaction(trained) as session:
        champion = session.scalars(
            select(ModelVersion).where(
                ModelVersion.name == registry.MATCH_OUTCOME, ModelVersion.promoted.is_(True)
            )
        ).one()
        newer = registry.register(
            session,
            registry.MATCH_OUTCOME,
            champion.artifact,
            champion.metrics,
            champion.feature_version,
        )
        registry.promote(session, newer)
    result = analyze_lineups(trained, models, names(team_a), names(team_b))
    assert models.match_outcome.version != old_version
    assert result.model_version == models.match_outcome.version
    assert_same(result, from_history(trained, models, team_a, team_b))
    assert rows(trained)[team_a[0].id]["model_version"] == models.match_outcome.version


def test_the_cache_in_front_is_keyed_by_the_watermark(
    trained: sessionmaker[Session], redis_url: str
) -> None:
    cache = FeatureCache(redis_url, prefix=f"t-{uuid.uuid4().hex[:8]}", ttl_seconds=600)
    try:
        models = fresh_models(trained, cache)
        team_a, team_b = lineups(trained)
        expected = from_history(trained, models, team_a, team_b)
        assert_same(analyze_lineups(trained, models, names(team_a), names(team_b)), expected)
        # the table emptied: the answer now comes from Redis alone, and is the same
        with transaction(trained) as session:
            session.execute(ServingFeatures.__table__.delete())
        assert_same(analyze_lineups(trained, models, names(team_a), names(team_b)), expected)
        # a new match changes the key: the cached row is not served
        add_match(trained, team_b[0].id)
        assert_same(
            analyze_lineups(trained, models, names(team_a), names(team_b)),
            from_history(trained, models, team_a, team_b),
        )
    finally:
        cache.clear()
        cache.close()


def test_concurrent_requests_while_a_row_is_rebuilt_are_all_right(
    trained: sessionmaker[Session],
) -> None:
    models = fresh_models(trained)
    team_a, team_b = lineups(trained)
    analyze_lineups(trained, models, names(team_a), names(team_b))
    poison(trained, team_a[0].id)
    add_match(trained, team_a[0].id)
    expected = from_history(trained, models, team_a, team_b)

    async def burst() -> list[Any]:
        return await asyncio.gather(
            *(
                asyncio.to_thread(analyze_lineups, trained, models, names(team_a), names(team_b))
                for _ in range(8)
            )
        )

    for result in asyncio.run(burst()):
        assert_same(result, expected)


KILLED_REBUILD = textwrap.dedent(
    """
    import sys
    from pathlib import Path

    from core import store
    from core.db.engine import make_engine, make_session_factory
    from models import serving_features

    url, schema, marker = sys.argv[1], sys.argv[2], Path(sys.argv[3])
    options = {"connect_args": {"options": f"-csearch_path={schema}"}} if schema else {}
    sessions = make_session_factory(make_engine(url, **options))
    write = store.upsert_serving_features

    def write_then_hang(session, rows):
        write(session, rows)
        session.flush()
        marker.with_suffix(".tmp").write_text(str(len(rows)))
        marker.with_suffix(".tmp").rename(marker)
        sys.stdin.read()  # killed here: the rows are written, not committed

    serving_features.store.upsert_serving_features = write_then_hang
    serving_features.materialize(sessions, None, None, serving_features.ServingKey(999))
    """
)


def test_a_killed_rebuild_leaves_no_half_row(
    trained: sessionmaker[Session], trained_engine: Engine, tmp_path: Path
) -> None:
    engine = trained_engine
    models = fresh_models(trained)
    team_a, team_b = lineups(trained)
    expected = from_history(trained, models, team_a, team_b)
    analyze_lineups(trained, models, names(team_a), names(team_b))
    before = rows(trained)
    schema = ""
    if engine.dialect.name == "postgresql":
        with engine.connect() as conn:
            schema = str(conn.execute(text("SHOW search_path")).scalar())
    url = engine.url.render_as_string(hide_password=False)
    marker = tmp_path / "written"
    proc = subprocess.Popen(
        [sys.executable, "-c", KILLED_REBUILD, url, schema, str(marker)],
        cwd=REPO,
        stdin=subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    try:
        deadline = time.monotonic() + 300
        while not marker.exists():
            assert proc.poll() is None, "the rebuild ended before writing its rows"
            assert time.monotonic() < deadline, "the rebuild never wrote its rows"
            time.sleep(0.05)
        assert int(marker.read_text()) == 30
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.kill()
        proc.wait()
    assert rows(trained) == before  # none of the killed run's rows, every earlier one whole
    assert_same(analyze_lineups(trained, models, names(team_a), names(team_b)), expected)


def test_players_without_matches_are_told(trained: sessionmaker[Session]) -> None:
    models = fresh_models(trained)
    team_a, team_b = lineups(trained)
    with transaction(trained) as session:
        session.add(Player(id="no-matches-yet", nickname="newcomer_zero"))
        session.execute(update(Player).where(Player.id == "no-matches-yet").values(faceit_elo=1200))
    from models.analysis import AnalysisError

    with pytest.raises(AnalysisError, match="No matches stored yet for: newcomer_zero"):
        analyze_lineups(trained, models, ["newcomer_zero", *names(team_a)[1:]], names(team_b))
    assert "no-matches-yet" not in rows(trained)
    with transaction(trained) as session:
        session.execute(Player.__table__.delete().where(Player.id == "no-matches-yet"))


def test_the_bulk_rebuild_equals_one_player_at_a_time(trained: sessionmaker[Session]) -> None:
    key = serving_features.ServingKey(7)
    everyone = serving_features.materialize(trained, None, None, key)
    team_a, _ = lineups(trained)
    alone = serving_features.materialize(trained, None, [team_a[0].id], key)
    assert alone[team_a[0].id] == everyone[team_a[0].id]


def test_a_refresh_after_ingest_rebuilds_only_the_changed_rows(
    trained: sessionmaker[Session],
) -> None:
    """What the ingest flows and the live worker call with the players an ingest changed."""
    team_a, _ = lineups(trained)
    before = rows(trained)
    add_match(trained, team_a[0].id)  # a match of ten players
    with trained() as session:
        marks = history.serving_watermarks(session, list(before))
    changed = sorted(p for p in before if marks[p] != before[p]["watermark"])
    assert team_a[0].id in changed and len(changed) == 10
    assert serving_features.refresh(trained, None, changed) == 10
    after = rows(trained)
    assert all(after[p]["watermark"] == marks[p] for p in before)
    assert all(after[p] == before[p] for p in before if p not in changed)
    assert serving_features.refresh(trained, None, []) == 0
