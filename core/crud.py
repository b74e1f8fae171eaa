"""Data access in one place: the queries the app, the API and the flows share."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import and_, bindparam, desc, func, select
from sqlalchemy.orm import Session, defer

from core.db.schema import (
    AuditLog,
    IngestState,
    Match,
    MatchPlayer,
    ModelVersion,
    Player,
    Quarantine,
    ServingFeatures,
    StripeEvent,
)


def count_players(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(Player)) or 0


def count_matches(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(Match)) or 0


def find_player(session: Session, nickname: str) -> Player | None:
    """Exact nickname (FACEIT nicknames are case-sensitive), else a unique case-insensitive one."""
    exact = session.scalars(select(Player).where(Player.nickname == nickname).limit(1)).first()
    if exact is not None:
        return exact
    loose = session.scalars(
        select(Player).where(func.lower(Player.nickname) == nickname.lower()).limit(2)
    ).all()
    return loose[0] if len(loose) == 1 else None


@cache
def _players_by_names_queries() -> tuple[Any, Any]:
    """:func:`players_by_names`' two statements, built once (expanding ``names``)."""
    names: Any = bindparam("names", expanding=True)
    exact = (
        select(Player).where(Player.id.in_(names) | Player.nickname.in_(names)).order_by(Player.id)
    )
    loosely = select(Player).where(func.lower(Player.nickname).in_(names)).order_by(Player.id)
    return exact, loosely


def players_by_names(session: Session, names: Sequence[str]) -> dict[str, Player]:
    """Each name's player, as ``session.get(Player, name) or find_player(session, name)``
    would find it one by one (a FACEIT id, else the exact nickname, else a unique
    case-insensitive one), in one query (two when a name is matched only case-insensitively);
    names that find nobody are left out. A nickname two players share gives the smaller id."""
    wanted = list(dict.fromkeys(names))
    if not wanted:
        return {}
    exact, loosely = _players_by_names_queries()
    rows = session.scalars(exact, {"names": wanted}).all()
    by_id = {p.id: p for p in rows}
    by_nickname: dict[str, Player] = {}
    for p in rows:
        by_nickname.setdefault(p.nickname, p)
    found = {n: by_id.get(n) or by_nickname[n] for n in wanted if n in by_id or n in by_nickname}
    loose = {n.lower() for n in wanted if n not in found}
    if loose:
        matches: dict[str, list[Player]] = {}
        for p in session.scalars(loosely, {"names": sorted(loose)}):
            matches.setdefault(p.nickname.lower(), []).append(p)
        for n in wanted:
            if n not in found and len(matches.get(n.lower(), ())) == 1:
                found[n] = matches[n.lower()][0]
    return found


def get_player(session: Session, player_id: str) -> Player | None:
    return session.get(Player, player_id)


def player_nicknames(session: Session, limit: int = 5000) -> list[str]:
    """Nicknames of players with at least one stored match, most active first."""
    played = (
        select(Player.nickname)
        .join(MatchPlayer, MatchPlayer.player_id == Player.id)
        .group_by(Player.id, Player.nickname)
        .order_by(desc(func.count()), Player.nickname)
        .limit(limit)
    )
    return list(session.scalars(played))


def recent_matches(
    session: Session,
    player_id: str,
    *,
    limit: int = 20,
    maps: list[str] | None = None,
    result: bool | None = None,
    before: datetime | None = None,
    match_ids: list[str] | None = None,
) -> list[dict[str, Any]]:
    """A player's matches, newest first (finished strictly before `before`; only `match_ids`
    when given: the matches a models.filters filter chose), with their line."""
    query = (
        select(
            Match.id.label("match_id"),
            Match.finished_at,
            Match.map,
            Match.score,
            Match.faction1_score,
            Match.faction2_score,
            MatchPlayer.faction,
            MatchPlayer.result,
            MatchPlayer.kills,
            MatchPlayer.deaths,
            MatchPlayer.assists,
            MatchPlayer.adr,
            MatchPlayer.headshots_pct,
            MatchPlayer.kd_ratio,
        )
        .join(MatchPlayer, MatchPlayer.match_id == Match.id)
        .where(MatchPlayer.player_id == player_id, MatchPlayer.finished_at.is_not(None))
        .order_by(desc(MatchPlayer.finished_at), desc(Match.id))
        .limit(limit)
    )
    if before is not None:
        query = query.where(MatchPlayer.finished_at < before)
    if maps:
        query = query.where(Match.map.in_(maps))
    if result is not None:
        query = query.where(MatchPlayer.result.is_(result))
    if match_ids is not None:
        query = query.where(Match.id.in_(match_ids))
    return [dict(row._mapping) for row in session.execute(query)]


def scoreboard(session: Session, match_id: str) -> tuple[Match | None, list[MatchPlayer]]:
    match = session.get(Match, match_id)
    rows = session.scalars(
        select(MatchPlayer)
        .where(MatchPlayer.match_id == match_id)
        .order_by(MatchPlayer.faction, desc(MatchPlayer.kills))
    ).all()
    return match, list(rows)


def nicknames(session: Session, player_ids: list[str]) -> dict[str, str]:
    """Player id -> nickname for the given ids (unknown ids left out)."""
    if not player_ids:
        return {}
    rows = session.execute(select(Player.id, Player.nickname).where(Player.id.in_(player_ids)))
    return {pid: nick for pid, nick in rows}


def skill_levels(session: Session) -> dict[str, int]:
    """Player id -> FACEIT skill level (1-10) of every player whose level or Elo is known:
    FACEIT's own level, else the level of the stored Elo. The level the dashboards show."""
    out: dict[str, int] = {}
    for pid, level, elo in session.execute(
        select(Player.id, Player.skill_level, Player.faceit_elo)
    ):
        known = level_of(level, elo)
        if known is not None:
            out[pid] = known
    return out


def level_of(skill_level: int | None, elo: int | None) -> int | None:
    """One player's level as :func:`skill_levels` gives it (None: neither is known)."""
    from core.cs2 import elo_level

    if skill_level:
        return int(skill_level)
    if elo:
        return int(elo_level(elo))
    return None


@cache
def level_expression() -> Any:
    """:func:`skill_levels` as a SQL expression over ``players``: FACEIT's own level, else the
    level of the stored Elo (one more than the number of level thresholds it reaches), else
    NULL. Lets a query group players by the level the dashboards show. Built once (an
    immutable SQL expression, reused by every query)."""
    from sqlalchemy import case

    from core.cs2 import LEVEL_THRESHOLDS

    elo = Player.faceit_elo
    from_elo = 1 + sum(case((elo >= int(t), 1), else_=0) for t in LEVEL_THRESHOLDS)
    return case(
        (Player.skill_level > 0, Player.skill_level),
        (elo.is_not(None) & (elo != 0), from_elo),
        else_=None,
    )


def player_maps(session: Session, player_id: str) -> list[str]:
    return sorted(
        m
        for m in session.scalars(
            select(MatchPlayer.map).where(MatchPlayer.player_id == player_id).distinct()
        )
        if m
    )


# -- operator views (admin pages) ---------------------------------------------------------------

PAYMENT_ACTIONS = (
    "grant_premium",
    "revoke_premium",
    "subscription_update",
    "checkout_started",
    "checkout_refused",
)


def ingest_states(session: Session, limit: int = 200) -> list[tuple[IngestState, str | None]]:
    """Sync state of the most recently synced players, with their nicknames."""
    rows = session.execute(
        select(IngestState, Player.nickname)
        .join(Player, Player.id == IngestState.player_id, isouter=True)
        .order_by(IngestState.last_sync_at.desc())
        .limit(limit)
    ).all()
    return [(state, nickname) for state, nickname in rows]


def quarantined_payloads(session: Session, limit: int = 200) -> list[Quarantine]:
    return list(
        session.scalars(select(Quarantine).order_by(Quarantine.created_at.desc()).limit(limit))
    )


def stripe_events(session: Session, limit: int = 200) -> list[StripeEvent]:
    return list(
        session.scalars(select(StripeEvent).order_by(StripeEvent.processed_at.desc()).limit(limit))
    )


def payment_audit(session: Session, limit: int = 200) -> list[AuditLog]:
    """Premium grants, revocations and checkout events, newest first."""
    return list(
        session.scalars(
            select(AuditLog)
            .where(AuditLog.action.in_(PAYMENT_ACTIONS))
            .order_by(AuditLog.created_at.desc())
            .limit(limit)
        )
    )


def model_versions(session: Session) -> list[ModelVersion]:
    """Every registered model version, newest first per model."""
    return list(
        session.scalars(
            select(ModelVersion)
            .options(defer(ModelVersion.artifact))
            .order_by(ModelVersion.name, ModelVersion.version.desc())
        )
    )


def last_synced_at(session: Session, player_id: str) -> datetime | None:
    """When the player's data was last fetched from FACEIT (None: never synced)."""
    return session.scalar(
        select(IngestState.last_sync_at).where(IngestState.player_id == player_id)
    )


def last_match_lineups(session: Session, player_id: str) -> tuple[list[str], list[str]]:
    """Nicknames of the player's team (the player first) and of the opponents in their latest
    match; two empty lists when the player has no match."""
    match_id = session.scalar(
        select(MatchPlayer.match_id)
        .where(MatchPlayer.player_id == player_id, MatchPlayer.finished_at.is_not(None))
        .order_by(desc(MatchPlayer.finished_at), desc(MatchPlayer.match_id))
        .limit(1)
    )
    if match_id is None:
        return [], []
    rows = session.execute(
        select(MatchPlayer.player_id, MatchPlayer.faction, Player.nickname)
        .join(Player, Player.id == MatchPlayer.player_id)
        .where(MatchPlayer.match_id == match_id)
        .order_by(Player.nickname)
    ).all()
    own_faction = next(faction for pid, faction, _ in rows if pid == player_id)
    own = [nick for pid, faction, nick in rows if faction == own_faction and pid == player_id]
    own += [nick for pid, faction, nick in rows if faction == own_faction and pid != player_id]
    other = [nick for _, faction, nick in rows if faction != own_faction]
    return own, other


def serving_features(session: Session, player_ids: Sequence[str]) -> dict[str, dict[str, Any]]:
    """The materialized serving rows of these players (those that have one), by player id:
    ``feature_version``, ``model_version``, ``watermark``, ``payload``."""
    ids = list(dict.fromkeys(player_ids))
    if not ids:
        return {}
    t = ServingFeatures.__table__.c
    rows = session.execute(
        select(t.player_id, t.feature_version, t.model_version, t.watermark, t.payload).where(
            t.player_id.in_(ids)
        )
    )
    return {row.player_id: dict(row._mapping) for row in rows}


def all_player_ids(session: Session) -> list[str]:
    """Every stored player's id (in id order)."""
    return list(session.scalars(select(Player.id).order_by(Player.id)))


def profile_elos(session: Session, player_ids: Sequence[str]) -> dict[str, int | None]:
    """The profile's current Elo of each stored player among ``player_ids``."""
    ids = list(dict.fromkeys(player_ids))
    if not ids:
        return {}
    rows = session.execute(select(Player.id, Player.faceit_elo).where(Player.id.in_(ids)))
    return {pid: elo for pid, elo in rows}


RECENT_MATCHES = 20  # how far back "my recent teammates" look


def recent_teammates(
    session: Session, player_id: str, *, limit: int = 4, matches: int = RECENT_MATCHES
) -> list[str]:
    """Nicknames of the players who were on the player's side in their latest ``matches``
    matches: the most often first, then the most recent, then by name."""
    recent = (
        select(MatchPlayer.match_id, MatchPlayer.faction)
        .where(MatchPlayer.player_id == player_id, MatchPlayer.finished_at.is_not(None))
        .order_by(desc(MatchPlayer.finished_at), desc(MatchPlayer.match_id))
        .limit(matches)
        .subquery()
    )
    together = func.count().label("together")
    latest = func.max(MatchPlayer.finished_at).label("latest")
    rows = session.execute(
        select(Player.nickname, together, latest)
        .join(
            recent,
            and_(
                MatchPlayer.match_id == recent.c.match_id,
                MatchPlayer.faction == recent.c.faction,
            ),
        )
        .join(Player, Player.id == MatchPlayer.player_id)
        .where(MatchPlayer.player_id != player_id)
        .group_by(Player.nickname)
        .order_by(desc(together), desc(latest), Player.nickname)
        .limit(limit)
    ).all()
    return [row.nickname for row in rows]
