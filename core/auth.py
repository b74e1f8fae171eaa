"""Users, passwords, login lockout, roles, entitlement and signed tokens.

Service functions take a SQLAlchemy ``Session`` and the settings values they need. Functions that
change state commit their own unit of work (the change and its audit row in one transaction), so
a failed login's counter survives the ``InvalidCredentials`` it raises.

Rules (documented here, tested in tests/auth):

* Usernames: 3-32 characters of letters, digits, ``_``, ``-`` and ``.``; stored lower-case, so the
  database's unique index makes them unique case-insensitively. Anything else (SQL, HTML, spaces)
  is refused with a message, never stored.
* E-mails: ``local@domain.tld`` without spaces, quotes or angle brackets, at most 254 characters;
  stored lower-case and unique.
* Passwords: 10 to 72 bytes (bcrypt's limit, so streamlit-authenticator's bcrypt check verifies our
  hashes unchanged), at least two character classes (lower, upper, digit, other), not one character
  repeated, not containing the username, not a well-known password.
* Login throttle (OWASP's "lock by account and address, with growing delays"): failed logins are
  counted per (submitted username, client address) in ``login_throttle``. Every attempt first
  claims a slot with one compare-and-set statement, committed BEFORE bcrypt runs, so a burst of
  parallel attempts checks at most ``max_failures`` passwords. The claim that reaches the limit
  blocks the pair for ``backoff_seconds``, each later failure doubles the delay (capped at
  ``lockout_minutes``), and while blocked the password is not even checked (``LoginThrottled``).
  A success clears the pair; failures older than a day are forgotten. A stranger's failures
  therefore slow down only the stranger's own address: the owner, from theirs, logs in as usual.
  Unknown usernames are counted and refused exactly like real ones (same message, same status,
  same delays), so neither a wrong password nor a throttled attempt tells whether an account
  exists.
* Entitlement (``is_premium``), read from our tables on every call: role ``admin`` or ``premium``
  (granted by an operator), or a subscription row whose status is ``active`` or ``trialing``, or
  ``past_due`` while ``now < current_period_end``. ``canceled``, ``unpaid``, ``incomplete``,
  ``incomplete_expired``, ``paused`` and anything else are not premium.
* Tokens: PyJWT HS256 with ``sub`` (user id), ``name``, ``role``, ``purpose``, ``gen``, ``jti``,
  ``iat``, ``exp``; verification pins the algorithm, requires every claim and checks the purpose.
* Revocation (the same rule for the API's tokens and the app's re-login cookie): a token is live
  only while its user exists and ``gen`` equals the user's ``session_generation``
  (``live_user``). ``revoke_sessions`` starts a new generation, ending every session of the user
  on every device: on logout (app or API), on a password change and on a refresh-token replay.
* FACEIT accounts ("Log in with FACEIT", core.faceit_login): an account links to at most one
  FACEIT player (``users.faceit_player_id``, unique, so one FACEIT player links to one account
  even when two callbacks race: the database's unique index decides, the loser is refused).
  A FACEIT player without an account gets one (``faceit_account``): the username from the
  nickname (made valid and free), a placeholder e-mail, no password (it logs in with FACEIT).
* Refresh tokens rotate: each is recorded in ``refresh_tokens`` and works once
  (``rotate_refresh_token`` marks it used in one conditional UPDATE); presenting a used one again
  means it was copied, so all of the user's sessions are revoked.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import bcrypt
import jwt
from sqlalchemy import bindparam, delete, event, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, object_session, sessionmaker

from core.cache import FeatureCache
from core.db.schema import ROLES, AuditLog, LoginThrottle, RefreshToken, Subscription, User

USERNAME_RE = re.compile(r"^[A-Za-z0-9_.\-]{3,32}$")
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
EMAIL_RE = re.compile(r"^[^@\s<>\"'`;,()\[\]\\]{1,64}@" + _LABEL + r"(?:\." + _LABEL + r")+$")
MIN_PASSWORD_LENGTH = 10
MAX_PASSWORD_BYTES = 72
COMMON_PASSWORDS = frozenset(
    {
        "password123",
        "password1234",
        "password12345",
        "passw0rd123",
        "qwerty12345",
        "qwertyuiop1",
        "1234567890a",
        "a1234567890",
        "iloveyou123",
        "letmein1234",
        "welcome1234",
        "admin12345",
        "administrator1",
        "changeme123",
        "faceit12345",
        "counterstrike1",
    }
)
PREMIUM_STATUSES = frozenset({"active", "trialing"})
GRACE_STATUSES = frozenset({"past_due"})
DEMO_PASSWORD = "demo-password-123"  # noqa: S105 (documented demo-only password)
DEMO_ACCOUNTS = (
    ("demo-free", "demo-free@demo.faceit-ai.invalid", "Demo (free)", "free"),
    ("demo-premium", "demo-premium@demo.faceit-ai.invalid", "Demo (premium)", "premium"),
)
FAILURE_MEMORY = timedelta(days=1)  # failed logins older than this are forgotten
MAX_CLAIM_ROUNDS = 100  # compare-and-set retries of one login attempt under contention
TOKEN_ALGORITHM = "HS256"  # noqa: S105 (an algorithm name)
SYSTEM_ACTOR = "system"

BCRYPT_ROUNDS = 12  # tests lower it; streamlit-authenticator verifies any cost

_dummy_hashes: dict[int, str] = {}


def _dummy_hash() -> str:
    """A real hash to check against when the user does not exist (same cost, same timing)."""
    if BCRYPT_ROUNDS not in _dummy_hashes:
        _dummy_hashes[BCRYPT_ROUNDS] = hash_password(secrets.token_urlsafe(16))
    return _dummy_hashes[BCRYPT_ROUNDS]


class AuthError(Exception):
    """An auth failure; ``str(error)`` is a message that can be shown to the user."""


class ValidationFailed(AuthError):
    """A registration field is invalid."""


class InvalidUsername(ValidationFailed):
    pass


class InvalidEmail(ValidationFailed):
    pass


class WeakPassword(ValidationFailed):
    pass


class InvalidRole(ValidationFailed):
    pass


class DuplicateUser(AuthError):
    pass


class UnknownUser(AuthError):
    pass


class InvalidCredentials(AuthError):
    def __init__(self) -> None:
        super().__init__("Wrong username or password.")


class LoginThrottled(AuthError):
    """Too many failed logins for this username from this address; ``until`` says when to retry.

    The message is the same for every account, existing or not.
    """

    def __init__(self, until: datetime) -> None:
        self.until = until
        super().__init__(
            "Too many failed logins for this username from your address: wait a little and try "
            "again."
        )

    def retry_after(self, now: datetime | None = None) -> int:
        """Whole seconds until the next attempt is allowed (at least 1)."""
        return max(1, int((self.until - (now or datetime.now(UTC))).total_seconds() + 0.999))


class FaceitPlayerTaken(AuthError):
    def __init__(self) -> None:
        super().__init__(
            "This FACEIT player is already linked to another account: log in to that account "
            "instead."
        )


class OtherFaceitPlayer(AuthError):
    def __init__(self) -> None:
        super().__init__("Your account is already linked to another FACEIT player.")


class InvalidToken(AuthError):
    def __init__(self, reason: str = "invalid") -> None:
        self.reason = reason
        super().__init__("Your session is invalid or has expired; please log in again.")


# ---------------------------------------------------------------------------------------------
# audit


def audit(
    session: Session, actor: str, action: str, subject: str | None, **details: Any
) -> AuditLog:
    """Add an audit row to the session's transaction (committed with the change it records)."""
    row = AuditLog(
        actor=actor[:128],
        action=action[:64],
        subject=None if subject is None else subject[:255],
        details={key: _jsonable(value) for key, value in details.items()},
        created_at=datetime.now(UTC),
    )
    session.add(row)
    return row


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if value is None or isinstance(value, str | int | float | bool):
        return value
    if isinstance(value, list | tuple):
        return [_jsonable(item) for item in value]
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    return str(value)


# ---------------------------------------------------------------------------------------------
# validation and hashing


def normalize_username(username: str) -> str:
    return username.strip().lower()


def validate_username(username: str) -> str:
    value = normalize_username(username)
    if not USERNAME_RE.fullmatch(value):
        raise InvalidUsername(
            "Username must be 3-32 characters: letters, digits, '_', '-' or '.' only."
        )
    return value


def validate_email(email: str) -> str:
    value = email.strip().lower()
    if len(value) > 254 or not EMAIL_RE.fullmatch(value):
        raise InvalidEmail("Please enter a valid e-mail address such as name@example.com.")
    return value


def password_problems(password: str, username: str = "") -> list[str]:
    """Why a password is too weak (empty list when it is acceptable)."""
    problems = []
    if len(password) < MIN_PASSWORD_LENGTH:
        problems.append(f"use at least {MIN_PASSWORD_LENGTH} characters")
    if len(password.encode("utf-8")) > MAX_PASSWORD_BYTES:
        problems.append(f"use at most {MAX_PASSWORD_BYTES} bytes")
    classes = sum(
        [
            any(c.islower() for c in password),
            any(c.isupper() for c in password),
            any(c.isdigit() for c in password),
            any(not c.isalnum() for c in password),
        ]
    )
    if classes < 2:
        problems.append("mix at least two of: lower-case, upper-case, digits, symbols")
    if password and len(set(password)) == 1:
        problems.append("do not repeat a single character")
    lowered = password.lower()
    if username and len(username) >= 3 and username.lower() in lowered:
        problems.append("do not include your username")
    if lowered in COMMON_PASSWORDS:
        problems.append("this password is too common")
    return problems


def validate_password(password: str, username: str = "") -> str:
    problems = password_problems(password, username)
    if problems:
        raise WeakPassword("Password too weak: " + "; ".join(problems) + ".")
    return password


def hash_password(password: str) -> str:
    return bcrypt.hashpw(password.encode("utf-8"), bcrypt.gensalt(rounds=BCRYPT_ROUNDS)).decode(
        "ascii"
    )


def check_password(password: str, password_hash: str) -> bool:
    encoded = password.encode("utf-8")
    if len(encoded) > MAX_PASSWORD_BYTES:
        return False
    try:
        return bcrypt.checkpw(encoded, password_hash.encode("ascii"))
    except ValueError:
        return False


def validate_role(role: str) -> str:
    if role not in ROLES:
        raise InvalidRole(f"Unknown role {role!r}: expected one of {', '.join(ROLES)}.")
    return role


# ---------------------------------------------------------------------------------------------
# users


def get_user(session: Session, username: str) -> User | None:
    return session.scalar(select(User).where(User.username == normalize_username(username)))


def register_user(
    session: Session,
    username: str,
    email: str,
    password: str,
    role: str = "free",
    *,
    name: str | None = None,
    faceit_nickname: str | None = None,
    is_demo: bool = False,
    actor: str | None = None,
) -> User:
    """Create a user after validating every field; commits. Raises ``AuthError`` subclasses."""
    username = validate_username(username)
    email = validate_email(email)
    validate_password(password, username)
    validate_role(role)
    taken = session.scalar(
        select(User.id).where(
            (func.lower(User.username) == username) | (func.lower(User.email) == email)
        )
    )
    if taken is not None:
        raise DuplicateUser("That username or e-mail is already registered.")
    user = User(
        username=username,
        email=email,
        name=(name or username)[:128],
        password_hash=hash_password(password),
        role=role,
        faceit_nickname=faceit_nickname,
        session_generation=new_generation(),
        is_demo=is_demo,
        created_at=datetime.now(UTC),
    )
    session.add(user)
    try:
        session.flush()
        audit(session, actor or username, "register", username, role=role, is_demo=is_demo)
        session.commit()
    except IntegrityError:
        session.rollback()
        raise DuplicateUser("That username or e-mail is already registered.") from None
    return user


def throttle_account(username: str) -> str:
    """The throttle's key for a submitted username: the normalised name, or a digest of anything
    that is not a valid username (hostile input is never stored as typed)."""
    name = normalize_username(username)
    if USERNAME_RE.fullmatch(name):
        return name
    return "~" + hashlib.sha256(username.encode("utf-8", "surrogatepass")).hexdigest()[:40]


def throttle_delay(
    failures: int, *, max_failures: int, backoff_seconds: int, lockout_minutes: int
) -> timedelta | None:
    """How long a pair is blocked after its ``failures``-th claimed attempt (None: not blocked).

    ``backoff_seconds`` at the limit, doubling with each further failure, at most
    ``lockout_minutes``.
    """
    if failures < max_failures:
        return None
    doublings = min(failures - max_failures, 30)
    return timedelta(seconds=min(backoff_seconds * 2**doublings, lockout_minutes * 60))


def _insert_ignoring_conflict(session: Session, values: dict[str, Any]) -> bool:
    """INSERT the throttle row unless it exists (True when this call inserted it)."""
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    statement = (
        dialect.insert(LoginThrottle)
        .values(**values)
        .on_conflict_do_nothing()
        .returning(LoginThrottle.failures)
    )
    # RETURNING, not rowcount: the drivers' rowcount of a skipped row is not reliable
    return session.execute(statement).first() is not None


def _claim_attempt(
    session: Session,
    account: str,
    source: str,
    now: datetime,
    **rule: int,
) -> tuple[int, datetime | None]:
    """Count one login attempt for (account, source) before its password is checked.

    Returns ``(failures, blocked_until)`` after the claim; raises ``LoginThrottled`` when the
    pair is blocked (nothing is counted then). The read and the compare-and-set ``UPDATE ...
    WHERE failures = <read value>`` are committed before returning, so concurrent attempts each
    see the others' claims: on PostgreSQL the losing UPDATE waits for the winner's commit,
    re-reads the row and matches nothing, and the loser reads again.
    """
    for _ in range(MAX_CLAIM_ROUNDS):
        row = session.execute(
            select(
                LoginThrottle.failures, LoginThrottle.blocked_until, LoginThrottle.last_attempt_at
            ).where(LoginThrottle.account == account, LoginThrottle.source == source)
        ).first()
        if row is not None and row.blocked_until is not None and now < row.blocked_until:
            session.rollback()
            raise LoginThrottled(row.blocked_until)
        if row is None or row.last_attempt_at < now - FAILURE_MEMORY:
            failures = 1
        else:
            failures = row.failures + 1
        delay = throttle_delay(failures, **rule)
        until = None if delay is None else now + delay
        values = {"failures": failures, "blocked_until": until, "last_attempt_at": now}
        if row is None:
            claimed = _insert_ignoring_conflict(
                session, {"account": account, "source": source, **values}
            )
        else:
            claimed = (
                session.execute(
                    update(LoginThrottle)
                    .where(
                        LoginThrottle.account == account,
                        LoginThrottle.source == source,
                        LoginThrottle.failures == row.failures,
                    )
                    .values(**values)
                    .returning(LoginThrottle.failures)
                    .execution_options(synchronize_session=False)
                ).first()
                is not None
            )
        session.commit()
        if claimed:
            return failures, until
    raise LoginThrottled(now + timedelta(seconds=rule["backoff_seconds"]))


def authenticate(
    session: Session,
    username: str,
    password: str,
    *,
    source: str,
    max_failures: int,
    lockout_minutes: int,
    backoff_seconds: int = 60,
    now: datetime | None = None,
) -> User:
    """The user for these credentials, after the login throttle of (username, ``source``).

    ``source`` is the client's address as the front door knows it. Raises ``InvalidCredentials``
    (wrong password or unknown user) or ``LoginThrottled`` (this attempt reached the limit, or
    the pair is blocked: the password was not checked). Commits the throttle and audit rows.
    """
    now = now or datetime.now(UTC)
    account = throttle_account(username)
    source = (source or "unknown")[:64]
    rule = {
        "max_failures": max_failures,
        "backoff_seconds": backoff_seconds,
        "lockout_minutes": lockout_minutes,
    }
    try:
        failures, until = _claim_attempt(session, account, source, now, **rule)
    except LoginThrottled as refused:
        audit(session, account, "login_throttled", account, source=source, until=refused.until)
        session.commit()
        raise

    user = get_user(session, account) if not account.startswith("~") else None
    if user is None:
        check_password(password, _dummy_hash())  # same time as a real check
    elif check_password(password, user.password_hash):
        session.execute(
            delete(LoginThrottle).where(
                LoginThrottle.account == account, LoginThrottle.source == source
            )
        )
        audit(session, user.username, "login", user.username, source=source)
        session.commit()
        return user

    reason = "unknown_user" if user is None else "wrong_password"
    audit(
        session, account, "login_failed", account, source=source, failures=failures, reason=reason
    )
    if until is not None:
        audit(session, account, "login_throttle", account, source=source, until=until)
    session.commit()
    if until is not None:
        raise LoginThrottled(until)
    raise InvalidCredentials()


def set_role(session: Session, username: str, role: str, actor: str) -> User:
    validate_role(role)
    user = get_user(session, username)
    if user is None:
        raise UnknownUser(f"No user named {normalize_username(username)!r}.")
    previous = user.role
    user.role = role
    audit(session, actor, "role_change", user.username, previous=previous, role=role)
    session.commit()
    return user


def change_password(session: Session, username: str, new_password: str, actor: str) -> User:
    """Set a new password (validated like a registration's) and end every session; commits."""
    user = get_user(session, username)
    if user is None:
        raise UnknownUser(f"No user named {normalize_username(username)!r}.")
    validate_password(new_password, user.username)
    user.password_hash = hash_password(new_password)
    user.session_generation = new_generation()
    audit(session, actor, "password_change", user.username)
    session.commit()
    return user


def list_users(session: Session) -> list[User]:
    return list(session.scalars(select(User).order_by(User.username)))


def seed_demo_accounts(session: Session, password: str = DEMO_PASSWORD) -> list[User]:
    """The labelled demo accounts (is_demo=True); idempotent. Only for the default set-up.

    ``demo-premium`` is premium through an active subscription row (as a paying user would be)
    and carries the ``premium`` role for display.
    """
    users = []
    for username, email, name, role in DEMO_ACCOUNTS:
        user = get_user(session, username)
        if user is None:
            user = register_user(
                session,
                username,
                email,
                password,
                role,
                name=name,
                is_demo=True,
                actor=SYSTEM_ACTOR,
            )
        if role == "premium":
            sub = session.scalar(select(Subscription).where(Subscription.user_id == user.id))
            if sub is None:
                session.add(
                    Subscription(
                        user_id=user.id,
                        status="active",
                        last_event_at=datetime.now(UTC),
                        updated_at=datetime.now(UTC),
                    )
                )
                audit(session, SYSTEM_ACTOR, "grant_premium", user.username, source="demo_seed")
                session.commit()
        users.append(user)
    return users


# ---------------------------------------------------------------------------------------------
# entitlement


def _subscription_is_premium(
    status: str | None, period_end: datetime | None, now: datetime | None = None
) -> bool:
    if status is None:
        return False
    if status in PREMIUM_STATUSES:
        return True
    if status in GRACE_STATUSES and period_end is not None:
        return (now or datetime.now(UTC)) < period_end
    return False


def subscription_is_premium(sub: Subscription | None, now: datetime | None = None) -> bool:
    if sub is None:
        return False
    return _subscription_is_premium(sub.status, sub.current_period_end, now)


def _role_is_premium(role: str) -> bool:
    return role in {"admin", "premium"}


def is_premium(session: Session, user_id: int, now: datetime | None = None) -> bool:
    """Whether the user may use premium analyses now (see the module docstring for the rule)."""
    role = session.scalar(select(User.role).where(User.id == user_id))
    if role is None:
        return False
    if _role_is_premium(role):
        return True
    sub = session.scalar(select(Subscription).where(Subscription.user_id == user_id))
    return subscription_is_premium(sub, now)


@dataclass(frozen=True)
class Entitlement:
    username: str
    role: str
    premium: bool


@functools.cache
def _entitlement_query() -> Any:
    return (
        select(User.username, User.role, Subscription.status, Subscription.current_period_end)
        .outerjoin(Subscription, Subscription.user_id == User.id)
        .where(User.id == bindparam("user_id"))
    )


def entitlement(session: Session, user_id: int, now: datetime | None = None) -> Entitlement | None:
    """The user's name, role and :func:`is_premium` in one query (None: no such user), for
    the API's check on every premium call."""
    row = session.execute(_entitlement_query(), {"user_id": user_id}).first()
    if row is None:
        return None
    premium = _role_is_premium(row.role) or _subscription_is_premium(
        row.status, row.current_period_end, now
    )
    return Entitlement(username=row.username, role=row.role, premium=premium)


# ---------------------------------------------------------------------------------------------
# tokens


def new_generation() -> str:
    return secrets.token_urlsafe(16)


@dataclass(frozen=True)
class TokenClaims:
    user_id: int
    username: str
    role: str
    purpose: str
    generation: str
    token_id: str
    issued_at: datetime
    expires_at: datetime


def issue_token(
    secret_key: str,
    user: User,
    ttl_seconds: int,
    purpose: str,
    *,
    now: datetime | None = None,
    token_id: str | None = None,
) -> str:
    if not secret_key:
        raise ValueError("a secret key is required to sign tokens")
    now = now or datetime.now(UTC)
    claims = {
        "sub": str(user.id),
        "name": user.username,
        "role": user.role,
        "purpose": purpose,
        "gen": user.session_generation or "",
        "jti": token_id or secrets.token_hex(16),
        "iat": int(now.timestamp()),
        "exp": int((now + timedelta(seconds=ttl_seconds)).timestamp()),
    }
    return jwt.encode(claims, secret_key, algorithm=TOKEN_ALGORITHM)


def verify_token(
    secret_key: str, token: str, purpose: str, *, now: datetime | None = None
) -> TokenClaims:
    """The claims of a valid token for ``purpose``; raises ``InvalidToken`` otherwise.

    Checks only the token itself; ``live_user`` checks it against the database (revocation).
    A token has expired when ``now`` (default: the current time) has reached its ``exp``
    (PyJWT's rule, checked here so that callers and tests can give the time).
    """
    if not secret_key or not token:
        raise InvalidToken("missing")
    try:
        claims = jwt.decode(
            token,
            secret_key,
            algorithms=[TOKEN_ALGORITHM],
            options={
                "require": ["exp", "iat", "sub", "purpose", "role", "gen", "jti"],
                "verify_exp": False,
            },
        )
        expires = int(claims["exp"])
    except (jwt.PyJWTError, TypeError, ValueError, OverflowError):
        raise InvalidToken("invalid") from None
    if expires <= (now or datetime.now(UTC)).timestamp():
        raise InvalidToken("expired")
    if claims.get("purpose") != purpose:
        raise InvalidToken("wrong purpose")
    try:
        user_id = int(claims["sub"])
    except (TypeError, ValueError):
        raise InvalidToken("invalid subject") from None
    return TokenClaims(
        user_id=user_id,
        username=str(claims.get("name", "")),
        role=str(claims["role"]),
        purpose=str(claims["purpose"]),
        generation=str(claims["gen"]),
        token_id=str(claims["jti"]),
        issued_at=datetime.fromtimestamp(int(claims["iat"]), UTC),
        expires_at=datetime.fromtimestamp(expires, UTC),
    )


def live_user(session: Session, claims: TokenClaims) -> User:
    """The user of verified ``claims`` if the token is not revoked: the user still exists and
    the token is of its current session generation. Raises ``InvalidToken("revoked")``."""
    user = session.get(User, claims.user_id)
    if user is None or (user.session_generation or "") != claims.generation:
        raise InvalidToken("revoked")
    return user


logger = logging.getLogger(__name__)
SESSION_GENERATIONS = "session-generation"
_CHANGED_GENERATIONS = "changed_session_generations"


GONE = "\x00deleted"
"""The generation announced for a deleted user: equal to no token's."""


def _note_generation(target: User, value: str) -> None:
    session = object_session(target)
    if session is not None and target.id is not None:
        session.info.setdefault(_CHANGED_GENERATIONS, {})[target.id] = value


@event.listens_for(User.session_generation, "set")
def _generation_changed(target: User, value: str, _old: Any, _initiator: Any) -> None:
    """Note a user's new session generation on their session, for LiveSessions to announce
    once the change is committed (a new user's once it has an id, a deleted one's as GONE)."""
    _note_generation(target, value or "")


@event.listens_for(User, "after_insert")
def _user_added(_mapper: Any, _connection: Any, target: User) -> None:
    _note_generation(target, target.session_generation or "")


@event.listens_for(User, "after_delete")
def _user_deleted(_mapper: Any, _connection: Any, target: User) -> None:
    _note_generation(target, GONE)


class LiveSessions:
    """Every user's current session generation in Redis (the feature cache's server), so the
    revocation check of a request (:func:`live_user`) needs no database read while nothing
    changed: ``core.resources.Resources`` builds one when REDIS_URL is set and installs it on
    its sessions.

    Exact while Redis answers: a writer's generation (a logout, a refresh-token reuse, a
    password change) is written once its transaction commits and overwrites; a reader's (read
    from the database after a miss) is only added where no value is, so a reader that read the
    old generation just before a logout committed cannot put it back. Entries expire after
    ``ttl_seconds``, which bounds what a change made around the application (SQL by hand) or
    an announcement Redis refused can leave.
    """

    def __init__(self, cache: FeatureCache, ttl_seconds: float = 300.0) -> None:
        self.cache = cache
        self.ttl_seconds = ttl_seconds

    def key(self, user_id: int) -> str:
        return f"{self.cache.prefix}:{SESSION_GENERATIONS}:{user_id}"

    def lookup(self, user_id: int) -> str | None:
        """The user's current generation, or None when Redis does not know it (or is down)."""
        found = self.cache.get_blobs([self.key(user_id)])[0]
        return found.decode() if found is not None else None

    def remember(self, user_id: int, generation: str) -> None:
        """A generation read from the database (kept only where none is stored)."""
        self.cache.set_blobs(
            {self.key(user_id): generation.encode()}, ttl=self.ttl_seconds, only_new=True
        )

    def announce(self, user_id: int, generation: str) -> bool:
        """A committed new generation (overwrites); False when Redis refused it."""
        return self.cache.set_blobs({self.key(user_id): generation.encode()}, ttl=self.ttl_seconds)

    def install(self, sessions: sessionmaker[Session]) -> None:
        """Announce the generations changed by every transaction of ``sessions`` it commits."""
        event.listen(sessions, "after_commit", self._after_commit)
        event.listen(sessions, "after_soft_rollback", self._after_rollback)

    def _after_commit(self, session: Session) -> None:
        changed: dict[int, str] = session.info.pop(_CHANGED_GENERATIONS, {})
        for user_id, generation in changed.items():
            if not self.announce(user_id, generation):
                logger.warning(
                    "session generation of user %s not announced: other API processes may "
                    "accept its old tokens for up to %.0f s",
                    user_id,
                    self.ttl_seconds,
                )

    def _after_rollback(self, session: Session, _previous: Any) -> None:
        session.info.pop(_CHANGED_GENERATIONS, None)


def revoke_sessions(session: Session, user_id: int, actor: str, reason: str) -> None:
    """End every session of the user (all tokens and re-login cookies issued so far); the audit
    action is ``reason`` (``logout``, ``refresh_token_reuse``...). Commits."""
    user = session.get(User, user_id)
    if user is None:
        return
    user.session_generation = new_generation()
    audit(session, actor, reason, user.username)
    session.commit()


def issue_refresh_token(
    session: Session,
    secret_key: str,
    user: User,
    ttl_seconds: int,
    *,
    now: datetime | None = None,
) -> str:
    """A refresh token recorded as unused (and the user's expired ones forgotten); commits."""
    now = now or datetime.now(UTC)
    token_id = secrets.token_hex(16)
    session.execute(
        delete(RefreshToken).where(RefreshToken.user_id == user.id, RefreshToken.expires_at < now)
    )
    session.add(
        RefreshToken(id=token_id, user_id=user.id, expires_at=now + timedelta(seconds=ttl_seconds))
    )
    session.commit()
    return issue_token(secret_key, user, ttl_seconds, "refresh", now=now, token_id=token_id)


def rotate_refresh_token(
    session: Session, secret_key: str, token: str, *, now: datetime | None = None
) -> User:
    """Use up a refresh token: the user if it was valid, live and unused (the caller issues the
    next pair). A replay of a used token revokes all of the user's sessions. Commits."""
    claims = verify_token(secret_key, token, "refresh")
    user = live_user(session, claims)
    used = session.execute(
        update(RefreshToken)
        .where(
            RefreshToken.id == claims.token_id,
            RefreshToken.user_id == user.id,
            RefreshToken.used_at.is_(None),
        )
        .values(used_at=now or datetime.now(UTC))
        .returning(RefreshToken.id)
        .execution_options(synchronize_session=False)
    ).first()
    if used is not None:
        session.commit()
        return user
    replayed = session.get(RefreshToken, claims.token_id) is not None
    session.rollback()
    if replayed:
        revoke_sessions(session, user.id, SYSTEM_ACTOR, "refresh_token_reuse")
        raise InvalidToken("reused")
    raise InvalidToken("unknown")


# ---------------------------------------------------------------------------------------------
# FACEIT accounts

NO_PASSWORD = "!faceit-login"  # noqa: S105 (not a bcrypt hash: check_password is always False)
FACEIT_EMAIL_DOMAIN = "faceit-login.invalid"
FACEIT_PLAYER_ID_RE = re.compile(r"^[A-Za-z0-9-]{1,64}$")
_USERNAME_CHARS = re.compile(r"[^a-z0-9_.\-]+")
USERNAME_TRIES = 20


def user_of_faceit_player(session: Session, player_id: str) -> User | None:
    return session.scalar(select(User).where(User.faceit_player_id == player_id))


def link_faceit_player(session: Session, user_id: int, player_id: str, nickname: str) -> User:
    """Link the account ``user_id`` to the FACEIT player; commits.

    Raises ``FaceitPlayerTaken`` when another account has the player (also when a concurrent
    link wins the race: the unique index refuses the second), ``OtherFaceitPlayer`` when this
    account is linked to another player, ``UnknownUser`` when the account is gone.
    """
    user = session.get(User, user_id)
    if user is None:
        raise UnknownUser("The account that asked to link FACEIT no longer exists.")
    if user.faceit_player_id == player_id:
        return user
    if user.faceit_player_id is not None:
        raise OtherFaceitPlayer()
    if user_of_faceit_player(session, player_id) is not None:
        raise FaceitPlayerTaken()
    try:
        linked = session.execute(
            update(User)
            .where(User.id == user_id, User.faceit_player_id.is_(None))
            .values(faceit_player_id=player_id, faceit_nickname=nickname[:64])
            .returning(User.id)
            .execution_options(synchronize_session=False)
        ).first()
        if linked is None:
            session.rollback()
            raise OtherFaceitPlayer()
        audit(session, user.username, "faceit_link", user.username, player_id=player_id)
        session.commit()
    except IntegrityError:
        session.rollback()
        raise FaceitPlayerTaken() from None
    session.refresh(user)
    return user


def _username_for(session: Session, nickname: str, player_id: str) -> str:
    """A free, valid username from the nickname (``nick``, ``nick-2``, ...)."""
    base = _USERNAME_CHARS.sub("-", normalize_username(nickname)).strip("-.")[:28]
    if len(base) < 3:
        base = f"faceit-{player_id[:8].lower()}"
    for n in range(1, USERNAME_TRIES + 1):
        name = base if n == 1 else f"{base}-{n}"
        if get_user(session, name) is None:
            return name
    return f"faceit-{secrets.token_hex(6)}"


def faceit_account(session: Session, player_id: str, nickname: str) -> tuple[User, bool]:
    """The account of the FACEIT player, made if there is none (``(user, created)``); commits.

    Two first logins of one player at once make one account: the second insert is refused by
    the unique index and the first one's account is returned.
    """
    if not FACEIT_PLAYER_ID_RE.fullmatch(player_id):
        raise ValidationFailed("FACEIT sent a player id this app cannot store.")
    for _ in range(3):
        existing = user_of_faceit_player(session, player_id)
        if existing is not None:
            if nickname and existing.faceit_nickname != nickname[:64]:
                existing.faceit_nickname = nickname[:64]
            audit(session, existing.username, "login", existing.username, source="faceit")
            session.commit()
            return existing, False
        username = _username_for(session, nickname, player_id)
        user = User(
            username=username,
            email=f"{player_id.lower()}@{FACEIT_EMAIL_DOMAIN}",
            name=(nickname or username)[:128],
            password_hash=NO_PASSWORD,
            role="free",
            faceit_nickname=nickname[:64] or None,
            faceit_player_id=player_id,
            session_generation=new_generation(),
            is_demo=False,
            created_at=datetime.now(UTC),
        )
        session.add(user)
        try:
            session.flush()
            audit(session, username, "register", username, role="free", source="faceit")
            session.commit()
        except IntegrityError:  # the same player's other login, or the username just taken
            session.rollback()
            continue
        return user, True
    raise DuplicateUser("Could not create an account for this FACEIT player; try again.")
