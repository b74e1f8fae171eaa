"""Bulk, idempotent writes of ingested data: INSERT ... ON CONFLICT on SQLite and PostgreSQL.

Large batches on PostgreSQL go through COPY into a temporary staging table, then one
INSERT ... SELECT ... ON CONFLICT merges them: the fastest idempotent path psycopg 3 offers.
Every function writes inside the caller's transaction, so a batch is all or nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Table, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from core.db.schema import (
    EloHistory,
    IngestState,
    Match,
    MatchPlayer,
    Player,
    Quarantine,
)
from core.db.types import utcnow

Row = Mapping[str, Any]
COPY_THRESHOLD = 500
MAX_PAYLOAD_CHARS = 200_000


def _insert(session: Session, table: Table) -> Any:
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
    if session.get_bind().dialect.name == "postgresql" and len(rows) >= COPY_THRESHOLD:
        _copy_upsert(session, table, rows, columns, keys, updates)
        return
    statement = _insert(session, table)
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
    staging = f"staging_{table.name}"
    quoted = ", ".join(f'"{c}"' for c in columns)
    connection = session.connection()
    connection.exec_driver_sql(
        f'CREATE TEMP TABLE IF NOT EXISTS "{staging}" '
        f'(LIKE "{table.name}" INCLUDING DEFAULTS) ON COMMIT DELETE ROWS'
    )
    connection.exec_driver_sql(f'TRUNCATE "{staging}"')
    raw = connection.connection.dbapi_connection
    assert raw is not None
    cursor = raw.cursor()
    try:
        with cursor.copy(f'COPY "{staging}" ({quoted}) FROM STDIN') as copy:
            for row in rows:
                copy.write_row([row[c] for c in columns])
    finally:
        cursor.close()
    conflict = ", ".join(f'"{k}"' for k in keys)
    action = (
        "DO UPDATE SET " + ", ".join(f'"{c}" = EXCLUDED."{c}"' for c in updates)
        if updates
        else "DO NOTHING"
    )
    connection.exec_driver_sql(
        f'INSERT INTO "{table.name}" ({quoted}) SELECT {quoted} FROM "{staging}" '  # noqa: S608
        f"ON CONFLICT ({conflict}) {action}"
    )


def upsert_players(session: Session, rows: Sequence[Row]) -> None:
    """Full profiles: insert or refresh every given column."""
    upsert(session, Player.__table__, rows, keys=["id"])  # type: ignore[arg-type]


def add_player_stubs(session: Session, rows: Sequence[Row]) -> None:
    """Players seen only in a roster: add id and nickname, never overwrite a known profile."""
    upsert(session, Player.__table__, rows, keys=["id"], update_columns=[])  # type: ignore[arg-type]


def upsert_matches(session: Session, rows: Sequence[Row]) -> None:
    upsert(session, Match.__table__, rows, keys=["id"])  # type: ignore[arg-type]


def upsert_match_players(session: Session, rows: Sequence[Row]) -> None:
    upsert(session, MatchPlayer.__table__, rows, keys=["match_id", "player_id"])  # type: ignore[arg-type]


def upsert_elo_history(session: Session, rows: Sequence[Row]) -> None:
    upsert(session, EloHistory.__table__, rows, keys=["player_id", "match_id"])  # type: ignore[arg-type]


def quarantine(session: Session, source: str, payload: str, error: str) -> None:
    session.add(Quarantine(source=source[:256], payload=payload[:MAX_PAYLOAD_CHARS], error=error))


def complete_match_ids(session: Session, match_ids: Sequence[str]) -> set[str]:
    """Matches already stored with their full scoreboard (nothing left to fetch)."""
    if not match_ids:
        return set()
    stored = session.execute(
        select(MatchPlayer.match_id).where(MatchPlayer.match_id.in_(match_ids))
    ).scalars()
    counts: dict[str, int] = {}
    for match_id in stored:
        counts[match_id] = counts.get(match_id, 0) + 1
    return {m for m, n in counts.items() if n >= 10}


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


def untrack(session: Session, player_id: str) -> None:
    session.execute(
        update(IngestState).where(IngestState.player_id == player_id).values(tracked=False)
    )


def analyze(session: Session) -> None:
    """Refresh planner statistics after a bulk load (PostgreSQL only)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("ANALYZE players, matches, match_players"))
