"""Live matches from FACEIT webhooks: the durable event queue and the live-match rows.

``record_event`` stores a delivered event once per event id (INSERT ... ON CONFLICT DO NOTHING:
three concurrent deliveries make one row). The ``faceit_events`` table is the queue the live
worker drains (``models.live``): ``claim_event`` takes the oldest due event whose match has no
earlier event still waiting (events of one match are handled in the order they arrived, by one
worker at a time), atomically (a compare-and-set on ``attempts``, so two workers never handle the
same event), and leases it: a worker that dies mid-event leaves it to be claimed again when
the lease ends. ``finish_event`` / ``retry_event`` close it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, exists, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, aliased, sessionmaker

from core.db.schema import FaceitEvent, LiveMatch, Match
from core.db.types import utcnow
from core.faceit.webhooks import WebhookEvent, WebhookMatch, later_state
from core.store import insert_for

LEASE = timedelta(minutes=5)
"""How long a claimed event is a worker's before another may take it over."""


@dataclass(frozen=True)
class ClaimedEvent:
    id: str
    event: str
    match_id: str
    payload: dict[str, Any]
    attempts: int


def record_event(session: Session, event: WebhookEvent, payload: dict[str, Any]) -> bool:
    """Queue a delivered event, once per event id; commits. True when this delivery was new."""
    statement = (
        insert_for(session, FaceitEvent.__table__)  # type: ignore[arg-type]
        .values(
            id=event.event_id,
            event=event.event,
            match_id=event.payload.match_id,
            payload=payload,
            status="queued",
            attempts=0,
            next_attempt_at=utcnow(),
            received_at=utcnow(),
        )
        .on_conflict_do_nothing(index_elements=["id"])
        .returning(FaceitEvent.id)
    )
    new = session.execute(statement).scalar() is not None
    session.commit()
    return new


def claim_event(
    sessions: sessionmaker[Session], now: datetime | None = None
) -> ClaimedEvent | None:
    """The next due event, leased to the caller (commits the claim); None when none is due."""
    now = now or utcnow()
    earlier = aliased(FaceitEvent)
    blocked = exists().where(
        earlier.match_id == FaceitEvent.match_id,
        earlier.status == "queued",
        or_(
            earlier.received_at < FaceitEvent.received_at,
            and_(earlier.received_at == FaceitEvent.received_at, earlier.id < FaceitEvent.id),
        ),
    )
    with sessions.begin() as session:
        candidates = session.execute(
            select(FaceitEvent.id, FaceitEvent.attempts)
            .where(FaceitEvent.status == "queued", FaceitEvent.next_attempt_at <= now, ~blocked)
            .order_by(FaceitEvent.received_at, FaceitEvent.id)
            .limit(20)
        ).all()
        for event_id, attempts in candidates:
            claimed = session.execute(
                update(FaceitEvent)
                .where(
                    FaceitEvent.id == event_id,
                    FaceitEvent.status == "queued",
                    FaceitEvent.attempts == attempts,
                    FaceitEvent.next_attempt_at <= now,
                )
                .values(attempts=attempts + 1, next_attempt_at=now + LEASE)
            )
            if claimed.rowcount == 1:  # type: ignore[attr-defined]
                row = session.get(FaceitEvent, event_id)
                assert row is not None
                return ClaimedEvent(
                    row.id, row.event, row.match_id, dict(row.payload), row.attempts
                )
    return None


def finish_event(sessions: sessionmaker[Session], event_id: str, note: str | None = None) -> None:
    with sessions.begin() as session:
        session.execute(
            update(FaceitEvent)
            .where(FaceitEvent.id == event_id)
            .values(status="done", processed_at=utcnow(), error=note)
        )


def retry_event(
    sessions: sessionmaker[Session],
    event: ClaimedEvent,
    error: str,
    *,
    max_attempts: int,
    retry_seconds: float,
) -> str:
    """Put a failed event back with a doubling delay, or give it up after ``max_attempts``;
    returns the new status."""
    status = "failed" if event.attempts >= max_attempts else "queued"
    delay = timedelta(seconds=retry_seconds * 2 ** (event.attempts - 1))
    with sessions.begin() as session:
        session.execute(
            update(FaceitEvent)
            .where(FaceitEvent.id == event.id)
            .values(status=status, error=error[:2000], next_attempt_at=utcnow() + delay)
        )
    return status


def event_counts(session: Session) -> dict[str, int]:
    rows = session.execute(
        select(FaceitEvent.status, func.count()).group_by(FaceitEvent.status)
    ).all()
    return {status: int(count) for status, count in rows}


# ---- live matches -----------------------------------------------------------------------------


def _teams(match: WebhookMatch) -> dict[str, Any]:
    return {
        faction: {
            "team_id": team.team_id,
            "name": team.name,
            "players": [
                {"player_id": p.player_id, "nickname": p.nickname, "skill_level": p.skill_level}
                for p in team.roster
            ],
        }
        for faction, team in match.lineups().items()
    }


def update_live_match(
    sessions: sessionmaker[Session], match: WebhookMatch, state: str, at: datetime | None = None
) -> LiveMatch:
    """Create or move on the live match of an event (a late event never moves it back; its
    lineups replace the stored ones while the match has not started). Commits; the row."""
    at = at or utcnow()
    with sessions.begin() as session:
        row = session.get(LiveMatch, match.match_id, with_for_update=True)
        if row is None:
            row = LiveMatch(match_id=match.match_id, status=state, teams=_teams(match))
            session.add(row)
            try:
                with session.begin_nested():
                    session.flush()
            except IntegrityError:  # a concurrent twin created it: move that one on instead
                row = session.get(LiveMatch, match.match_id, with_for_update=True)
                assert row is not None
        moved = later_state(row.status, state) or row.status == state
        if moved:
            row.status = state
        if match.has_lineups() and row.status in ("created", "configuring"):
            row.teams = _teams(match)
        row.competition = match.entity.name or row.competition
        row.region = match.region or row.region
        if state == "ready" and row.started_at is None:
            row.started_at = match.started_at or at
        if state == "finished" and row.finished_at is None:
            row.finished_at = match.finished_at or at
        session.flush()
        session.expunge(row)
        return row


def live_match(session: Session, match_id: str) -> LiveMatch | None:
    return session.get(LiveMatch, match_id)


def recent_live_matches(session: Session, limit: int = 20) -> list[LiveMatch]:
    return list(
        session.scalars(
            select(LiveMatch).order_by(LiveMatch.updated_at.desc(), LiveMatch.match_id).limit(limit)
        )
    )


def store_prediction(
    session: Session, match_id: str, prediction: dict[str, Any] | None, note: str | None = None
) -> None:
    """The pre-match prediction (or why there is none); writes in the caller's transaction."""
    session.execute(
        update(LiveMatch)
        .where(LiveMatch.match_id == match_id)
        .values(
            prediction=prediction,
            predicted_at=utcnow() if prediction is not None else None,
            note=note,
        )
    )


def score_live_match(session: Session, match_id: str) -> LiveMatch | None:
    """Score the stored prediction against the stored result of the match (its played map's
    probability); flushes only. None when the match or its result is not stored."""
    row = session.get(LiveMatch, match_id, with_for_update=True)
    result = session.get(Match, match_id)
    if row is None or result is None or result.winner_faction is None:
        return None
    row.map = result.map
    row.winner_faction = result.winner_faction
    per_map = (row.prediction or {}).get("per_map") or {}
    probability = per_map.get(result.map) if result.map else None
    row.p_played = float(probability) if probability is not None else None
    row.scored_at = utcnow()
    session.flush()
    return row


def stored_players(session: Session, player_ids: list[str]) -> set[str]:
    """Players among ``player_ids`` with at least one stored match."""
    from core.db.schema import MatchPlayer

    if not player_ids:
        return set()
    return set(
        session.scalars(
            select(MatchPlayer.player_id).where(MatchPlayer.player_id.in_(player_ids)).distinct()
        )
    )


def player_elos(session: Session, player_ids: list[str]) -> dict[str, int | None]:
    """Current Elo of each stored player among ``player_ids``."""
    from core.db.schema import Player

    if not player_ids:
        return {}
    rows = session.execute(select(Player.id, Player.faceit_elo).where(Player.id.in_(player_ids)))
    return {player_id: elo for player_id, elo in rows}
