"""Registration, login, lockout, roles, audit and entitlement against a real database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from core import auth
from core.db.schema import AuditLog, LoginThrottle, Subscription, User

PASSWORD = "correct-horse-42"
T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def users_snapshot(session: Session) -> list[tuple[str, str]]:
    return [(u.username, u.email) for u in session.scalars(select(User).order_by(User.id))]


def audit_actions(session: Session, action: str | None = None) -> list[str]:
    query = select(AuditLog.action).order_by(AuditLog.id)
    if action:
        query = query.where(AuditLog.action == action)
    return list(session.scalars(query))


def test_register_hashes_with_bcrypt_and_audits(sessions: sessionmaker[Session]) -> None:
    with sessions() as s:
        user = auth.register_user(s, "Alice_01", "Alice@Example.com", PASSWORD)
        assert user.username == "alice_01"
        assert user.email == "alice@example.com"
        assert user.role == "free"
        assert user.password_hash.startswith("$2b$")
        assert PASSWORD not in user.password_hash
        assert auth.check_password(PASSWORD, user.password_hash)
        assert audit_actions(s) == ["register"]


@pytest.mark.parametrize(
    ("username", "email", "password", "error", "words"),
    [
        ("'; DROP TABLE users;--", "x@example.com", PASSWORD, auth.InvalidUsername, "Username"),
        ("<script>alert(1)</script>", "x@example.com", PASSWORD, auth.InvalidUsername, "letters"),
        ("al", "x@example.com", PASSWORD, auth.InvalidUsername, "3-32"),
        ("a" * 33, "x@example.com", PASSWORD, auth.InvalidUsername, "3-32"),
        ("bob smith", "x@example.com", PASSWORD, auth.InvalidUsername, "Username"),
        ("bob", "not-an-email", PASSWORD, auth.InvalidEmail, "e-mail"),
        ("bob", "bob@localhost", PASSWORD, auth.InvalidEmail, "e-mail"),
        ("bob", "<b>@example.com", PASSWORD, auth.InvalidEmail, "e-mail"),
        ("bob", "bob@example.com", "short1A", auth.WeakPassword, "at least 10"),
        ("bob", "bob@example.com", "abcdefghijkl", auth.WeakPassword, "two of"),
        ("bob", "bob@example.com", "1111111111", auth.WeakPassword, "repeat"),
        ("bob", "bob@example.com", "Password123", auth.WeakPassword, "common"),
        ("bobby", "bob@example.com", "xx-bobby-99", auth.WeakPassword, "username"),
        ("bob", "bob@example.com", "Aa1-" + "x" * 70, auth.WeakPassword, "72"),
        ("bob", "bob@example.com", PASSWORD, auth.InvalidRole, "role"),
    ],
)
def test_register_rejects_with_a_clear_message_and_stores_nothing(
    sessions: sessionmaker[Session],
    username: str,
    email: str,
    password: str,
    error: type[auth.AuthError],
    words: str,
) -> None:
    role = "emperor" if error is auth.InvalidRole else "free"
    with sessions() as s:
        auth.register_user(s, "existing", "existing@example.com", PASSWORD)
        before = users_snapshot(s)
        with pytest.raises(error) as caught:
            auth.register_user(s, username, email, password, role)
        assert words in str(caught.value)
        assert "<script>" not in str(caught.value)
        assert users_snapshot(s) == before


def test_duplicate_username_or_email_case_insensitive(sessions: sessionmaker[Session]) -> None:
    with sessions() as s:
        auth.register_user(s, "Carol", "carol@example.com", PASSWORD)
        with pytest.raises(auth.DuplicateUser, match="already registered"):
            auth.register_user(s, "CAROL", "other@example.com", PASSWORD)
        with pytest.raises(auth.DuplicateUser, match="already registered"):
            auth.register_user(s, "carol2", "CAROL@example.com", PASSWORD)
        assert s.scalar(select(func.count()).select_from(User)) == 1


RULE = {"max_failures": 3, "lockout_minutes": 15, "backoff_seconds": 60}
HOME, STRANGER = "192.0.2.1", "203.0.113.9"


def test_login_success_wrong_password_and_unknown_user(sessions: sessionmaker[Session]) -> None:
    with sessions() as s:
        auth.register_user(s, "dave", "dave@example.com", PASSWORD)
        user = auth.authenticate(s, "DAVE", PASSWORD, source=HOME, **RULE)
        assert user.username == "dave"
        with pytest.raises(auth.InvalidCredentials) as wrong:
            auth.authenticate(s, "dave", "wrong-password-1", source=HOME, **RULE)
        with pytest.raises(auth.InvalidCredentials) as unknown:
            auth.authenticate(s, "nobody", PASSWORD, source=HOME, **RULE)
        with pytest.raises(auth.InvalidCredentials) as injected:
            auth.authenticate(s, "' OR 1=1 --", PASSWORD, source=HOME, **RULE)
        assert str(wrong.value) == str(unknown.value) == str(injected.value)
        assert audit_actions(s) == [
            "register",
            "login",
            "login_failed",
            "login_failed",
            "login_failed",
        ]
        # hostile input is never stored as typed, not even as the throttle's key
        keys = s.scalars(select(LoginThrottle.account)).all()
        assert sorted(keys)[:2] == ["dave", "nobody"] and "' OR 1=1 --" not in keys


def test_throttle_delays_grow_and_block_without_checking(
    sessions: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    checked: list[str] = []
    real = auth.check_password
    monkeypatch.setattr(auth, "check_password", lambda p, h: checked.append(p) or real(p, h))
    with sessions() as s:
        auth.register_user(s, "erin", "erin@example.com", PASSWORD)
        for _ in range(2):
            with pytest.raises(auth.InvalidCredentials):
                auth.authenticate(s, "erin", "bad-password-1", source=HOME, now=T0, **RULE)
        with pytest.raises(auth.LoginThrottled) as first:
            auth.authenticate(s, "erin", "bad-password-1", source=HOME, now=T0, **RULE)
        assert first.value.until == T0 + timedelta(seconds=60)
        assert first.value.retry_after(T0) == 60
        assert len(checked) == 3
        # blocked: even the right password is not checked
        with pytest.raises(auth.LoginThrottled):
            auth.authenticate(
                s, "erin", PASSWORD, source=HOME, now=T0 + timedelta(seconds=59), **RULE
            )
        assert len(checked) == 3
        # each failure after the block doubles the delay: 2, 4, 8 min, then the 15 min cap
        at = T0 + timedelta(seconds=60)
        delays = []
        for _ in range(4):
            with pytest.raises(auth.LoginThrottled) as blocked:
                auth.authenticate(s, "erin", "bad-password-1", source=HOME, now=at, **RULE)
            delays.append((blocked.value.until - at).total_seconds())
            at = blocked.value.until
        assert delays == [120, 240, 480, 900]
        # a success after the block clears the pair
        user = auth.authenticate(s, "erin", PASSWORD, source=HOME, now=at, **RULE)
        assert user.username == "erin"
        assert s.scalars(select(LoginThrottle)).all() == []
        assert audit_actions(s, "login_throttle") == ["login_throttle"] * 5
        assert audit_actions(s, "login_throttled") == ["login_throttled"]


def test_failures_are_forgotten_after_a_day(sessions: sessionmaker[Session]) -> None:
    with sessions() as s:
        auth.register_user(s, "fay", "fay@example.com", PASSWORD)
        for _ in range(2):
            with pytest.raises(auth.InvalidCredentials):
                auth.authenticate(s, "fay", "bad-password-1", source=HOME, now=T0, **RULE)
        later = T0 + timedelta(days=1, seconds=1)
        for _ in range(2):  # counted from zero again: two more failures do not block
            with pytest.raises(auth.InvalidCredentials):
                auth.authenticate(s, "fay", "bad-password-1", source=HOME, now=later, **RULE)


def test_a_strangers_failures_do_not_block_the_owner(sessions: sessionmaker[Session]) -> None:
    with sessions() as s:
        auth.register_user(s, "gus", "gus@example.com", PASSWORD)
        for _ in range(6):
            with pytest.raises((auth.InvalidCredentials, auth.LoginThrottled)):
                auth.authenticate(s, "gus", "bad-password-1", source=STRANGER, now=T0, **RULE)
        with pytest.raises(auth.LoginThrottled):
            auth.authenticate(s, "gus", PASSWORD, source=STRANGER, now=T0, **RULE)
        assert auth.authenticate(s, "gus", PASSWORD, source=HOME, now=T0, **RULE).username == "gus"
        # the owner's success does not lift the stranger's block
        with pytest.raises(auth.LoginThrottled):
            auth.authenticate(s, "gus", PASSWORD, source=STRANGER, now=T0, **RULE)


def test_unknown_and_real_accounts_are_throttled_alike(sessions: sessionmaker[Session]) -> None:
    def attempts(username: str) -> list[tuple[str, str, float | None]]:
        seen = []
        for _ in range(5):
            try:
                auth.authenticate(s, username, "bad-password-1", source=HOME, now=T0, **RULE)
            except auth.AuthError as exc:
                until = getattr(exc, "until", None)
                seen.append((type(exc).__name__, str(exc), until and (until - T0).total_seconds()))
        return seen

    with sessions() as s:
        auth.register_user(s, "hal", "hal@example.com", PASSWORD)
        assert attempts("hal") == attempts("no-such-user")
        assert [kind for kind, _, _ in attempts("hal")] == ["LoginThrottled"] * 5


def test_set_role_and_list_users_audited(sessions: sessionmaker[Session]) -> None:
    with sessions() as s:
        auth.register_user(s, "frank", "frank@example.com", PASSWORD)
        auth.register_user(s, "anna", "anna@example.com", PASSWORD)
        auth.set_role(s, "Frank", "admin", actor="ops")
        with pytest.raises(auth.InvalidRole):
            auth.set_role(s, "frank", "root", actor="ops")
        with pytest.raises(auth.UnknownUser):
            auth.set_role(s, "ghost", "admin", actor="ops")
        assert [(u.username, u.role) for u in auth.list_users(s)] == [
            ("anna", "free"),
            ("frank", "admin"),
        ]
        row = s.scalars(select(AuditLog).where(AuditLog.action == "role_change")).one()
        assert (row.actor, row.subject) == ("ops", "frank")
        assert row.details == {"previous": "free", "role": "admin"}


def test_seed_demo_accounts_idempotent(sessions: sessionmaker[Session]) -> None:
    with sessions() as s:
        first = auth.seed_demo_accounts(s)
        second = auth.seed_demo_accounts(s)
        assert [u.id for u in first] == [u.id for u in second]
        free, premium = first
        assert (free.username, premium.username) == ("demo-free", "demo-premium")
        assert free.is_demo and premium.is_demo
        assert s.scalar(select(func.count()).select_from(User)) == 2
        sub = s.scalars(select(Subscription)).one()
        assert (sub.user_id, sub.status) == (premium.id, "active")
        assert auth.is_premium(s, premium.id)
        assert not auth.is_premium(s, free.id)
        user = auth.authenticate(s, "demo-premium", auth.DEMO_PASSWORD, source=HOME, **RULE)
        assert user.id == premium.id


@pytest.mark.parametrize(
    ("role", "status", "period_end", "expected"),
    [
        ("free", None, None, False),
        ("free", "active", None, True),
        ("free", "trialing", None, True),
        ("free", "past_due", T0 + timedelta(days=1), True),
        ("free", "past_due", T0 - timedelta(seconds=1), False),
        ("free", "past_due", None, False),
        ("free", "canceled", T0 + timedelta(days=10), False),
        ("free", "unpaid", T0 + timedelta(days=10), False),
        ("free", "incomplete", None, False),
        ("free", "incomplete_expired", None, False),
        ("premium", None, None, True),
        ("admin", "canceled", None, True),
    ],
)
def test_is_premium_rules(
    sessions: sessionmaker[Session],
    role: str,
    status: str | None,
    period_end: datetime | None,
    expected: bool,
) -> None:
    with sessions() as s:
        user = auth.register_user(s, "gina", "gina@example.com", PASSWORD, role)
        if status:
            s.add(Subscription(user_id=user.id, status=status, current_period_end=period_end))
            s.commit()
        assert auth.is_premium(s, user.id, now=T0) is expected
        assert auth.is_premium(s, 999_999, now=T0) is False
        # the API's one-query check on every premium call follows the same rule
        assert auth.entitlement(s, user.id, now=T0) == auth.Entitlement("gina", role, expected)
        assert auth.entitlement(s, 999_999, now=T0) is None


def test_streamlit_authenticator_verifies_our_hashes() -> None:
    from streamlit_authenticator.utilities.hasher import Hasher

    hashed = auth.hash_password(PASSWORD)
    assert Hasher.check_pw(PASSWORD, hashed)
    assert not Hasher.check_pw("wrong-password-9", hashed)
