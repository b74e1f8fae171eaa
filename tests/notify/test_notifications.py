"""Notifications end to end: the outbox, apprise, and in-process stand-ins speaking each
channel's wire format (Discord's webhook API, Telegram's Bot API over HTTP, SMTP)."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from core import auth, notify
from core.db.engine import make_session_factory
from core.db.schema import NotificationChannel, NotificationOutbox
from core.settings import Settings, load_settings
from tests.utils.channel_stand_ins import (
    DISCORD_ID,
    DISCORD_TOKEN,
    TELEGRAM_CHAT,
    TELEGRAM_TOKEN,
    Mailbox,
    StandIn,
    port_in_range,
)


@pytest.fixture
def stand_in() -> Iterator[StandIn]:
    server = StandIn()
    yield server
    server.close()


@pytest.fixture
def mailbox() -> Iterator[tuple[Mailbox, int]]:
    box = Mailbox()
    port = port_in_range()
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    yield box, port
    controller.stop()


@pytest.fixture
def settings(stand_in: StandIn, mailbox: tuple[Mailbox, int], tmp_path: Path) -> Settings:
    return load_settings(
        environment="test",
        data_dir=tmp_path,
        secret_key="notify-test-secret-" + "k" * 40,
        notify_discord_api=stand_in.url,
        notify_telegram_api=stand_in.url,
        notify_smtp_host="127.0.0.1",
        notify_smtp_port=mailbox[1],
        notify_smtp_mode="insecure",
        notify_retry_seconds=0,
        public_url="http://app.example.com",
    )


@pytest.fixture
def user(engine: Engine, settings: Settings, monkeypatch: pytest.MonkeyPatch) -> tuple[int, Any]:
    """A user following player p1 with a Discord, a Telegram and an email channel."""
    monkeypatch.setattr(auth, "BCRYPT_ROUNDS", 4)
    sessions = make_session_factory(engine)
    with sessions() as session:
        row = auth.register_user(session, "fan", "fan@example.com", "Quiet-Harbour-4821", "free")
        notify.follow(session, row.id, "p1")
        notify.follow(session, row.id, "p1")  # a repeat is a no-op
        notify.add_channel(
            session,
            settings,
            row.id,
            "discord",
            {"webhook_url": f"https://discord.com/api/webhooks/{DISCORD_ID}/{DISCORD_TOKEN}"},
        )
        notify.add_channel(
            session,
            settings,
            row.id,
            "telegram",
            {"bot_token": TELEGRAM_TOKEN, "chat_id": TELEGRAM_CHAT},
        )
        notify.add_channel(session, settings, row.id, "email", {"address": "fan@example.com"})
        return row.id, sessions


def announce(sessions: sessionmaker[Session], key: str, players: list[str] | None = None) -> int:
    with sessions.begin() as session:
        return notify.queue(
            session, players or ["p1", "p2"], "result", key, f"Result {key}", f"body of {key}"
        )


def test_every_channel_receives_exactly_one_message_per_event(
    user: tuple[int, Any],
    settings: Settings,
    stand_in: StandIn,
    mailbox: tuple[Mailbox, int],
    caplog: pytest.LogCaptureFixture,
) -> None:
    _user_id, sessions = user
    caplog.set_level(logging.DEBUG)
    assert announce(sessions, "result:m1") == 4  # the inbox came with the first follow
    assert announce(sessions, "result:m1") == 0  # the same event again: nothing more
    assert announce(sessions, "result:m9", ["somebody-else"]) == 0  # not followed
    assert notify.send_due(sessions, settings) == 4
    assert notify.send_due(sessions, settings) == 0
    with sessions() as session:
        (in_app,) = notify.inbox(session, _user_id)
    assert (in_app.title, in_app.body) == ("Result result:m1", "body of result:m1")
    (discord,) = stand_in.of("discord")
    assert "body of result:m1" in json.dumps(discord)
    (telegram,) = stand_in.of("telegram")
    assert telegram.get("chat_id") in (TELEGRAM_CHAT, int(TELEGRAM_CHAT))
    assert "body of result:m1" in telegram.get("text", "")
    (mail,) = mailbox[0].messages
    assert mail["To"] == "fan@example.com"
    text = mail.get_payload(decode=True).decode()
    assert "body of result:m1" in text
    assert "http://app.example.com/unsubscribe?token=" in text
    # the credentials are encrypted at rest, shown masked, and never logged
    with sessions() as session:
        rows = session.scalars(select(NotificationChannel)).all()
    for secret in (DISCORD_TOKEN, TELEGRAM_TOKEN, "fan@example.com"):
        assert all(secret.encode() not in r.secret for r in rows)
    for secret in (DISCORD_TOKEN, TELEGRAM_TOKEN):  # the SMTP stand-in logs the address itself
        assert secret not in caplog.text
    assert {r.hint for r in rows} == {
        "In-app inbox (Account page)",
        "Discord webhook …wxyz",
        "Telegram chat …242",
        "Email f…@example.com",
    }


def test_a_channel_that_is_down_gets_the_message_once_it_is_back(
    user: tuple[int, Any], settings: Settings, stand_in: StandIn, mailbox: tuple[Mailbox, int]
) -> None:
    _user_id, sessions = user
    stand_in.down = True
    announce(sessions, "result:m2")
    assert notify.send_due(sessions, settings) == 2  # only the email and the inbox
    with sessions() as session:
        waiting = session.scalars(
            select(NotificationOutbox).where(NotificationOutbox.status == "pending")
        ).all()
    assert len(waiting) == 2 and all(r.attempts == 1 and r.error for r in waiting)
    assert all(DISCORD_TOKEN not in (r.error or "") for r in waiting)
    stand_in.down = False
    assert notify.send_due(sessions, settings) == 2
    assert len(stand_in.of("discord")) == 1 and len(stand_in.of("telegram")) == 1
    assert len(mailbox[0].messages) == 1
    assert notify.send_due(sessions, settings) == 0


def test_an_unsubscribed_channel_receives_nothing(
    user: tuple[int, Any], settings: Settings, stand_in: StandIn, mailbox: tuple[Mailbox, int]
) -> None:
    user_id, sessions = user
    with sessions() as session:
        email = next(c for c in notify.channels(session, user_id) if c.kind == "email")
        assert notify.unsubscribe(session, settings, f"{email.id}.forged") is None
        token = notify.unsubscribe_token(settings, email.id)
        assert notify.unsubscribe(session, settings, token) is not None
    announce(sessions, "result:m3")
    assert notify.send_due(sessions, settings) == 3
    assert mailbox[0].messages == []
    assert len(stand_in.of("discord")) == 1


def test_a_user_gets_at_most_the_hourly_limit_and_the_rest_waits(
    user: tuple[int, Any], settings: Settings, stand_in: StandIn
) -> None:
    _user_id, sessions = user
    limited = settings.model_copy(update={"notify_per_user_per_hour": 4})
    announce(sessions, "result:m4")
    announce(sessions, "result:m5")
    assert notify.send_due(sessions, limited) == 4
    with sessions() as session:
        (held, *others) = session.scalars(
            select(NotificationOutbox).where(NotificationOutbox.status == "pending")
        ).all()
        held_rows = [held, *others]
    later = datetime.now(UTC) + timedelta(minutes=50)
    assert len(held_rows) == 4 and all(r.next_attempt_at > later for r in held_rows)
    assert all(r.attempts == 0 for r in held_rows)  # held back, not failed


def test_bad_channel_details_are_refused_with_a_clear_message_and_nothing_stored(
    user: tuple[int, Any], settings: Settings
) -> None:
    user_id, sessions = user
    bad = [
        ("discord", {"webhook_url": "https://example.com/hook"}, "Discord webhook URL"),
        ("telegram", {"bot_token": "nope", "chat_id": "1"}, "bot token"),
        ("telegram", {"bot_token": TELEGRAM_TOKEN, "chat_id": "x y"}, "chat id"),
        ("email", {"address": "not-an-address"}, "email address"),
        ("pigeon", {}, "Unknown channel"),
    ]
    with sessions() as session:
        before = len(notify.channels(session, user_id))
        for kind, fields, message in bad:
            with pytest.raises(notify.ChannelError, match=message):
                notify.add_channel(session, settings, user_id, kind, fields)
        assert len(notify.channels(session, user_id)) == before


def test_rotating_the_key_keeps_every_channel_working(
    user: tuple[int, Any], settings: Settings, stand_in: StandIn
) -> None:
    """NOTIFY_KEYS = [new, old]: the old key still decrypts and rotate_secrets re-encrypts
    with the new one, after which the old key can go."""
    from cryptography.fernet import Fernet

    _user_id, sessions = user
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    with sessions() as session:  # start from channels under an explicit old key
        assert notify.rotate_secrets(session, with_keys(settings, [old, "derived"])) == 3
        assert notify.rotate_secrets(session, with_keys(settings, [new, old])) == 3
    announce(sessions, "result:m6")
    assert notify.send_due(sessions, with_keys(settings, [new])) == 4


def with_keys(settings: Settings, keys: list[str]) -> Settings:
    """``settings`` with NOTIFY_KEYS = keys ("derived": the key derived from SECRET_KEY)."""
    import base64
    import hashlib

    from pydantic import SecretStr

    digest = hashlib.sha256(b"faceit-ai notify\0" + settings.resolved_secret_key().encode())
    derived = base64.urlsafe_b64encode(digest.digest()).decode()
    values = [SecretStr(derived if k == "derived" else k) for k in keys]
    return settings.model_copy(update={"notify_keys": values})


@pytest.fixture
def newcomer(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> tuple[int, Any]:
    """A user with no channel linked at all."""
    monkeypatch.setattr(auth, "BCRYPT_ROUNDS", 4)
    sessions = make_session_factory(engine)
    with sessions() as session:
        row = auth.register_user(session, "newbie", "newbie@example.com", "Quiet-Harbour-4821")
        return row.id, sessions


def test_a_newcomer_hears_in_the_app_inbox_through_the_same_outbox(
    newcomer: tuple[int, Any], settings: Settings, stand_in: StandIn
) -> None:
    """No Discord, Telegram or email: following a player gives the user an in-app inbox, and
    the same outbox rows and send_due deliver to it (once per event, the text kept as typed:
    the page escapes it, the store does not rewrite it)."""
    user_id, sessions = newcomer
    with sessions() as session:
        assert notify.channels(session, user_id) == []
        notify.follow(session, user_id, "p1")
        notify.follow(session, user_id, "p2")
        (channel,) = notify.channels(session, user_id)
    assert channel.kind == "inbox" and channel.hint == "In-app inbox (Account page)"
    hostile = "<img src=x onerror=alert(1)> **bold** [link](http://evil) '; DROP TABLE users;--"
    with sessions.begin() as session:
        assert notify.queue(session, ["p1", "p2"], "result", "result:m1", "Result", hostile) == 1
    with sessions.begin() as session:
        assert notify.queue(session, ["p1"], "result", "result:m1", "Result", hostile) == 0
    with sessions() as session:
        assert notify.inbox(session, user_id) == []  # queued, not delivered yet
    assert notify.send_due(sessions, settings) == 1
    assert notify.send_due(sessions, settings) == 0
    with sessions() as session:
        (message,) = notify.inbox(session, user_id)
        (row,) = notify.outbox_for(session, user_id)
    assert (message.title, message.body) == ("Result", hostile)
    assert row.status == "sent" and row.sent_at is not None and row.attempts == 1
    assert stand_in.received == []  # nothing left the machine


def test_a_muted_inbox_receives_nothing_until_unmuted(
    newcomer: tuple[int, Any], settings: Settings
) -> None:
    user_id, sessions = newcomer
    with sessions() as session:
        notify.follow(session, user_id, "p1")
        (channel,) = notify.channels(session, user_id)
    announce(sessions, "result:m1")
    with sessions() as session:
        assert notify.set_muted(session, user_id, channel.id, True)
        assert not notify.set_muted(session, user_id + 1, channel.id, False)  # not theirs
    announce(sessions, "result:m2")
    assert notify.send_due(sessions, settings) == 0
    with sessions() as session:
        assert notify.inbox(session, user_id) == []
        notify.unfollow(session, user_id, "p1")
        notify.follow(session, user_id, "p1")  # following again does not unmute it
        assert len(notify.channels(session, user_id)) == 1
        assert notify.set_muted(session, user_id, channel.id, False)
    announce(sessions, "result:m3")
    assert notify.send_due(sessions, settings) == 1
    with sessions() as session:
        assert [m.title for m in notify.inbox(session, user_id)] == ["Result result:m3"]


def test_concurrent_follows_make_one_inbox(
    pg_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two tabs follow two players at the same moment (PostgreSQL): one inbox, so each
    message reaches the user once."""
    import threading
    from concurrent.futures import ThreadPoolExecutor

    monkeypatch.setattr(auth, "BCRYPT_ROUNDS", 4)
    sessions = make_session_factory(pg_engine)
    with sessions() as session:
        user_id = auth.register_user(
            session, "twotabs", "tabs@example.com", "Quiet-Harbour-4821"
        ).id
    players = [f"p{i}" for i in range(6)]
    barrier = threading.Barrier(len(players))

    def follow(player_id: str) -> None:
        with sessions() as session:
            barrier.wait()
            notify.follow(session, user_id, player_id)

    with ThreadPoolExecutor(max_workers=len(players)) as pool:
        list(pool.map(follow, players))
    with sessions() as session:
        assert [c.kind for c in notify.channels(session, user_id)] == ["inbox"]
        assert sorted(notify.followed(session, user_id)) == players
    assert announce(sessions, "result:m1", players) == 1
