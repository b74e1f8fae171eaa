"""The Account page's notification settings and the unsubscribe link's page."""

from __future__ import annotations

from typing import Any

from streamlit.testing.v1 import AppTest

from core import notify
from core.db.schema import User
from core.settings import get_settings
from tests.app_auth.test_app_auth_gates import app, logged_in, texts

HOOK_TOKEN = "hushHushToken_0123456789abcdefghijklmnop"
HOOK = f"https://discord.com/api/webhooks/1234567890123/{HOOK_TOKEN}"


def everything_shown(at: AppTest) -> str:
    shown = [texts(at)]
    shown += [str(t.value) for t in at.dataframe]
    shown += [t.value or "" for t in at.text_input]
    return "\n".join(shown)


def add_channel(at: AppTest, kind: str, **fields: str) -> AppTest:
    at.selectbox[-1].select(kind).run()
    labels = {
        "webhook_url": "Discord webhook URL (for a Discord channel)",
        "bot_token": "Telegram bot token (for Telegram)",
        "chat_id": "Telegram chat id (for Telegram)",
        "address": "Email address (for email)",
    }
    for name, value in fields.items():
        next(t for t in at.text_input if t.label == labels[name]).input(value)
    next(b for b in at.button if b.label == "Add channel").click().run()
    assert not at.exception, at.exception
    return at


def test_a_linked_channel_is_shown_masked_and_bad_details_are_refused(
    users: dict[str, User], sessions: Any
) -> None:
    at = logged_in("freddy")
    assert "No channel linked yet" in texts(at)
    at = add_channel(at, "discord", webhook_url="https://example.com/not-discord")
    assert any("Discord webhook URL" in e.value for e in at.error)
    with sessions() as session:
        assert notify.channels(session, users["free"].id) == []
    at = add_channel(at, "discord", webhook_url=HOOK)
    assert "Discord webhook …mnop" in texts(at)
    assert HOOK_TOKEN not in texts(at), "in texts"
    assert all(HOOK_TOKEN not in str(t.value) for t in at.dataframe), "in tables"
    assert all(HOOK_TOKEN not in (t.value or "") for t in at.text_input), [
        t.label for t in at.text_input if HOOK_TOKEN in (t.value or "")
    ]
    with sessions() as session:
        (channel,) = notify.channels(session, users["free"].id)
    assert HOOK_TOKEN.encode() not in channel.secret


def test_the_unsubscribe_link_stops_the_channel(users: dict[str, User], sessions: Any) -> None:
    settings = get_settings()
    with sessions() as session:
        channel = notify.add_channel(
            session, settings, users["free"].id, "email", {"address": "freddy@example.com"}
        )
        channel_id = channel.id
    at = app()
    at.run()
    at.query_params["token"] = f"{channel_id}.forged"
    at.switch_page("views/unsubscribe.py").run()
    assert "not valid" in at.error[0].value
    at = app()
    at.run()
    at.query_params["token"] = notify.unsubscribe_token(settings, channel_id)
    at.switch_page("views/unsubscribe.py").run()
    assert not at.exception, at.exception
    assert "gets no more notifications" in at.success[0].value
    with sessions() as session:
        (channel,) = notify.channels(session, users["free"].id)
    assert channel.unsubscribed_at is not None
