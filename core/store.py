"""Bulk, idempotent writes of ingested data: INSERT ... ON CONFLICT on SQLite and PostgreSQL.

On PostgreSQL, batches of COPY_THRESHOLD rows or more are COPYed straight into the table inside a
SAVEPOINT (ingestion only hands over rows that are new, so that is the common case and costs one
write per row); when a row is already there (UniqueViolation) the savepoint is rolled back and the
rows go through COPY into a temporary staging table (one per connection) and one
INSERT ... SELECT ... ON CONFLICT merge. Rows are written in key order, so overlapping upserts of
concurrent transactions lock rows in the same order and cannot deadlock. Every function writes
inside the caller's transaction, so a batch is all or nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from operator import itemgetter
from typing import Any

from psycopg import errors as pg_errors
from sqlalchemy import Table, func, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from core.db.schema import (
    EloHistory,
    IngestState,
    Match,
    MatchPlayer,
    Player,
    ProfileFetch,
    Quarantine,
    ServingFeatures,
)
from core.db.types import utcnow

Row = Mapping[str, Any]
COPY_THRESHOLD = 50
MAX_PAYLOAD_CHARS = 200_000


def insert_for(session: Session, table: Table) -> Any:
    """An INSERT of the session's dialect (SQLite or PostgreSQL: both have ON CONFLICT)."""
    dialect = session.get_bind().dialect.name
    return (postgresql if dialect == "postgresql" else sqlite).insert(table)


def upsert(
    session: Session,
    table: Table,
    rows: Sequence[Row],
    *,
    keys: Sequence[str],
    update_columns: Iterable[str] | None = None,
) -> None:
    """Insert rows; on a key conflict update `update_columns` (all non-key columns by default)."""
    if not rows:
        return
    columns = list(rows[0].keys())
    updates = [
        c for c in (update_columns if update_columns is not None else columns) if c not in keys
    ]
    rows = sorted(rows, key=itemgetter(*keys))  # one lock order for every writer
    if session.get_bind().dialect.name == "postgresql" and len(rows) >= COPY_THRESHOLD:
        _copy_upsert(session, table, rows, columns, keys, updates)
        return
    statement = insert_for(session, table)
    if updates:
        statement = statement.on_conflict_do_update(
            index_elements=list(keys), set_={c: statement.excluded[c] for c in updates}
        )
    else:
        statement = statement.on_conflict_do_nothing(index_elements=list(keys))
    for start in range(0, len(rows), 2000):
        session.execute(statement, [dict(r) for r in rows[start : start + 2000]])


def _copy_upsert(
    session: Session,
    table: Table,
    rows: Sequence[Row],
    columns: list[str],
    keys: Sequence[str],
    updates: list[str],
) -> None:
    # COPY bypasses SQLAlchemy: fill in the Python-side defaults (created_at...) it would add.
    defaults = _python_defaults(table, columns)
    extra = tuple(defaults.values())
    quoted = ", ".join(f'"{c}"' for c in [*columns, *defaults])
    if _copy_new(session, table, rows, columns, quoted, extra):
        return
    with _raw_connection(session).cursor() as cursor:
        staging = _staging_table(cursor, table.name)
        _copy_rows(cursor, staging, quoted, columns, rows, extra)
        conflict = ", ".join(f'"{k}"' for k in keys)
        action = (
            "DO UPDATE SET " + ", ".join(f'"{c}" = EXCLUDED."{c}"' for c in updates)
            if updates
            else "DO NOTHING"
        )
        cursor.execute(
            f'INSERT INTO "{table.name}" ({quoted}) SELECT {quoted} FROM "{staging}" '  # noqa: S608
            f"ON CONFLICT ({conflict}) {action}"
        )
        cursor.execute(f'DELETE FROM "{staging}"')  # noqa: S608  (empty for a later call)


def _raw_connection(session: Session) -> Any:
    raw: Any = session.connection().connection.dbapi_connection  # a psycopg.Connection
    assert raw is not None
    return raw


def _copy_new(
    session: Session,
    table: Table,
    rows: Sequence[Row],
    columns: list[str],
    quoted: str,
    extra: tuple[Any, ...] = (),
) -> bool:
    """COPY ``rows`` straight into ``table`` inside a SAVEPOINT: True when every row was new
    (stored), False when one was already there (nothing written, the savepoint rolled back)."""
    with _raw_connection(session).cursor() as cursor:
        cursor.execute("SAVEPOINT copy_upsert")
        try:
            _copy_rows(cursor, table.name, quoted, columns, rows, extra)
        except pg_errors.UniqueViolation:
            cursor.execute("ROLLBACK TO SAVEPOINT copy_upsert")
            cursor.execute("RELEASE SAVEPOINT copy_upsert")
            return False
        cursor.execute("RELEASE SAVEPOINT copy_upsert")
        return True


def _copy_rows(
    cursor: Any,
    table: str,
    quoted: str,
    columns: list[str],
    rows: Sequence[Row],
    extra: tuple[Any, ...] = (),
) -> None:
    values = itemgetter(*columns) if len(columns) > 1 else (lambda row: (row[columns[0]],))
    with cursor.copy(f'COPY "{table}" ({quoted}) FROM STDIN') as copy:
        if extra:
            for row in rows:
                copy.write_row(values(row) + extra)
        else:
            for row in rows:
                copy.write_row(values(row))


def _python_defaults(table: Table, columns: Sequence[str]) -> dict[str, Any]:
    """Values of the columns missing from `columns` that have a Python-side default."""
    values: dict[str, Any] = {}
    for column in table.columns:
        default: Any = column.default
        if column.name in columns or default is None:
            continue
        if getattr(default, "is_scalar", False):
            values[column.name] = default.arg
        elif getattr(default, "is_callable", False):
            values[column.name] = default.arg(None)
    return values


def _staging_table(cursor: Any, table: str) -> str:
    """A temporary table shaped like `table`, emptied at every commit; it lives as long as the
    database connection (created again only if the transaction that created it rolled back)."""
    staging = f"staging_{table}"
    cursor.execute(
        f'CREATE TEMP TABLE IF NOT EXISTS "{staging}" '
        f'(LIKE "{table}" INCLUDING DEFAULTS) ON COMMIT DELETE ROWS'
    )
    return staging


def relax_commit(session: Session) -> None:
    """Ingest transactions on PostgreSQL commit without waiting for the WAL flush: a crash can
    lose the last commits, never reorder them (WAL is sequential), so a watermark that survives
    always has its batches; a lost batch is fetched again by the next run. No-op elsewhere."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SET LOCAL synchronous_commit = off"))


def upsert_players(session: Session, rows: Sequence[Row]) -> None:
    """Full profiles: insert or refresh every given column."""
    upsert(session, Player.__table__, rows, keys=["id"])  # type: ignore[arg-type]


def add_player_stubs(session: Session, rows: Sequence[Row]) -> None:
    """Players seen only in a roster: add id and nickname, never overwrite a known profile."""
    upsert(session, Player.__table__, rows, keys=["id"], update_columns=[])  # type: ignore[arg-type]


def upsert_matches(session: Session, rows: Sequence[Row]) -> set[str]:
    """Insert new matches and refresh known ones; returns the ids that were new.

    New rows are told apart by the insert itself (ON CONFLICT DO NOTHING RETURNING), so a match
    that a concurrent transaction stored first is not counted twice.
    """
    if not rows:
        return set()
    table: Table = Match.__table__  # type: ignore[assignment]
    rows = sorted(rows, key=itemgetter("id"))  # one lock order for every writer
    if session.get_bind().dialect.name == "postgresql" and len(rows) >= COPY_THRESHOLD:
        # the common case (ingest hands over matches it did not find stored): all new, one
        # COPY; a match stored meanwhile (a concurrent run) rolls it back to the insert below
        columns = list(rows[0].keys())
        defaults = _python_defaults(table, columns)  # created_at
        quoted = ", ".join(f'"{c}"' for c in [*columns, *defaults])
        if _copy_new(session, table, rows, columns, quoted, tuple(defaults.values())):
            return {r["id"] for r in rows}
    statement = (
        insert_for(session, table)
        .on_conflict_do_nothing(index_elements=["id"])
        .returning(table.c.id)
    )
    inserted: set[str] = set()
    for start in range(0, len(rows), 2000):
        part = [dict(r) for r in rows[start : start + 2000]]
        inserted.update(session.execute(statement, part).scalars())
    known = [r for r in rows if r["id"] not in inserted]
    upsert(session, table, known, keys=["id"])
    return inserted


def upsert_match_players(session: Session, rows: Sequence[Row]) -> None:
    upsert(session, MatchPlayer.__table__, rows, keys=["match_id", "player_id"])  # type: ignore[arg-type]


def upsert_elo_history(session: Session, rows: Sequence[Row]) -> None:
    upsert(session, EloHistory.__table__, rows, keys=["player_id", "match_id"])  # type: ignore[arg-type]


def queue_profiles(session: Session, player_ids: Iterable[str]) -> None:
    """Ask for these players' full profiles; one already fetched (or missing) stays so."""
    now = utcnow()
    rows = [
        {"player_id": p, "status": "pending", "attempts": 0, "error": None, "updated_at": now}
        for p in sorted(set(player_ids))
    ]
    upsert(session, ProfileFetch.__table__, rows, keys=["player_id"], update_columns=[])  # type: ignore[arg-type]


def mark_profiles(
    session: Session, player_ids: Iterable[str], *, status: str, error: str | None = None
) -> None:
    """Record the outcome of profile fetches: fetched, missing (404) or still pending with the
    error (one more attempt counted)."""
    ids = sorted(set(player_ids))
    if not ids:
        return
    now = utcnow()
    if status == "pending":
        table: Table = ProfileFetch.__table__  # type: ignore[assignment]
        queue_profiles(session, ids)
        session.execute(
            update(table)
            .where(table.c.player_id.in_(ids))
            .values(attempts=table.c.attempts + 1, error=(error or "")[:2000], updated_at=now)
        )
        return
    rows = [
        {"player_id": p, "status": status, "attempts": 0, "error": None, "updated_at": now}
        for p in ids
    ]
    upsert(
        session,
        ProfileFetch.__table__,  # type: ignore[arg-type]
        rows,
        keys=["player_id"],
        update_columns=["status", "error", "updated_at"],
    )


def pending_profile_ids(session: Session) -> list[str]:
    return list(
        session.scalars(
            select(ProfileFetch.player_id)
            .where(ProfileFetch.status == "pending")
            .order_by(ProfileFetch.player_id)
        )
    )


def recent_roster_ids(session: Session, player_id: str, depth: int) -> list[str]:
    """The other players of the player's `depth` newest stored matches."""
    if depth <= 0:
        return []
    recent = (
        select(MatchPlayer.match_id)
        .where(MatchPlayer.player_id == player_id)
        .order_by(MatchPlayer.finished_at.desc(), MatchPlayer.match_id.desc())
        .limit(depth)
    )
    return list(
        session.scalars(
            select(MatchPlayer.player_id)
            .where(MatchPlayer.match_id.in_(recent), MatchPlayer.player_id != player_id)
            .distinct()
            .order_by(MatchPlayer.player_id)
        )
    )


def quarantine(session: Session, source: str, payload: str, error: str) -> None:
    session.add(Quarantine(source=source[:256], payload=payload[:MAX_PAYLOAD_CHARS], error=error))


def profiles_fetched_since(
    session: Session, player_ids: Sequence[str], moment: datetime
) -> set[str]:
    """Of ``player_ids``, those whose full profile was fetched at or after ``moment``."""
    if not player_ids:
        return set()
    table = ProfileFetch.__table__
    query = select(table.c.player_id).where(
        table.c.player_id.in_(list(player_ids)),
        table.c.status == "fetched",
        table.c.updated_at >= moment,
    )
    return set(session.execute(query).scalars())


def complete_match_ids(session: Session, match_ids: Sequence[str]) -> set[str]:
    """Matches already stored with their full scoreboard (nothing left to fetch)."""
    if not match_ids:
        return set()
    # counted by the database: one row per match, not ten (this ran for every history page
    # listed, and fetching 10 rows a match was an eighth of an ingest's CPU once its matches
    # were stored)
    whole = (
        select(MatchPlayer.match_id)
        .where(MatchPlayer.match_id.in_(match_ids))
        .group_by(MatchPlayer.match_id)
        .having(func.count() >= 10)
    )
    return set(session.execute(whole).scalars())


def ingest_state(session: Session, player_id: str) -> IngestState | None:
    return session.get(IngestState, player_id)


def mark_sync(
    session: Session,
    player_id: str,
    *,
    status: str,
    watermark: datetime | None = None,
    error: str | None = None,
    tracked: bool | None = None,
) -> None:
    """Record a sync outcome; the watermark only ever moves forward."""
    state = session.get(IngestState, player_id)
    if state is None:
        state = IngestState(player_id=player_id, tracked=True if tracked is None else tracked)
        session.add(state)
    elif tracked is not None:
        state.tracked = tracked
    state.status = status
    state.error = error
    state.last_sync_at = utcnow()
    if watermark is not None and (state.watermark is None or watermark > state.watermark):
        state.watermark = watermark


def tracked_player_ids(session: Session) -> list[str]:
    return list(
        session.scalars(
            select(IngestState.player_id)
            .where(IngestState.tracked.is_(True))
            .order_by(IngestState.player_id)
        )
    )


def analyze(session: Session) -> None:
    """Refresh planner statistics after a bulk load (PostgreSQL only)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("ANALYZE players, matches, match_players"))


def upsert_serving_features(session: Session, rows: Sequence[Row]) -> None:
    """Write materialized serving rows (models.serving_features), each whole in one statement
    of the caller's transaction, in key order; a rebuilt row replaces the previous one."""
    if not rows:
        return
    table: Table = ServingFeatures.__table__  # type: ignore[assignment]
    statement = insert_for(session, table)
    statement = statement.on_conflict_do_update(
        index_elements=["player_id"],
        set_={
            c: statement.excluded[c]
            for c in ("feature_version", "model_version", "watermark", "payload", "built_at")
        },
    )
    ordered = sorted(rows, key=itemgetter("player_id"))
    for start in range(0, len(ordered), 500):
        session.execute(statement, [dict(r) for r in ordered[start : start + 500]])
