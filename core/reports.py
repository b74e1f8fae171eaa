"""The weekly report: one summary per user who follows players, queued through the outbox.

For each followed player, the week's matches, wins, K/D and Elo change (from what is stored),
and how our pre-match predictions did on the live matches they played. One message per user
and ISO week (``weekly:<year>-W<week>`` per channel, unique in the outbox), so a rerun of the
deployment, or one killed half-way and started again, sends nobody a second copy.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session, sessionmaker

from core import notify
from core.db import transaction
from core.db.schema import EloHistory, Follow, LiveMatch, MatchPlayer, Player
from core.db.types import utcnow

WEEK = timedelta(days=7)


@dataclass(frozen=True)
class PlayerWeek:
    nickname: str
    matches: int
    wins: int
    kills: int
    deaths: int
    elo: int | None
    elo_change: int | None


def week_key(end: datetime) -> str:
    year, week, _ = end.isocalendar()
    return f"weekly:{year}-W{week:02d}"


def _elo_at(session: Session, player_id: str, moment: datetime) -> int | None:
    return session.scalar(
        select(EloHistory.elo)
        .where(EloHistory.player_id == player_id, EloHistory.recorded_at <= moment)
        .order_by(EloHistory.recorded_at.desc())
        .limit(1)
    )


def player_week(session: Session, player_id: str, start: datetime, end: datetime) -> PlayerWeek:
    player = session.get(Player, player_id)
    matches, wins, kills, deaths = session.execute(
        select(
            func.count(),
            func.coalesce(func.sum(case((MatchPlayer.result, 1), else_=0)), 0),
            func.coalesce(func.sum(MatchPlayer.kills), 0),
            func.coalesce(func.sum(MatchPlayer.deaths), 0),
        ).where(
            MatchPlayer.player_id == player_id,
            MatchPlayer.finished_at >= start,
            MatchPlayer.finished_at < end,
        )
    ).one()
    before, after = _elo_at(session, player_id, start), _elo_at(session, player_id, end)
    return PlayerWeek(
        nickname=player.nickname if player else player_id,
        matches=int(matches),
        wins=int(wins),
        kills=int(kills),
        deaths=int(deaths),
        elo=after if after is not None else (player.faceit_elo if player else None),
        elo_change=after - before if before is not None and after is not None else None,
    )


def predictions_week(
    session: Session, player_ids: set[str], start: datetime, end: datetime
) -> tuple[int, int]:
    """(scored, called right) of the live matches of ``player_ids`` scored in the week."""
    rows = session.scalars(
        select(LiveMatch).where(
            LiveMatch.scored_at >= start,
            LiveMatch.scored_at < end,
            LiveMatch.p_played.is_not(None),
        )
    )
    scored = right = 0
    for row in rows:
        lineup = {p["player_id"] for t in (row.teams or {}).values() for p in t.get("players", [])}
        if not lineup & player_ids or row.p_played is None:
            continue
        scored += 1
        right += int((row.p_played >= 0.5) == (row.winner_faction == "faction1"))
    return scored, right


def _line(week: PlayerWeek) -> str:
    if week.matches == 0:
        return f"{week.nickname}: no matches this week."
    kd = week.kills / week.deaths if week.deaths else float(week.kills)
    elo = f", {week.elo:,} Elo" if week.elo is not None else ""
    change = f" ({week.elo_change:+d})" if week.elo_change else ""
    won = "win" if week.wins == 1 else "wins"
    played = "match" if week.matches == 1 else "matches"
    tally = f"{week.matches} {played}, {week.wins} {won}"
    return f"{week.nickname}: {tally}, K/D {kd:.2f}{elo}{change}."


def report(session: Session, user_id: int, end: datetime) -> tuple[str, str] | None:
    """The (title, body) of a user's report for the week ending at ``end``; None when they
    follow nobody."""
    start = end - WEEK
    followed = notify.followed(session, user_id)
    if not followed:
        return None
    lines = [_line(player_week(session, p, start, end)) for p in followed]
    scored, right = predictions_week(session, set(followed), start, end)
    if scored:
        lines.append(f"Our pre-match predictions on their matches: {right} of {scored} right.")
    else:
        lines.append("No live match of theirs was predicted and scored this week.")
    title = f"Your week on Faceit AI: {start:%d %b} – {end:%d %b}"
    return title, "\n".join(lines)


def queue_weekly_reports(sessions: sessionmaker[Session], end: datetime | None = None) -> int:
    """Queue the week's report for every user who follows someone, one transaction per user;
    how many messages were added (0 on a rerun of the same week)."""
    end = end or utcnow()
    with sessions() as session:
        users = list(session.scalars(select(Follow.user_id).distinct().order_by(Follow.user_id)))
    added = 0
    for user_id in users:
        with transaction(sessions) as session:
            made = report(session, user_id, end)
            if made is not None:
                title, body = made
                added += notify.queue_to_user(
                    session, user_id, "weekly", week_key(end), title, body
                )
    return added
