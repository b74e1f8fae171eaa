"""The weekly report: one summary per user who follows players, through the outbox, once a
week however often the deployment runs (both backends)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from core import auth, notify, reports
from core.db.schema import EloHistory, LiveMatch, Match, MatchPlayer, NotificationOutbox, Player
from core.settings import load_settings

END = datetime(2026, 12, 7, 8, 0, tzinfo=UTC)  # a Monday, 08:00 UTC
SLY = "Sly'; DROP TABLE players;--"


def played(
    session: Session, match_id: str, player_id: str, won: bool, kills: int, deaths: int, at: Any
) -> None:
    session.add(Match(id=match_id, map="de_mirage", finished_at=at, winner_faction="faction1"))
    session.flush()
    session.add(
        MatchPlayer(
            match_id=match_id,
            player_id=player_id,
            faction="faction1" if won else "faction2",
            finished_at=at,
            map="de_mirage",
            result=won,
            kills=kills,
            deaths=deaths,
            assists=3,
            headshots=5,
            headshots_pct=40.0,
            mvps=2,
            kd_ratio=kills / deaths,
            kr_ratio=0.8,
        )
    )


@pytest.fixture
def league(sessions: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    """p1 played three matches this week (two won) and one the week before; p2 none. Alice
    follows both, Bob follows p2, Carol follows nobody."""
    monkeypatch.setattr(auth, "BCRYPT_ROUNDS", 4)
    with sessions() as session:
        session.add_all(
            [
                Player(id="p1", nickname=SLY, faceit_elo=2040),
                Player(id="p2", nickname="quiet", faceit_elo=1500),
            ]
        )
        session.flush()
        week = [(True, 20, 15), (True, 18, 16), (False, 12, 19)]
        for i, (won, kills, deaths) in enumerate(week):
            played(session, f"m{i}", "p1", won, kills, deaths, END - timedelta(days=1 + i))
        played(session, "old", "p1", True, 30, 5, END - timedelta(days=9))
        for elo, days in [(2000, 8), (2010, 3), (2025, 1)]:
            session.add(EloHistory(player_id="p1", elo=elo, recorded_at=END - timedelta(days=days)))
        lineup = {"faction1": {"players": [{"player_id": "p1"}]}, "faction2": {"players": []}}
        for match_id, p_played, winner in [("l1", 0.7, "faction1"), ("l2", 0.6, "faction2")]:
            session.add(
                LiveMatch(
                    match_id=match_id,
                    status="finished",
                    teams=lineup,
                    p_played=p_played,
                    winner_faction=winner,
                    scored_at=END - timedelta(days=2),
                )
            )
        users = {}
        for name in ("alice", "bob", "carol"):
            users[name] = auth.register_user(
                session, name, f"{name}@example.com", "Quiet-Harbour-4821"
            ).id
        session.commit()
        notify.follow(session, users["alice"], "p1")
        notify.follow(session, users["alice"], "p2")
        notify.follow(session, users["bob"], "p2")
    return users


def messages(sessions: sessionmaker[Session]) -> list[NotificationOutbox]:
    with sessions() as session:
        return list(session.scalars(select(NotificationOutbox).order_by(NotificationOutbox.id)))


def test_each_follower_gets_one_summary_of_their_players_week(
    sessions: sessionmaker[Session], league: dict[str, int]
) -> None:
    assert reports.queue_weekly_reports(sessions, END) == 2  # alice and bob; carol follows nobody
    by_user = {m.user_id: m for m in messages(sessions)}
    assert set(by_user) == {league["alice"], league["bob"]}
    alice = by_user[league["alice"]]
    assert alice.topic == "weekly" and alice.title == "Your week on Faceit AI: 30 Nov – 07 Dec"
    kd = (20 + 18 + 12) / (15 + 16 + 19)
    assert alice.body.splitlines() == [
        f"{SLY}: 3 matches, 2 wins, K/D {kd:.2f}, 2,025 Elo (+25).",
        "quiet: no matches this week.",
        "Our pre-match predictions on their matches: 1 of 2 right.",
    ]
    assert by_user[league["bob"]].body.splitlines() == [
        "quiet: no matches this week.",
        "No live match of theirs was predicted and scored this week.",
    ]
    settings = load_settings(_env_file=None)
    assert notify.send_due(sessions, settings) == 2
    with sessions() as session:
        (read,) = notify.inbox(session, league["alice"])
    assert read.body == alice.body


def test_a_rerun_or_a_run_killed_half_way_sends_nobody_a_second_copy(
    sessions: sessionmaker[Session], league: dict[str, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    real = reports.report

    def dies_on_bob(session: Session, user_id: int, end: datetime) -> Any:
        if user_id == league["bob"]:
            raise SystemExit("killed")  # the process dies between two users
        return real(session, user_id, end)

    monkeypatch.setattr(reports, "report", dies_on_bob)
    with pytest.raises(SystemExit):
        reports.queue_weekly_reports(sessions, END)
    assert [m.user_id for m in messages(sessions)] == [league["alice"]]
    monkeypatch.setattr(reports, "report", real)
    assert reports.queue_weekly_reports(sessions, END) == 1  # only bob's was missing
    assert reports.queue_weekly_reports(sessions, END + timedelta(hours=5)) == 0  # same week
    assert sorted(m.user_id for m in messages(sessions)) == [league["alice"], league["bob"]]
    assert reports.queue_weekly_reports(sessions, END + timedelta(days=7)) == 2  # next week


def test_the_deployed_flow_queues_and_delivers_the_week(
    prefect_harness: None, default_setup: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The weekly-report deployment's flow on the embedded default database: the report is
    queued and delivered to the inbox in one run; a second run of the same week adds nothing."""
    from core.db.engine import make_engine, make_session_factory
    from pipelines.reports import weekly_report

    monkeypatch.setattr(auth, "BCRYPT_ROUNDS", 4)
    engine = make_engine(f"sqlite:///{default_setup(20)}")
    sessions = make_session_factory(engine)
    try:
        with sessions() as session:
            session.add(Player(id="p1", nickname="Darwin", faceit_elo=2014))
            session.commit()
            fan = auth.register_user(session, "fan", "fan@example.com", "Quiet-Harbour-4821").id
            notify.follow(session, fan, "p1")
        assert weekly_report(END) == {"queued": 1, "sent": 1}
        assert weekly_report(END) == {"queued": 0, "sent": 0}
        with sessions() as session:
            (message,) = notify.inbox(session, fan)
        assert message.body.splitlines()[0] == "Darwin: no matches this week."
    finally:
        engine.dispose()
