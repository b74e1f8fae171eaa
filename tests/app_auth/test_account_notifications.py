"""The Account page's notification settings and the unsubscribe link's page."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from streamlit.testing.v1 import AppTest

from core import notify
from core.db.schema import User
from core.settings import get_settings
from core.sources import demo_league
from tests.app.test_match_room import add_live_match
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


def test_follow_in_the_match_room_then_the_message_is_read_in_the_inbox(
    users: dict[str, User], sessions: Any, seeded: dict[str, Any]
) -> None:
    """A logged-in user presses Follow next to a lineup player in the Match room; the next
    result of that player reaches the Account page's inbox through the outbox, escaped."""
    from core.db import transaction
    from tests.app.test_match_room import add_live_match

    match_id = add_live_match("created")
    at = logged_in("freddy")
    at.query_params["match"] = match_id
    at.switch_page("views/match_room.py").run()
    assert not at.exception, at.exception
    follow = [b for b in at.button if b.label.startswith("Follow ")]
    assert len(follow) == 10  # one per lineup player
    nickname = follow[0].label.removeprefix("Follow ").replace("\\", "")
    follow[0].click().run()
    assert not at.exception, at.exception
    assert [b.label for b in at.button if b.label.startswith("Following ")] == [
        follow[0].label.replace("Follow ", "Following ", 1)
    ]
    with sessions() as session:
        (player_id,) = notify.followed(session, users["free"].id)
        (channel,) = notify.channels(session, users["free"].id)
    assert channel.kind == "inbox"
    body = f"{nickname} won on Mirage.\n<b>20 kills</b> **not bold**"
    with transaction(sessions) as session:
        notify.queue(session, [player_id], "result", "result:room", "Result: a vs b", body)
    assert notify.send_due(sessions, get_settings()) == 1
    at.switch_page("views/account.py").run()
    assert not at.exception, at.exception
    shown = texts(at)
    assert "**Result\\: a vs b** · just now" in shown
    assert "\\<b\\>20 kills\\</b\\> \\*\\*not bold\\*\\*" in shown  # shown as typed
    assert "Your inbox is empty" not in shown


def test_a_visitor_is_asked_to_log_in_to_follow(seeded: dict[str, Any]) -> None:
    from tests.app.test_match_room import add_live_match, open_room

    at = open_room(add_live_match("configuring"))
    assert not [b for b in at.button if b.label.startswith("Follow")]
    links = [link.proto.label for link in at.get("page_link")]
    assert "Log in to follow players and hear about their matches" in links


def add_stranger_match(sessions: Any, match_id: str, *, minutes: int) -> None:
    """A live match of one unknown player (named ``match_id``), updated ``minutes`` from now:
    newer than the demo players' matches, followed by nobody."""
    from datetime import UTC, datetime, timedelta

    from core.db.schema import LiveMatch

    with sessions() as session:
        session.add(
            LiveMatch(
                match_id=match_id,
                status="created",
                teams={
                    "faction1": {
                        "name": f"team_{match_id}",
                        "players": [{"player_id": match_id, "nickname": match_id}],
                    }
                },
                updated_at=datetime.now(UTC) + timedelta(minutes=minutes),
            )
        )
        session.commit()


def test_the_match_room_offers_a_followed_players_match_first(
    users: dict[str, User], sessions: Any, seeded: dict[str, Any]
) -> None:
    from core.db.schema import LiveMatch
    from tests.app.test_match_room import add_live_match

    theirs = add_live_match("configuring")  # the first ten demo players
    with sessions() as session:
        (fan_of,) = session.scalars(
            select(LiveMatch.teams).where(LiveMatch.match_id == theirs)
        ).all()
        followed_id = fan_of["faction1"]["players"][0]["player_id"]
        notify.follow(session, users["free"].id, followed_id)
    add_stranger_match(sessions, "1-newer-stranger-match", minutes=1)
    at = logged_in("freddy")
    at.switch_page("views/match_room.py").run()
    assert not at.exception, at.exception
    picker = at.selectbox[0]
    assert picker.value == theirs  # followed first, although the other match is newer
    labels = picker.options  # as shown: formatted
    assert labels[0].startswith("★ Map veto · ") and not labels[1].startswith("★")


def test_a_followed_players_match_takes_over_the_open_room_and_a_pick_stays(
    users: dict[str, User], sessions: Any, seeded: dict[str, Any]
) -> None:
    """The room is open on a stranger's match when the followed player's match arrives: it
    switches to it by itself; a newer stranger's match does not; a match the user picked
    stays picked (and in the address) whatever arrives."""
    add_stranger_match(sessions, "1-stranger-first", minutes=1)
    league = demo_league(get_settings())
    with sessions() as session:
        notify.follow(session, users["free"].id, str(league.players_frame()["player_id"][0]))
    at = logged_in("freddy")
    at.switch_page("views/match_room.py").run()
    assert not at.exception, at.exception
    assert at.selectbox[0].value == "1-stranger-first"
    assert "match" not in at.query_params  # shown by default, not picked

    add_stranger_match(sessions, "1-stranger-newer", minutes=2)
    at.run()
    assert at.selectbox[0].value == "1-stranger-first"  # a stranger's match does not take over

    theirs = add_live_match("created")  # the first ten demo players: the followed one plays
    at.run()
    assert not at.exception, at.exception
    assert at.selectbox[0].value == theirs
    assert at.selectbox[0].options[0].startswith("★ Match found · ")

    picker = at.selectbox[0]
    picker.select_index(next(i for i, o in enumerate(picker.options) if "newer" in o)).run()
    assert at.selectbox[0].value == "1-stranger-newer"
    assert at.query_params["match"] in ("1-stranger-newer", ["1-stranger-newer"])
    add_live_match("configuring")  # another match of the followed player
    at.run()
    assert at.selectbox[0].value == "1-stranger-newer"  # the user's pick stays


def test_the_inbox_can_be_muted_and_unmuted_on_the_account_page(
    users: dict[str, User], sessions: Any
) -> None:
    with sessions() as session:
        notify.follow(session, users["free"].id, "some-player")
    at = logged_in("freddy")
    assert "**In\\-app inbox \\(Account page\\)** · prediction, result, weekly, billing" in texts(
        at
    )
    next(b for b in at.button if b.label == "Mute").click().run()
    assert not at.exception, at.exception
    with sessions() as session:
        (inbox,) = notify.channels(session, users["free"].id)
    assert inbox.unsubscribed_at is not None and "· muted" in texts(at)
    next(b for b in at.button if b.label == "Unmute").click().run()
    with sessions() as session:
        (inbox,) = notify.channels(session, users["free"].id)
    assert inbox.unsubscribed_at is None and "· muted" not in texts(at)
