"""A FACEIT-linked account's pages start with "me": the Overview without a player in the address,
the Compare page with me and my most frequent recent teammate, the predictor with me and my
recent teammates (AppTest on the 30-player demo league, models trained)."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import desc, select, update
from sqlalchemy.orm import Session
from streamlit.testing.v1 import AppTest

from app import auth as app_auth
from core import crud
from core.db.schema import MatchPlayer, Player, User
from core.resources import Resources
from core.settings import get_settings
from core.sources import demo_league, run_ingest
from pipelines.ingest import ingest_nicknames
from pipelines.train import run_training
from tests.app.conftest import APP, shown


@pytest.fixture
def league(app_settings: Path, sessions: Callable[[], Session]) -> list[str]:
    settings = get_settings()
    nicknames = list(demo_league(settings).players_frame()["nickname"])
    with Resources.open(settings) as resources:
        asyncio.run(run_ingest(resources, lambda i: ingest_nicknames(i, nicknames), roster_depth=0))
    return nicknames


def teammates_by_hand(session: Session, player_id: str, matches: int = 20) -> list[str]:
    """Brute force: the player's latest matches, then everyone on the player's side in them."""
    mine = session.execute(
        select(MatchPlayer.match_id, MatchPlayer.faction, MatchPlayer.finished_at)
        .where(MatchPlayer.player_id == player_id)
        .order_by(desc(MatchPlayer.finished_at), desc(MatchPlayer.match_id))
        .limit(matches)
    ).all()
    together: Counter[str] = Counter()
    latest: dict[str, object] = {}
    for match_id, faction, finished in mine:
        rows = session.execute(
            select(Player.nickname)
            .join(MatchPlayer, MatchPlayer.player_id == Player.id)
            .where(
                MatchPlayer.match_id == match_id,
                MatchPlayer.faction == faction,
                MatchPlayer.player_id != player_id,
            )
        ).scalars()
        for name in rows:
            together[name] += 1
            latest[name] = max(latest.get(name, finished), finished)  # type: ignore[type-var]
    ranked = sorted(together, key=lambda n: (-together[n], -latest[n].timestamp(), n))  # type: ignore[attr-defined]
    return ranked[:4]


def open_as(user_id: int, page: str, monkeypatch: pytest.MonkeyPatch) -> AppTest:
    monkeypatch.setattr(app_auth, "_cookie_from_request", lambda: None)
    at = AppTest.from_file(APP, default_timeout=90)
    at.session_state["auth_user_id"] = user_id
    at.run()
    at.switch_page(page).run()
    assert not at.exception, at.exception
    return at


def test_my_pages_start_with_me_and_my_recent_teammates(
    league: list[str],
    users: dict[str, User],
    sessions: Callable[[], Session],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with sessions() as session:
        me = session.scalar(select(Player).where(Player.nickname == league[0]))
        assert me is not None
        expected = teammates_by_hand(session, me.id)
        assert len(expected) == 4
        assert crud.recent_teammates(session, me.id) == expected
        session.execute(
            update(User).where(User.id == users["premium"].id).values(faceit_player_id=me.id)
        )
        session.commit()
    user_id = users["premium"].id

    # the Overview opens on me without a player in the address; a named player still wins
    at = open_as(user_id, "views/player.py", monkeypatch)
    assert shown(at.title[0].value) == me.nickname
    at = open_as(user_id, "views/player.py", monkeypatch)
    at.query_params["player"] = league[1]
    at.run()
    assert shown(at.title[0].value) == league[1]

    # Compare: me and my most frequent recent teammate, so the head-to-head is ours
    at = open_as(user_id, "views/compare.py", monkeypatch)
    assert at.multiselect[0].value == [me.nickname, expected[0]]

    # the predictor: my team is me and my four recent teammates; a visitor's is empty
    run_training(sessions)
    at = open_as(user_id, "views/predictor.py", monkeypatch)
    assert at.multiselect(key="predict_a").value == [me.nickname, *expected]
    assert not set(at.multiselect(key="predict_b").value) & {me.nickname, *expected}
    unlinked = open_as(users["admin"].id, "views/predictor.py", monkeypatch)
    assert unlinked.multiselect(key="predict_a").value == []
