"""The peer table's SQL (tables ``peer_groups`` and ``peer_members``, core/db/schema.py).

Helpers only: they read or write inside the caller's session and never commit (core/db). What
the rows mean, and when one is current, is models/peers.py's business.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import delete, select, tuple_
from sqlalchemy.orm import Session

from core import store
from core.db.schema import PeerGroup, PeerMember, Player
from core.db.types import utcnow


def read_groups(
    session: Session,
    version: str,
    level: int | None = None,
    keys: Sequence[tuple[int, str]] | None = None,
) -> list[PeerGroup]:
    """The stored groups of feature version ``version``: of one level, or only ``keys``
    ((level, region) pairs), or all."""
    query = select(PeerGroup).where(PeerGroup.feature_version == version)
    if level is not None:
        query = query.where(PeerGroup.level == level)
    if keys is not None:
        if not keys:
            return []
        query = query.where(tuple_(PeerGroup.level, PeerGroup.region).in_(list(keys)))
    return list(session.scalars(query))


def group_keys(session: Session, version: str) -> list[tuple[int, str]]:
    """(level, region) of every stored group of ``version``."""
    query = select(PeerGroup.level, PeerGroup.region).where(PeerGroup.feature_version == version)
    return [(int(level), str(region)) for level, region in session.execute(query)]


def read_member(session: Session, version: str, player_id: str) -> PeerMember | None:
    return session.get(PeerMember, (version, player_id))


def roster(session: Session, level: int) -> list[tuple[str, str | None]]:
    """(player id, region) of every stored player of ``level`` (core.crud.level_expression)."""
    from core.crud import level_expression

    query = select(Player.id, Player.region).where(level_expression() == level)
    return [(pid, region or None) for pid, region in session.execute(query)]


def write_groups(
    session: Session,
    version: str,
    groups: Iterable[dict[str, Any]],
    members: Iterable[dict[str, Any]],
    replaced: Sequence[tuple[int, str]],
) -> None:
    """Store rebuilt groups (dicts of PeerGroup's columns) and their members, in the caller's
    transaction. ``replaced`` are the (level, region) groups rebuilt: their old member rows go
    first (a region group's members have that region; the level group's own, region None)."""
    now = utcnow()
    group_rows = [{**g, "feature_version": version, "built_at": now} for g in groups]
    member_rows = [{**m, "feature_version": version} for m in members]
    for level, region in replaced:
        gone = delete(PeerMember).where(
            PeerMember.feature_version == version, PeerMember.level == level
        )
        gone = gone.where(
            PeerMember.region.is_(None) if region == "" else PeerMember.region == region
        )
        session.execute(gone)
    ids = [m["player_id"] for m in member_rows]
    for start in range(0, len(ids), 1000):  # a player who changed level leaves their old group
        session.execute(
            delete(PeerMember).where(
                PeerMember.feature_version == version,
                PeerMember.player_id.in_(ids[start : start + 1000]),
            )
        )
    _upsert(session, PeerGroup.__table__, group_rows, ["feature_version", "level", "region"])
    _upsert(session, PeerMember.__table__, member_rows, ["feature_version", "player_id"])


def _upsert(session: Session, table: Any, rows: list[dict[str, Any]], keys: list[str]) -> None:
    """INSERT ... ON CONFLICT DO UPDATE through SQLAlchemy (its JSON type serialises the
    values; core.store's COPY path would not), so two refreshes of one level at once both end
    with the same rows instead of one failing."""
    if not rows:
        return
    rows = sorted(rows, key=lambda r: tuple(r[k] for k in keys))  # one lock order
    statement = store.insert_for(session, table)
    statement = statement.on_conflict_do_update(
        index_elements=keys,
        set_={c: statement.excluded[c] for c in rows[0] if c not in keys},
    )
    for start in range(0, len(rows), 1000):
        session.execute(statement, rows[start : start + 1000])


def delete_groups(session: Session, version: str, keys: Sequence[tuple[int, str]]) -> None:
    """Groups of ``version`` that no longer have players."""
    if keys:
        session.execute(
            delete(PeerGroup).where(
                PeerGroup.feature_version == version,
                tuple_(PeerGroup.level, PeerGroup.region).in_(list(keys)),
            )
        )


def delete_other_versions(session: Session, version: str) -> int:
    """Rows of every other feature version (never read as current): removed at a refresh."""
    groups = session.execute(delete(PeerGroup).where(PeerGroup.feature_version != version))
    session.execute(delete(PeerMember).where(PeerMember.feature_version != version))
    return int(getattr(groups, "rowcount", 0) or 0)
