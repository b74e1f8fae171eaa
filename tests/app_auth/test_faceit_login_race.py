"""One FACEIT player links to one account, even when two callbacks race (PostgreSQL).

Two accounts each finish a "link my FACEIT account" for the same player at the same moment
(a barrier releases both callbacks together): one is linked, the other refused, and the
database holds one link. Two first logins of one new player at once make one account.
"""

from __future__ import annotations

import asyncio
import html
import re
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from core import auth
from core.db.engine import make_session_factory
from core.db.schema import User
from core.demo_league.oidc import DemoOidcProvider
from core.faceit_login import FaceitLogin, LoginRefused, LoginResult
from core.settings import FaceitOAuth

pytestmark = pytest.mark.postgres

ISSUER = "https://login.demo.invalid/demo-faceit"
REDIRECT = "https://app.demo.invalid/auth/faceit/callback"
PLAYERS = [("0b7a6c0e-1111-4a4a-9c9c-000000000001", "Alpha_One")]
ROUNDS = 5


@pytest.fixture
def sessions(pg_engine: Engine) -> Callable[[], Session]:
    return make_session_factory(pg_engine)


@pytest.fixture
def login(sessions: Callable[[], Session]) -> tuple[FaceitLogin, DemoOidcProvider]:
    provider = DemoOidcProvider(
        ISSUER,
        client_id="race-client",
        client_secret="race-secret",
        redirect_uri=REDIRECT,
        players=lambda: PLAYERS,
    )
    oauth = FaceitOAuth(
        client_id="race-client",
        client_secret="race-secret",
        discovery_url=f"{ISSUER}/.well-known/openid-configuration",
        redirect_url=REDIRECT,
        demo=True,
    )
    return FaceitLogin(oauth, sessions, transport=httpx.ASGITransport(app=provider.site)), provider


def make_user(sessions: Callable[[], Session], name: str) -> int:
    with sessions() as session:
        user = User(
            username=name,
            email=f"{name}@example.com",
            name=name,
            password_hash=auth.NO_PASSWORD,
            role="free",
            session_generation=auth.new_generation(),
            created_at=datetime.now(UTC),
        )
        session.add(user)
        session.commit()
        return user.id


async def code_for(
    login: FaceitLogin, provider: DemoOidcProvider, link: int | None
) -> dict[str, str]:
    """Start a flow and pass the stand-in's page as the player: the callback's parameters."""
    started = await login.start(link)
    transport = httpx.ASGITransport(app=provider.site)
    async with httpx.AsyncClient(transport=transport) as http:
        page = await http.get(started.url)
        fields = {
            k: html.unescape(v) for k, v in re.findall(r'name="([^"]+)" value="([^"]*)"', page.text)
        }
        fields.update(player_id=PLAYERS[0][0], action="login")
        answer = await http.post(f"{ISSUER}/authorize", data=fields)
    query = httpx.URL(answer.headers["location"]).params
    return {"code": query["code"], "state": query["state"]}


def race(login: FaceitLogin, callbacks: list[dict[str, str]]) -> list[Any]:
    """Finish every callback at once (one thread and event loop each)."""
    barrier = threading.Barrier(len(callbacks))
    outcomes: list[Any] = [None] * len(callbacks)

    def finish(i: int) -> None:
        barrier.wait()
        try:
            outcomes[i] = asyncio.run(
                login.finish(
                    state=callbacks[i]["state"],
                    code=callbacks[i]["code"],
                    error=None,
                    browser_state=callbacks[i]["state"],
                )
            )
        except LoginRefused as refused:
            outcomes[i] = refused

    threads = [threading.Thread(target=finish, args=(i,)) for i in range(len(callbacks))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


def links_of(sessions: Callable[[], Session], player_id: str) -> list[str]:
    with sessions() as session:
        return list(
            session.scalars(select(User.username).where(User.faceit_player_id == player_id))
        )


def test_two_accounts_racing_for_one_faceit_player_link_one(
    login: tuple[FaceitLogin, DemoOidcProvider], sessions: Callable[[], Session]
) -> None:
    relying_party, provider = login
    player_id = PLAYERS[0][0]
    for round_ in range(ROUNDS):
        a, b = make_user(sessions, f"racer-a{round_}"), make_user(sessions, f"racer-b{round_}")
        callbacks = [
            asyncio.run(code_for(relying_party, provider, a)),
            asyncio.run(code_for(relying_party, provider, b)),
        ]
        outcomes = race(relying_party, callbacks)
        won = [o for o in outcomes if isinstance(o, LoginResult)]
        lost = [o for o in outcomes if isinstance(o, LoginRefused)]
        assert len(won) == 1 and len(lost) == 1, outcomes
        assert won[0].linked and lost[0].code == "taken"
        assert links_of(sessions, player_id) == [won[0].username]
        # free the player for the next round
        with sessions() as session:
            session.execute(
                User.__table__.update()
                .where(User.faceit_player_id == player_id)
                .values(faceit_player_id=None)
            )
            session.commit()


def test_two_first_logins_of_one_player_at_once_make_one_account(
    login: tuple[FaceitLogin, DemoOidcProvider], sessions: Callable[[], Session]
) -> None:
    relying_party, provider = login
    callbacks = [asyncio.run(code_for(relying_party, provider, None)) for _ in range(3)]
    outcomes = race(relying_party, callbacks)
    assert all(isinstance(o, LoginResult) for o in outcomes), outcomes
    assert len({o.user_id for o in outcomes}) == 1
    assert sum(o.created for o in outcomes) == 1
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(User)) == 1
    assert links_of(sessions, PLAYERS[0][0]) == ["alpha_one"]
