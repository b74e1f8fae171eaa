"""The Account page's notification settings: followed players, channels, recent messages.

Rendering only: every change goes through core.notify (credentials are encrypted there and only
their masked hint ever comes back to this page).
"""

from __future__ import annotations

import streamlit as st
from streamlit.errors import StreamlitAPIException

from app import auth, present
from app.navigation import ACCOUNT_PAGE
from app.resources import get_resources
from app.widgets import known_nicknames, plain
from core import crud, notify
from core.db.schema import NOTIFY_TOPICS, User

TOPIC_LABELS = {
    "prediction": "Pre-match prediction of a followed player's match",
    "result": "A followed player's match finished (result, Elo, how the prediction did)",
    "weekly": "A weekly report of the players you follow",
    "billing": "Billing: a payment failed, the subscription is ending",
}
KIND_LABELS = {"discord": "Discord webhook", "telegram": "Telegram bot", "email": "Email"}
STATUS_LABELS = {"pending": "waiting", "sent": "sent", "failed": "gave up", "dropped": "dropped"}


def follows_section(user: User) -> None:
    resources = get_resources()
    with resources.sessions() as session:
        followed = []
        for player_id in notify.followed(session, user.id):
            player = crud.get_player(session, player_id)
            followed.append(player.nickname if player else player_id)
    options = known_nicknames()
    chosen = st.multiselect(
        "Players you follow",
        sorted(set(options) | set(followed)),
        default=followed,
        key="follows",
        placeholder="Choose players to hear about their matches",
    )
    if st.button("Save the players I follow", key="save_follows"):
        with resources.sessions() as session:
            wanted = {}
            for nickname in chosen:
                player = crud.find_player(session, nickname)
                if player is not None:
                    wanted[player.id] = nickname
            current = set(notify.followed(session, user.id))
            for player_id in wanted.keys() - current:
                notify.follow(session, user.id, player_id)
            for player_id in current - wanted.keys():
                notify.unfollow(session, user.id, player_id)
        st.success(f"You follow {len(wanted)} player(s).", icon="✅")


def channels_section(user: User) -> None:
    resources = get_resources()
    with resources.sessions() as session:
        rows = notify.channels(session, user.id)
    for row in rows:
        left, right = st.columns([4, 1])
        topics = ", ".join(t for t in NOTIFY_TOPICS if (row.topics or {}).get(t, True)) or "none"
        if row.kind == notify.INBOX:
            state = " · muted" if row.unsubscribed_at else ""
            left.markdown(f"**{plain(row.hint)}** · {topics}{state}")
            muted = row.unsubscribed_at is not None
            if right.button("Unmute" if muted else "Mute", key=f"mute_channel_{row.id}"):
                with resources.sessions() as session:
                    notify.set_muted(session, user.id, row.id, not muted)
                st.rerun()
            continue
        state = " · unsubscribed" if row.unsubscribed_at else ""
        left.markdown(f"**{plain(row.hint)}** · {topics}{state}")
        if right.button("Remove", key=f"remove_channel_{row.id}"):
            with resources.sessions() as session:
                notify.remove_channel(session, user.id, row.id)
            st.rerun()
    if not rows:
        st.caption("No channel linked yet: add one below.")
    with st.form("add_channel"):
        st.selectbox(
            "Channel", list(KIND_LABELS), format_func=KIND_LABELS.__getitem__, key="channel_kind"
        )
        for name, (label, placeholder, secret) in FIELDS.items():
            st.text_input(
                label,
                placeholder=placeholder,
                type="password" if secret else "default",
                key=f"channel_{name}",
            )
        for topic in NOTIFY_TOPICS:
            st.checkbox(TOPIC_LABELS[topic], value=True, key=f"channel_topic_{topic}")
        st.form_submit_button(
            "Add channel", type="primary", on_click=add_channel_submitted, args=(user.id,)
        )
    kind, message = st.session_state.pop("channel_outcome", (None, None))
    if kind == "error":
        st.error(message, icon="⚠️")
    elif kind == "success":
        st.success(message, icon="✅")


FIELDS = {
    "webhook_url": (
        "Discord webhook URL (for a Discord channel)",
        "https://discord.com/api/webhooks/…",
        True,
    ),
    "bot_token": ("Telegram bot token (for Telegram)", "123456:AA…", True),
    "chat_id": ("Telegram chat id (for Telegram)", "123456789", False),
    "address": ("Email address (for email)", "you@example.com", False),
}


def add_channel_submitted(user_id: int) -> None:
    """The form's callback (it runs before the page does): link the channel, then empty the
    fields, so a credential never stays in the page."""
    resources = get_resources()
    state = st.session_state
    kind = state.get("channel_kind", "discord")
    fields = {name: str(state.get(f"channel_{name}") or "") for name in FIELDS}
    topics = {t: bool(state.get(f"channel_topic_{t}", True)) for t in NOTIFY_TOPICS}
    for name in FIELDS:
        state[f"channel_{name}"] = ""
    with resources.sessions() as session:
        try:
            row = notify.add_channel(session, resources.settings, user_id, kind, fields, topics)
        except notify.ChannelError as exc:
            state["channel_outcome"] = ("error", str(exc))
            return
    state["channel_outcome"] = ("success", f"Linked: {row.hint}.")


def inbox_section(user: User) -> None:
    with get_resources().sessions() as session:
        rows = notify.outbox_for(session, user.id)
        hints = {c.id: c.hint for c in notify.channels(session, user.id)}
    if not rows:
        st.caption("Nothing sent yet: follow a player and link a channel.")
        return
    st.dataframe(
        [
            {
                "Message": r.title,
                "Channel": hints.get(r.channel_id, "–"),
                "Status": STATUS_LABELS.get(r.status, r.status),
                "Queued": r.created_at.strftime("%Y-%m-%d %H:%M"),
                "Sent": r.sent_at.strftime("%H:%M:%S") if r.sent_at else "–",
            }
            for r in rows
        ],
        hide_index=True,
        width="stretch",
    )


def inbox_list(user: User) -> None:
    """The in-app inbox: what the outbox delivered to it, newest first, as a person reads it."""
    with get_resources().sessions() as session:
        rows = notify.inbox(session, user.id)
    if not rows:
        st.caption(
            "Your inbox is empty: follow a player (here, in the Match room or on a player's "
            "page) and their next match lands here."
        )
        return
    for row in rows:
        with st.container(border=True):
            sent = present.relative_time(row.sent_at) if row.sent_at else ""
            st.markdown(f"**{plain(row.title)}** · {sent}")
            st.markdown("  \n".join(plain(line) for line in row.body.splitlines()))


def notifications_section(user: User) -> None:
    st.header("Notifications")
    inbox_list(user)
    st.subheader("Players you follow")
    follows_section(user)
    st.subheader("Channels")
    channels_section(user)
    st.subheader("Recent notifications")
    inbox_section(user)


# ---- Follow buttons (the Match room, a player's overview) -------------------------------------


_FOLLOW_NOTICE = "follow_notice"


def _toggle_follow(user_id: int, player_id: str, nickname: str, wanted: bool) -> None:
    """A Follow button's callback (it runs before the page reruns, so the label is fresh)."""
    with get_resources().sessions() as session:
        if wanted:
            notify.follow(session, user_id, player_id)
        else:
            notify.unfollow(session, user_id, player_id)
    st.session_state[_FOLLOW_NOTICE] = (
        f"You follow {nickname}: their next match reaches your inbox (Account page)."
        if wanted
        else f"You no longer follow {nickname}."
    )


def follow_buttons(players: list[dict[str, str]], key: str) -> None:
    """One Follow / Following button per player (``player_id``, ``nickname``) for a logged-in
    user; a visitor is told to log in."""
    user = auth.current_user()
    if user is None:
        try:
            st.page_link(
                ACCOUNT_PAGE.file,
                label="Log in to follow players and hear about their matches",
                icon=":material/star:",
            )
        except StreamlitAPIException:  # a bare script, outside the navigation
            st.caption("Log in to follow players and hear about their matches.")
        return
    if notice := st.session_state.pop(_FOLLOW_NOTICE, None):
        st.toast(plain(notice), icon=":material/star:")
    with get_resources().sessions() as session:
        followed = set(notify.followed(session, user.id))
    with st.container(horizontal=True):
        for player in players:
            on = player["player_id"] in followed
            st.button(
                f"{'Following' if on else 'Follow'} {plain(player['nickname'])}",
                key=f"{key}_{player['player_id']}",
                icon=":material/star:" if on else ":material/star_border:",
                type="primary" if on else "secondary",
                on_click=_toggle_follow,
                args=(user.id, player["player_id"], player["nickname"], not on),
            )
