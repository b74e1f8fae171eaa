"""The database schema (SQLAlchemy 2.0 typed ORM).

Change it only together with an Alembic migration (core/db/migrations).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from core.db.types import UTCDateTime, utcnow

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

ROLES = ("free", "premium", "admin")


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: UTCDateTime(),
        dict[str, Any]: JSON(),
    }


class Player(Base):
    __tablename__ = "players"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    nickname: Mapped[str] = mapped_column(String(64), index=True)
    country: Mapped[str | None] = mapped_column(String(8))
    avatar: Mapped[str | None] = mapped_column(Text)
    region: Mapped[str | None] = mapped_column(String(16))
    faceit_elo: Mapped[int | None] = mapped_column(Integer)
    skill_level: Mapped[int | None] = mapped_column(SmallInteger)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class EloHistory(Base):
    """A player's Elo after a match: observed at a sync, or estimated backwards.

    FACEIT gives no per-match Elo, only the current value.
    """

    __tablename__ = "elo_history"
    __table_args__ = (
        UniqueConstraint("player_id", "match_id", name="uq_elo_history_player_match"),
        Index("ix_elo_history_player_time", "player_id", "recorded_at"),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    player_id: Mapped[str] = mapped_column(ForeignKey("players.id", ondelete="CASCADE"))
    match_id: Mapped[str | None] = mapped_column(String(64))
    elo: Mapped[int] = mapped_column(Integer)
    recorded_at: Mapped[datetime]
    estimated: Mapped[bool] = mapped_column(Boolean, default=False)


class Match(Base):
    __tablename__ = "matches"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    map: Mapped[str | None] = mapped_column(String(32), index=True)
    region: Mapped[str | None] = mapped_column(String(16))
    competition_id: Mapped[str | None] = mapped_column(String(64))
    competition_name: Mapped[str | None] = mapped_column(String(128))
    game_mode: Mapped[str | None] = mapped_column(String(16))
    best_of: Mapped[int | None] = mapped_column(SmallInteger)
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None] = mapped_column(index=True)
    score: Mapped[str | None] = mapped_column(String(16))
    faction1_score: Mapped[int | None] = mapped_column(SmallInteger)
    faction2_score: Mapped[int | None] = mapped_column(SmallInteger)
    rounds: Mapped[int | None] = mapped_column(SmallInteger)
    winner_faction: Mapped[str | None] = mapped_column(String(16))
    faction1_team_id: Mapped[str | None] = mapped_column(String(64))
    faction2_team_id: Mapped[str | None] = mapped_column(String(64))
    faction1_name: Mapped[str | None] = mapped_column(String(128))
    faction2_name: Mapped[str | None] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class MatchPlayer(Base):
    """One player's stats in one match: every per-player CS2 stat the Data API gives."""

    __tablename__ = "match_players"
    __table_args__ = (Index("ix_match_players_player_time", "player_id", "finished_at"),)

    match_id: Mapped[str] = mapped_column(
        ForeignKey("matches.id", ondelete="CASCADE"), primary_key=True
    )
    player_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    nickname: Mapped[str | None] = mapped_column(String(64))
    faction: Mapped[str] = mapped_column(String(16))
    team_name: Mapped[str | None] = mapped_column(String(128))
    finished_at: Mapped[datetime | None]
    map: Mapped[str | None] = mapped_column(String(32))
    result: Mapped[bool] = mapped_column(Boolean)
    premade: Mapped[bool | None] = mapped_column(Boolean)
    """The player's faction was one party of five (FACEIT's team `type: premade` / `premade`);
    None when the payload did not say. The Data API shows no smaller parties."""
    # basic stats: present on every match (the multi-kills may be left out: then NULL, never 0)
    kills: Mapped[int] = mapped_column(SmallInteger)
    deaths: Mapped[int] = mapped_column(SmallInteger)
    assists: Mapped[int] = mapped_column(SmallInteger)
    headshots: Mapped[int] = mapped_column(SmallInteger)
    headshots_pct: Mapped[float] = mapped_column(Float)
    mvps: Mapped[int] = mapped_column(SmallInteger)
    kd_ratio: Mapped[float] = mapped_column(Float)
    kr_ratio: Mapped[float] = mapped_column(Float)
    triple_kills: Mapped[int | None] = mapped_column(SmallInteger)
    quadro_kills: Mapped[int | None] = mapped_column(SmallInteger)
    penta_kills: Mapped[int | None] = mapped_column(SmallInteger)
    # extended stats: only on matches since about August 2024, NULL (never 0) before
    adr: Mapped[float | None] = mapped_column(Float)
    damage: Mapped[int | None] = mapped_column(Integer)
    double_kills: Mapped[int | None] = mapped_column(SmallInteger)
    first_kills: Mapped[int | None] = mapped_column(SmallInteger)
    entry_count: Mapped[int | None] = mapped_column(SmallInteger)
    entry_wins: Mapped[int | None] = mapped_column(SmallInteger)
    match_entry_rate: Mapped[float | None] = mapped_column(Float)
    match_entry_success_rate: Mapped[float | None] = mapped_column(Float)
    one_v_one_count: Mapped[int | None] = mapped_column(SmallInteger)
    one_v_one_wins: Mapped[int | None] = mapped_column(SmallInteger)
    one_v_two_count: Mapped[int | None] = mapped_column(SmallInteger)
    one_v_two_wins: Mapped[int | None] = mapped_column(SmallInteger)
    match_1v1_win_rate: Mapped[float | None] = mapped_column(Float)
    match_1v2_win_rate: Mapped[float | None] = mapped_column(Float)
    clutch_kills: Mapped[int | None] = mapped_column(SmallInteger)
    utility_count: Mapped[int | None] = mapped_column(SmallInteger)
    utility_successes: Mapped[int | None] = mapped_column(SmallInteger)
    utility_damage: Mapped[int | None] = mapped_column(Integer)
    utility_enemies: Mapped[int | None] = mapped_column(SmallInteger)
    utility_usage_per_round: Mapped[float | None] = mapped_column(Float)
    utility_success_rate: Mapped[float | None] = mapped_column(Float)
    utility_damage_per_round: Mapped[float | None] = mapped_column(Float)
    utility_damage_success_rate: Mapped[float | None] = mapped_column(Float)
    flash_count: Mapped[int | None] = mapped_column(SmallInteger)
    flash_successes: Mapped[int | None] = mapped_column(SmallInteger)
    enemies_flashed: Mapped[int | None] = mapped_column(SmallInteger)
    flash_success_rate: Mapped[float | None] = mapped_column(Float)
    flashes_per_round: Mapped[float | None] = mapped_column(Float)
    enemies_flashed_per_round: Mapped[float | None] = mapped_column(Float)
    sniper_kills: Mapped[int | None] = mapped_column(SmallInteger)
    sniper_kill_rate_per_match: Mapped[float | None] = mapped_column(Float)
    sniper_kill_rate_per_round: Mapped[float | None] = mapped_column(Float)
    pistol_kills: Mapped[int | None] = mapped_column(SmallInteger)
    knife_kills: Mapped[int | None] = mapped_column(SmallInteger)
    zeus_kills: Mapped[int | None] = mapped_column(SmallInteger)


class IngestState(Base):
    """Per-player sync state; the watermark moves only after the player's data is committed."""

    __tablename__ = "ingest_state"

    player_id: Mapped[str] = mapped_column(
        ForeignKey("players.id", ondelete="CASCADE"), primary_key=True
    )
    tracked: Mapped[bool] = mapped_column(Boolean, default=True)
    watermark: Mapped[datetime | None]
    last_sync_at: Mapped[datetime | None]
    status: Mapped[str] = mapped_column(String(16), default="new")
    error: Mapped[str | None] = mapped_column(Text)


PROFILE_STATES = ("pending", "fetched", "missing")


class ProfileFetch(Base):
    """A player whose full profile (Elo, level, country) the ingest wants: its own idempotent
    work, so a run killed before the profiles were fetched is repaired by any later run.

    pending: to fetch (attempts and the last error say how it went); fetched: stored in players;
    missing: FACEIT answered 404 (never asked again).
    """

    __tablename__ = "profile_fetches"
    __table_args__ = (Index("ix_profile_fetches_status", "status"),)

    player_id: Mapped[str] = mapped_column(
        ForeignKey("players.id", ondelete="CASCADE"), primary_key=True
    )
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Quarantine(Base):
    __tablename__ = "quarantine"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    source: Mapped[str] = mapped_column(String(256))
    payload: Mapped[str] = mapped_column(Text)
    error: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str | None] = mapped_column(String(128))
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16), default="free")
    faceit_nickname: Mapped[str | None] = mapped_column(String(64))
    # the FACEIT player this account logged in as ("Log in with FACEIT", core.faceit_login):
    # the ID token's player id; unique, so one FACEIT player links to one account
    faceit_player_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    # every token names the generation it was issued in; a logout, a password change or a
    # refresh-token replay starts a new one (core.auth.revoke_sessions), refusing all older tokens
    session_generation: Mapped[str] = mapped_column(String(32), default="")
    is_demo: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class FaceitLoginFlow(Base):
    """One "Log in with FACEIT" attempt between the redirect to FACEIT and its callback.

    ``state`` is the authorization request's state (also kept in the browser's cookie, so a
    callback from another browser is refused); the nonce and the PKCE verifier stay here, never
    in the browser. ``used_at`` is set by the one callback that consumes the row, so a replayed
    callback finds it used. ``link_user_id`` is the logged-in account that asked to link.
    """

    __tablename__ = "faceit_login_flows"

    state: Mapped[str] = mapped_column(String(64), primary_key=True)
    nonce: Mapped[str] = mapped_column(String(64))
    code_verifier: Mapped[str] = mapped_column(String(128))
    link_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]


class LoginThrottle(Base):
    """Failed logins per (account, client address): the counter of ``core.auth``'s throttle.

    ``account`` is the submitted username (normalised), whether or not such a user exists, so an
    unknown account is throttled exactly like a real one. ``failures`` counts every attempt that
    was let through to the password check and has not been followed by a success; it is claimed
    (compare-and-set) before the check, so parallel attempts cannot overtake it.
    """

    __tablename__ = "login_throttle"

    account: Mapped[str] = mapped_column(String(64), primary_key=True)
    source: Mapped[str] = mapped_column(String(64), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    blocked_until: Mapped[datetime | None]
    last_attempt_at: Mapped[datetime]


class RefreshToken(Base):
    """Refresh tokens issued by the API: each works once (rotation); a second use is a replay."""

    __tablename__ = "refresh_tokens"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]


class Subscription(Base):
    __tablename__ = "subscriptions"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), unique=True)
    stripe_customer_id: Mapped[str | None] = mapped_column(String(255), index=True)
    stripe_subscription_id: Mapped[str | None] = mapped_column(String(255), unique=True)
    status: Mapped[str] = mapped_column(String(32), default="incomplete")
    current_period_end: Mapped[datetime | None]
    last_event_at: Mapped[datetime | None]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class StripeEvent(Base):
    """Stripe events already applied; the unique id makes every grant idempotent."""

    __tablename__ = "stripe_events"

    id: Mapped[str] = mapped_column(String(255), primary_key=True)
    type: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]
    processed_at: Mapped[datetime] = mapped_column(default=utcnow)


class ModelVersion(Base):
    __tablename__ = "model_versions"
    __table_args__ = (UniqueConstraint("name", "version", name="uq_model_versions_name_version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64))
    version: Mapped[int] = mapped_column(Integer)
    artifact: Mapped[bytes] = mapped_column(LargeBinary)
    metrics: Mapped[dict[str, Any]]
    feature_version: Mapped[str] = mapped_column(String(32))
    train_start: Mapped[datetime | None]
    train_end: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    promoted: Mapped[bool] = mapped_column(Boolean, default=False)
    promoted_at: Mapped[datetime | None]


class ServedPrediction(Base):
    """A pre-match win probability the product served for a match not yet finished: the live
    track record of a model version (scored against the match's result once it is stored)."""

    __tablename__ = "served_predictions"
    __table_args__ = (
        UniqueConstraint(
            "match_id", "model_name", "model_version", name="uq_served_predictions_match_model"
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    match_id: Mapped[str] = mapped_column(String(64), index=True)
    model_name: Mapped[str] = mapped_column(String(64))
    model_version: Mapped[int] = mapped_column(Integer)
    map: Mapped[str | None] = mapped_column(String(32))
    p_faction1: Mapped[float] = mapped_column(Float)
    served_at: Mapped[datetime] = mapped_column(default=utcnow)


class AuditLog(Base):
    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    actor: Mapped[str] = mapped_column(String(128))
    action: Mapped[str] = mapped_column(String(64), index=True)
    subject: Mapped[str | None] = mapped_column(String(255))
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


FACEIT_EVENT_STATES = ("queued", "done", "failed")


class FaceitEvent(Base):
    """A FACEIT webhook event as delivered (POST /webhooks/faceit): the unique event id makes a
    redelivery (FACEIT retries, concurrent twins) a no-op, and the row is the durable work queue
    the live worker drains (queued -> done, or back to queued with a later ``next_attempt_at``
    after a failure, failed after the last attempt)."""

    __tablename__ = "faceit_events"
    __table_args__ = (Index("ix_faceit_events_status_next", "status", "next_attempt_at"),)

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    event: Mapped[str] = mapped_column(String(64))
    match_id: Mapped[str] = mapped_column(String(64), index=True)
    payload: Mapped[dict[str, Any]]
    status: Mapped[str] = mapped_column(String(16), default="queued")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    error: Mapped[str | None] = mapped_column(Text)
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    processed_at: Mapped[datetime | None]


class LiveMatch(Base):
    """A match FACEIT told us about before it finished: its lineups and state, the pre-match
    prediction for every map of the pool with the veto advice, and how it scored."""

    __tablename__ = "live_matches"

    match_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    status: Mapped[str] = mapped_column(String(16))
    """created, configuring, ready (started), finished, cancelled or aborted."""
    teams: Mapped[dict[str, Any]]
    """{"faction1": {"name": ..., "players": [{"player_id", "nickname", "skill_level"}]}, ...}"""
    competition: Mapped[str | None] = mapped_column(String(128))
    region: Mapped[str | None] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    prediction: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    """{"model_version", "per_map": {map: p_faction1}, "veto": {"pick", "bans"}}"""
    predicted_at: Mapped[datetime | None]
    note: Mapped[str | None] = mapped_column(Text)
    """Why there is no prediction (no trained model, players without matches)."""
    map: Mapped[str | None] = mapped_column(String(32))
    winner_faction: Mapped[str | None] = mapped_column(String(16))
    p_played: Mapped[float | None] = mapped_column(Float)
    """The predicted P(faction1 wins) on the map that was played."""
    scored_at: Mapped[datetime | None]


class Follow(Base):
    """A user follows a FACEIT player: their matches are announced on the user's channels."""

    __tablename__ = "follows"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    player_id: Mapped[str] = mapped_column(String(64), primary_key=True, index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


CHANNEL_KINDS = ("inbox", "discord", "telegram", "email")
"""``inbox``: the in-app Notifications list on the Account page (no external account needed)."""
NOTIFY_TOPICS = ("prediction", "result", "weekly", "billing")
OUTBOX_STATES = ("pending", "sent", "failed", "dropped")


class NotificationChannel(Base):
    """Where a user hears from us. The credential (a Discord webhook URL, a Telegram bot token
    and chat id, an email address) is stored encrypted (core.notify: Fernet, key from
    settings); ``hint`` is the masked form shown back."""

    __tablename__ = "notification_channels"
    __table_args__ = (
        Index(
            "uq_notification_channels_inbox",
            "user_id",
            unique=True,
            sqlite_where=text("kind = 'inbox'"),
            postgresql_where=text("kind = 'inbox'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    secret: Mapped[bytes] = mapped_column(LargeBinary)
    hint: Mapped[str] = mapped_column(String(128))
    topics: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    """{"prediction": true, "result": true, ...}: what this channel hears about (a topic
    missing from it is heard)."""
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    unsubscribed_at: Mapped[datetime | None]


class NotificationOutbox(Base):
    """A message to send: written in the same transaction as the event it tells about, sent
    by the notification worker (retries with a doubling delay), once per (channel, event)."""

    __tablename__ = "notification_outbox"
    __table_args__ = (
        UniqueConstraint("channel_id", "event_key", name="uq_notification_outbox_channel_event"),
        Index("ix_notification_outbox_status_next", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    channel_id: Mapped[int] = mapped_column(
        ForeignKey("notification_channels.id", ondelete="CASCADE")
    )
    event_key: Mapped[str] = mapped_column(String(160))
    """What the message is about ("result:<match id>"): one message per channel and event."""
    topic: Mapped[str] = mapped_column(String(32))
    title: Mapped[str] = mapped_column(String(256))
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(index=True)


class ServingFeatures(Base):
    """A player's latest model inputs, materialized for serving (models.serving_features).

    A row is current only while its ``feature_version``, ``model_version`` (the promoted
    match-outcome model it was built for) and ``watermark`` (a digest of the player's stored
    matches, Elo points and profile Elo: models.history.serving_watermarks) all equal today's;
    otherwise it is stale and rebuilt before use, never served. Written whole in one statement.
    """

    __tablename__ = "serving_features"

    player_id: Mapped[str] = mapped_column(
        ForeignKey("players.id", ondelete="CASCADE"), primary_key=True
    )
    feature_version: Mapped[str] = mapped_column(String(32))
    model_version: Mapped[int | None] = mapped_column(Integer)
    watermark: Mapped[str] = mapped_column(String(200))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    """{"maps": {map: {feature: value}}, "playstyle": {rate: value} | null}"""
    built_at: Mapped[datetime] = mapped_column(default=utcnow)


class PeerGroup(Base):
    """The maintained peer table (models/peers.py): for one group of players (a FACEIT level and
    region, or the level alone: ``region == ""``), the sorted values of every peer stat
    (models.features.PEER_STATS) over each member's last ``PEER_WINDOW`` matches.

    A row is current only while its ``feature_version`` is the code's and its data watermark
    (``watermark``, ``members``, ``rows``: the newest stored match of the group's players, how
    many players have a match, how many player-match rows they have) equals the one the stored
    matches give now; models.peers never reads any other row as current."""

    __tablename__ = "peer_groups"

    feature_version: Mapped[str] = mapped_column(String(16), primary_key=True)
    level: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    region: Mapped[str] = mapped_column(String(16), primary_key=True)
    watermark: Mapped[datetime | None]
    members: Mapped[int] = mapped_column(Integer)
    rows: Mapped[int] = mapped_column(BigInteger)
    values: Mapped[dict[str, Any]] = mapped_column(JSON)
    """stat -> the members' values, ascending (members without a value left out)."""
    built_at: Mapped[datetime] = mapped_column(default=utcnow)


class PeerMember(Base):
    """One player's peer stats as the peer table holds them (so the player can be left out of
    their own group's values, and their own values are a lookup too)."""

    __tablename__ = "peer_members"
    __table_args__ = (Index("ix_peer_members_group", "feature_version", "level", "region"),)

    feature_version: Mapped[str] = mapped_column(String(16), primary_key=True)
    player_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    level: Mapped[int] = mapped_column(SmallInteger)
    region: Mapped[str | None] = mapped_column(String(16))
    matches: Mapped[int] = mapped_column(Integer)
    stats: Mapped[dict[str, Any]] = mapped_column(JSON)
    """stat -> the player's value over their last PEER_WINDOW matches (null: not recorded)."""
    plan: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    """The improvement plan's inputs from the player's own history (models.improvement.
    plan_inputs: win/loss drivers, recent record, latest Elo); null in rows built before."""
