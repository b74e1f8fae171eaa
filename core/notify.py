"""Notifications: follows, channels with encrypted credentials, a durable outbox, delivery.

Channels: the in-app inbox (the Account page's Notifications list: every user who follows a
player has one, so a newcomer hears from us with no outside account), a Discord webhook, a
Telegram bot and chat, an email address. Every channel goes through the same outbox and
``send_due``; delivering to the inbox is marking the message sent (there is nothing to call).
The credential is
encrypted at rest with Fernet (``MultiFernet`` over NOTIFY_KEYS: the first key encrypts, every
key decrypts, ``rotate_secrets`` re-encrypts with the first), shown back only as a masked
``hint`` and never logged (errors are recorded without the URL).

The outbox: ``queue`` writes one row per channel of every follower of a match's players, in
the caller's transaction (the one that stores the event), unique per (channel, event): a
repeat adds nothing. ``send_due`` claims due rows one at a time (a compare-and-set on
``attempts``, so two senders never take the same row), sends it with apprise, and marks it
sent, or puts it back with a doubling delay (failed after NOTIFY_MAX_ATTEMPTS). A user gets at
most NOTIFY_PER_USER_PER_HOUR messages an hour: the rest wait for the window, never dropped.
A channel unsubscribed (the link in every email) sends nothing more: its pending rows are
dropped.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, sessionmaker

from core.db.schema import (
    CHANNEL_KINDS,
    NOTIFY_TOPICS,
    Follow,
    NotificationChannel,
    NotificationOutbox,
)
from core.db.types import utcnow
from core.settings import Settings
from core.store import insert_for

log = logging.getLogger(__name__)

LEASE = timedelta(minutes=2)
DISCORD_WEBHOOK = re.compile(
    r"^https://(?:ptb\.|canary\.)?discord(?:app)?\.com/api/webhooks/(\d{5,25})/([\w-]{20,120})/?$"
)
TELEGRAM_TOKEN = re.compile(r"^\d{3,15}:[\w-]{20,80}$")
TELEGRAM_CHAT = re.compile(r"^(-?\d{1,20}|@\w{4,64})$")
EMAIL = re.compile(r"^[^@\s<>\"',;]{1,64}@[A-Za-z0-9.-]{1,190}\.[A-Za-z]{2,24}$")


class ChannelError(ValueError):
    """A channel's details are not usable; the message says what to fix."""


# ---- credentials --------------------------------------------------------------------------


def cipher(settings: Settings) -> MultiFernet:
    """NOTIFY_KEYS (the first encrypts), or one key derived from SECRET_KEY when none is set."""
    keys = [k.get_secret_value() for k in settings.notify_keys]
    if not keys:
        digest = hashlib.sha256(b"faceit-ai notify\0" + settings.resolved_secret_key().encode())
        keys = [base64.urlsafe_b64encode(digest.digest()).decode()]
    return MultiFernet([Fernet(k) for k in keys])


def _mask(text: str, keep: int = 4) -> str:
    return "…" + text[-keep:] if len(text) > keep else "…"


INBOX = "inbox"
INBOX_HINT = "In-app inbox (Account page)"
LINKABLE_KINDS = tuple(k for k in CHANNEL_KINDS if k != INBOX)
"""The channels a user links by hand (the inbox comes with the first follow)."""


def parse_credential(kind: str, fields: dict[str, str]) -> tuple[dict[str, str], str]:
    """Check what a user typed for a channel: (the credential to encrypt, its masked hint)."""
    if kind not in LINKABLE_KINDS:
        raise ChannelError(f"Unknown channel {kind!r}; choose one of {', '.join(LINKABLE_KINDS)}.")
    clean = {k: (v or "").strip() for k, v in fields.items()}
    if kind == "discord":
        found = DISCORD_WEBHOOK.match(clean.get("webhook_url", ""))
        if not found:
            raise ChannelError(
                "Paste the Discord webhook URL (Server settings → Integrations → Webhooks): "
                "https://discord.com/api/webhooks/<id>/<token>."
            )
        return {"id": found[1], "token": found[2]}, f"Discord webhook {_mask(found[2])}"
    if kind == "telegram":
        token, chat = clean.get("bot_token", ""), clean.get("chat_id", "")
        if not TELEGRAM_TOKEN.match(token):
            raise ChannelError("The Telegram bot token looks like 123456789:AA... (@BotFather).")
        if not TELEGRAM_CHAT.match(chat):
            raise ChannelError("The Telegram chat id is a number (or @channelname).")
        return {"token": token, "chat": chat}, f"Telegram chat {_mask(chat, 3)}"
    address = clean.get("address", "")
    if not EMAIL.match(address):
        raise ChannelError("Enter an email address such as you@example.com.")
    local, domain = address.split("@", 1)
    return {"address": address}, f"Email {local[:1]}…@{domain}"


def add_channel(
    session: Session,
    settings: Settings,
    user_id: int,
    kind: str,
    fields: dict[str, str],
    topics: dict[str, bool] | None = None,
) -> NotificationChannel:
    """Link a channel (credential encrypted); commits. Raises ChannelError on bad input
    (nothing is stored)."""
    credential, hint = parse_credential(kind, fields)
    wanted = {t: bool((topics or {}).get(t, True)) for t in NOTIFY_TOPICS}
    row = NotificationChannel(
        user_id=user_id,
        kind=kind,
        secret=cipher(settings).encrypt(json.dumps(credential).encode()),
        hint=hint,
        topics=wanted,
    )
    session.add(row)
    session.commit()
    return row


def inbox_channel(session: Session, user_id: int) -> int:
    """The id of the user's in-app inbox channel, created in the caller's transaction when
    they have none (INSERT ... ON CONFLICT DO NOTHING on the one-inbox-per-user index: two
    follows at once make one). A muted inbox stays muted."""
    mine = (NotificationChannel.user_id == user_id, NotificationChannel.kind == INBOX)
    found = session.scalar(select(NotificationChannel.id).where(*mine))
    if found is not None:
        return int(found)
    session.execute(
        insert_for(session, NotificationChannel.__table__)  # type: ignore[arg-type]
        .values(
            user_id=user_id,
            kind=INBOX,
            secret=b"",  # nothing secret to keep: the inbox is this database
            hint=INBOX_HINT,
            topics={t: True for t in NOTIFY_TOPICS},
            created_at=utcnow(),
        )
        .on_conflict_do_nothing(
            index_elements=["user_id"], index_where=NotificationChannel.kind == INBOX
        )
    )
    return int(session.scalars(select(NotificationChannel.id).where(*mine)).one())


def set_muted(session: Session, user_id: int, channel_id: int, muted: bool) -> bool:
    """Mute (nothing more is queued to it; its pending messages dropped) or unmute one of the
    user's channels; commits."""
    row = session.get(NotificationChannel, channel_id)
    if row is None or row.user_id != user_id:
        return False
    if muted and row.unsubscribed_at is None:
        row.unsubscribed_at = utcnow()
        session.execute(
            update(NotificationOutbox)
            .where(NotificationOutbox.channel_id == row.id, NotificationOutbox.status == "pending")
            .values(status="dropped", error="muted")
        )
    elif not muted:
        row.unsubscribed_at = None
    session.commit()
    return True


def channels(session: Session, user_id: int) -> list[NotificationChannel]:
    return list(
        session.scalars(
            select(NotificationChannel)
            .where(NotificationChannel.user_id == user_id)
            .order_by(NotificationChannel.id)
        )
    )


def remove_channel(session: Session, user_id: int, channel_id: int) -> bool:
    """Unlink one of the user's channels (its pending messages go with it); commits."""
    row = session.get(NotificationChannel, channel_id)
    if row is None or row.user_id != user_id:
        return False
    session.delete(row)
    session.commit()
    return True


def rotate_secrets(session: Session, settings: Settings) -> int:
    """Re-encrypt every credential with the first NOTIFY_KEYS key; commits; how many."""
    box = cipher(settings)
    rows = list(
        session.scalars(select(NotificationChannel).where(NotificationChannel.kind != INBOX))
    )
    for row in rows:
        row.secret = box.rotate(row.secret)
    session.commit()
    return len(rows)


# ---- unsubscribe links ----------------------------------------------------------------------


def _signature(settings: Settings, channel_id: int) -> str:
    key = settings.resolved_secret_key().encode()
    mac = hmac.new(key, f"unsubscribe:{channel_id}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac[:18]).decode()


def unsubscribe_token(settings: Settings, channel_id: int) -> str:
    return f"{channel_id}.{_signature(settings, channel_id)}"


def unsubscribe_link(settings: Settings, channel_id: int) -> str:
    base = settings.public_url.rstrip("/")
    return f"{base}/unsubscribe?token={quote(unsubscribe_token(settings, channel_id))}"


def unsubscribe(session: Session, settings: Settings, token: str) -> NotificationChannel | None:
    """The channel of a valid unsubscribe token, unsubscribed (its pending messages dropped);
    commits. None for a token that is not ours (nothing changes)."""
    head, _, signature = (token or "").strip().partition(".")
    if not head.isdigit() or not hmac.compare_digest(
        signature.encode(), _signature(settings, int(head)).encode()
    ):
        return None
    row = session.get(NotificationChannel, int(head))
    if row is None:
        return None
    if row.unsubscribed_at is None:
        row.unsubscribed_at = utcnow()
        session.execute(
            update(NotificationOutbox)
            .where(NotificationOutbox.channel_id == row.id, NotificationOutbox.status == "pending")
            .values(status="dropped", error="unsubscribed")
        )
    session.commit()
    return row


# ---- follows ----------------------------------------------------------------------------------


def follow(session: Session, user_id: int, player_id: str) -> None:
    """Follow a player (a repeat is a no-op), and give the user an in-app inbox if they have
    none; commits."""
    inbox_channel(session, user_id)
    session.execute(
        insert_for(session, Follow.__table__)  # type: ignore[arg-type]
        .values(user_id=user_id, player_id=player_id, created_at=utcnow())
        .on_conflict_do_nothing(index_elements=["user_id", "player_id"])
    )
    session.commit()


def unfollow(session: Session, user_id: int, player_id: str) -> None:
    row = session.get(Follow, (user_id, player_id))
    if row is not None:
        session.delete(row)
    session.commit()


def followed(session: Session, user_id: int) -> list[str]:
    return list(
        session.scalars(
            select(Follow.player_id).where(Follow.user_id == user_id).order_by(Follow.created_at)
        )
    )


def recently_followed(session: Session, limit: int = 200) -> list[str]:
    """Players someone follows, the most recently followed first."""
    newest = func.max(Follow.created_at)
    return list(
        session.scalars(
            select(Follow.player_id)
            .group_by(Follow.player_id)
            .order_by(newest.desc(), Follow.player_id)
            .limit(limit)
        )
    )


def followed_by_anyone(session: Session) -> list[str]:
    return list(session.scalars(select(Follow.player_id).distinct().order_by(Follow.player_id)))


# ---- the outbox -------------------------------------------------------------------------------


def queue(
    session: Session,
    player_ids: list[str],
    topic: str,
    event_key: str,
    title: str,
    body: str,
) -> int:
    """One message per subscribed channel of every user following one of ``player_ids``;
    flushes in the caller's transaction. Returns how many rows were added."""
    if topic not in NOTIFY_TOPICS or not player_ids:
        return 0
    rows = session.execute(
        select(NotificationChannel.id, NotificationChannel.user_id, NotificationChannel.topics)
        .join(Follow, Follow.user_id == NotificationChannel.user_id)
        .where(Follow.player_id.in_(player_ids), NotificationChannel.unsubscribed_at.is_(None))
    ).all()
    return _insert(session, rows, topic, event_key, title, body)


def queue_to_user(
    session: Session, user_id: int, topic: str, event_key: str, title: str, body: str
) -> int:
    """One message per subscribed channel of one user (a weekly report, a billing event; the
    in-app inbox is created if they have none); flushes in the caller's transaction. Returns
    how many rows were added (0 for a repeat of ``event_key``)."""
    if topic not in NOTIFY_TOPICS:
        return 0
    inbox_channel(session, user_id)
    rows = session.execute(
        select(
            NotificationChannel.id, NotificationChannel.user_id, NotificationChannel.topics
        ).where(
            NotificationChannel.user_id == user_id, NotificationChannel.unsubscribed_at.is_(None)
        )
    ).all()
    return _insert(session, rows, topic, event_key, title, body)


def _insert(session: Session, rows: Any, topic: str, event_key: str, title: str, body: str) -> int:
    unique = {channel_id: (channel_id, u, t) for channel_id, u, t in rows}
    now = utcnow()
    values = [
        {
            "user_id": user_id,
            "channel_id": channel_id,
            "event_key": event_key[:160],
            "topic": topic,
            "title": title[:256],
            "body": body,
            "status": "pending",
            "attempts": 0,
            "next_attempt_at": now,
            "created_at": now,
        }
        for channel_id, user_id, topics in unique.values()
        if (topics or {}).get(topic, True)
    ]
    if not values:
        return 0
    added = session.execute(
        insert_for(session, NotificationOutbox.__table__)  # type: ignore[arg-type]
        .values(values)
        .on_conflict_do_nothing(index_elements=["channel_id", "event_key"])
        .returning(NotificationOutbox.id)
    ).all()
    return len(added)


@dataclass(frozen=True)
class Message:
    id: int
    user_id: int
    channel_id: int
    kind: str
    secret: bytes
    title: str
    body: str
    attempts: int


def _sent_last_hour(session: Session, user_id: int, now: datetime) -> tuple[int, datetime | None]:
    count, oldest = session.execute(
        select(func.count(), func.min(NotificationOutbox.sent_at)).where(
            NotificationOutbox.user_id == user_id,
            NotificationOutbox.status == "sent",
            NotificationOutbox.sent_at > now - timedelta(hours=1),
        )
    ).one()
    return int(count), oldest


def claim(
    sessions: sessionmaker[Session], settings: Settings, now: datetime | None = None
) -> Message | None:
    """The next due message, leased to the caller (commits the claim); a user over the hourly
    limit has theirs moved to when the window allows. None when nothing is due."""
    now = now or utcnow()
    with sessions.begin() as session:
        due = session.execute(
            select(NotificationOutbox.id, NotificationOutbox.attempts, NotificationOutbox.user_id)
            .where(
                NotificationOutbox.status == "pending", NotificationOutbox.next_attempt_at <= now
            )
            .order_by(NotificationOutbox.next_attempt_at, NotificationOutbox.id)
            .limit(20)
        ).all()
        for message_id, attempts, user_id in due:
            count, oldest = _sent_last_hour(session, user_id, now)
            if count >= settings.notify_per_user_per_hour:
                later = (oldest or now) + timedelta(hours=1)
                session.execute(
                    update(NotificationOutbox)
                    .where(NotificationOutbox.id == message_id)
                    .values(next_attempt_at=later)
                )
                continue
            taken = session.execute(
                update(NotificationOutbox)
                .where(
                    NotificationOutbox.id == message_id,
                    NotificationOutbox.status == "pending",
                    NotificationOutbox.attempts == attempts,
                )
                .values(attempts=attempts + 1, next_attempt_at=now + LEASE)
            )
            if taken.rowcount != 1:  # type: ignore[attr-defined]
                continue
            row = session.get(NotificationOutbox, message_id)
            channel = session.get(NotificationChannel, row.channel_id) if row else None
            if row is None or channel is None:
                continue
            if channel.unsubscribed_at is not None:
                row.status, row.error = "dropped", "unsubscribed"
                continue
            return Message(
                row.id,
                row.user_id,
                channel.id,
                channel.kind,
                channel.secret,
                row.title,
                row.body,
                row.attempts,
            )
    return None


def mark_sent(sessions: sessionmaker[Session], message_id: int) -> None:
    with sessions.begin() as session:
        session.execute(
            update(NotificationOutbox)
            .where(NotificationOutbox.id == message_id)
            .values(status="sent", sent_at=utcnow(), error=None)
        )


def mark_failed(
    sessions: sessionmaker[Session], settings: Settings, message: Message, error: str
) -> str:
    """Back to pending with a doubling delay, or failed after the last attempt."""
    status = "failed" if message.attempts >= settings.notify_max_attempts else "pending"
    delay = timedelta(seconds=settings.notify_retry_seconds * 2 ** (message.attempts - 1))
    with sessions.begin() as session:
        session.execute(
            update(NotificationOutbox)
            .where(NotificationOutbox.id == message.id)
            .values(status=status, error=error[:500], next_attempt_at=utcnow() + delay)
        )
    return status


# ---- delivery (apprise) ------------------------------------------------------------------------


def apprise_url(settings: Settings, kind: str, credential: dict[str, str]) -> str:
    if kind == "discord":
        return f"discord://{credential['id']}/{credential['token']}"
    if kind == "telegram":
        return f"tgram://{credential['token']}/{credential['chat']}"
    if not settings.notify_smtp_host:
        raise ChannelError("Email is not configured on this server (NOTIFY_SMTP_HOST).")
    user = settings.notify_smtp_user or ""
    password = (
        settings.notify_smtp_password.get_secret_value() if settings.notify_smtp_password else ""
    )
    auth = f"{quote(user, safe='')}:{quote(password, safe='')}@" if user else ""
    scheme = "mailtos" if settings.notify_smtp_mode == "ssl" else "mailto"
    mode = {"ssl": "ssl", "starttls": "starttls", "insecure": "insecure"}[settings.notify_smtp_mode]
    host = settings.notify_smtp_host
    sender = settings.notify_email_from
    return (
        f"{scheme}://{auth}{host}:{settings.notify_smtp_port}"
        f"?smtp={quote(host)}&mode={mode}&from={quote(sender)}"
        f"&to={quote(credential['address'])}&format=text"
    )


QUIET_LOGGERS = ("apprise", "urllib3")
"""Their DEBUG lines carry the request URL (a Discord webhook token, a Telegram bot token)."""


def deliver(settings: Settings, message: Message) -> None:
    """Send one message with apprise; raises ChannelError (without the credential) on failure."""
    import apprise

    if message.kind == INBOX:  # the Account page lists it once it is marked sent
        return
    for name in QUIET_LOGGERS:  # credentials are never logged, whatever the root level
        quiet = logging.getLogger(name)
        if quiet.getEffectiveLevel() < logging.INFO:
            quiet.setLevel(logging.INFO)

    try:
        credential = json.loads(cipher(settings).decrypt(message.secret))
    except InvalidToken:
        raise ChannelError("the channel's credential cannot be decrypted (NOTIFY_KEYS)") from None
    body = message.body
    if message.kind == "email":
        body += (
            "\n\n--\nYou get this because you follow players on Faceit AI. Unsubscribe: "
            + unsubscribe_link(settings, message.channel_id)
        )
    plugin = apprise.Apprise.instantiate(apprise_url(settings, message.kind, credential))
    if plugin is None:
        raise ChannelError(f"the {message.kind} channel's details are not usable")
    # the API bases are settings, so a relay (or a test's stand-in) can stand for the service
    if message.kind == "discord":
        plugin.notify_url = settings.notify_discord_api.rstrip("/") + "/api/webhooks"  # type: ignore[attr-defined]
    elif message.kind == "telegram":
        plugin.notify_url = settings.notify_telegram_api.rstrip("/") + "/bot"  # type: ignore[attr-defined]
    notifier = apprise.Apprise()
    notifier.add(plugin)
    if not notifier.notify(title=message.title, body=body):
        raise ChannelError(f"the {message.kind} service did not accept the message")


def send_due(sessions: sessionmaker[Session], settings: Settings, limit: int = 100) -> int:
    """Send due messages (at most ``limit``); how many were sent."""
    sent = 0
    started = utcnow()  # a message that fails now waits for the next pass, however short the delay
    for _ in range(limit):
        message = claim(sessions, settings, started)
        if message is None:
            break
        try:
            deliver(settings, message)
        except Exception as exc:  # recorded without the credential, retried later
            reason = str(exc) if isinstance(exc, ChannelError) else type(exc).__name__
            status = mark_failed(sessions, settings, message, reason)
            log.warning("notification %s via %s: %s (%s)", message.id, message.kind, reason, status)
            continue
        mark_sent(sessions, message.id)
        sent += 1
    return sent


def outbox_for(session: Session, user_id: int, limit: int = 20) -> list[NotificationOutbox]:
    return list(
        session.scalars(
            select(NotificationOutbox)
            .where(NotificationOutbox.user_id == user_id)
            .order_by(NotificationOutbox.created_at.desc(), NotificationOutbox.id.desc())
            .limit(limit)
        )
    )


def inbox(session: Session, user_id: int, limit: int = 30) -> list[NotificationOutbox]:
    """The messages delivered to the user's in-app inbox, newest first."""
    return list(
        session.scalars(
            select(NotificationOutbox)
            .join(NotificationChannel, NotificationChannel.id == NotificationOutbox.channel_id)
            .where(
                NotificationOutbox.user_id == user_id,
                NotificationChannel.kind == INBOX,
                NotificationOutbox.status == "sent",
            )
            .order_by(NotificationOutbox.sent_at.desc(), NotificationOutbox.id.desc())
            .limit(limit)
        )
    )
