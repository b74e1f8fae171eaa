"""Login state, the re-login cookie and the premium/admin gates of the Streamlit app.

Identity vs. entitlement
    The Streamlit session only remembers *who* is logged in (``st.session_state["auth_user_id"]``).
    The user row (role, lock state) is loaded fresh from the database on every call of
    ``current_user()``, and premium is decided by ``core.auth.is_premium`` from our subscriptions
    table on every render of a premium page: never from a cookie or a session flag.

Passwords
    Checked by ``core.auth.authenticate`` (bcrypt, the login throttle per username and client
    address, audit rows), never by streamlit-authenticator's in-memory credentials, so throttle and
    audit always apply.

The re-login cookie (``faceit_ai_auth``)
    ``HttpOnly`` (page scripts cannot read it), ``SameSite=Lax`` (sent on the top-level return
    from Stripe Checkout), ``Path=/``, and ``Secure`` when ``PUBLIC_URL`` is https. JavaScript
    cannot set an HttpOnly cookie (streamlit-authenticator's CookieManager writes it from the
    browser, so it could not be HttpOnly), so the server sets it: after a login the page posts a
    one-time *grant* (a 60-second ``core.auth`` token of purpose ``web-session-set``) to the app's
    own route ``POST /auth/session-cookie`` (app/server.py, served by Streamlit's ``st.App`` on
    the same origin), which answers ``Set-Cookie`` with the re-login token. A logout posts a
    ``web-session-clear`` grant, answered with an expired cookie. A grant works once (the used
    ones are remembered in this process until they expire); the page keeps posting it on every
    run until the route has used it. The cookie is read back on the server from
    ``st.context.cookies`` (the cookies of the page's websocket handshake, so a refresh or a new
    tab sees it on the very first run). Its value is a ``core.auth.issue_token`` JWT (HS256 with
    ``settings.resolved_secret_key()``, purpose ``web-session``, ``iat``/``exp``); a tampered,
    expired, wrong-purpose token, or one for a deleted user is ignored.

    A logout is final even if the browser keeps the cookie: this session ignores the cookie after
    it, and the logout ends the user's session generation (``core.auth.revoke_sessions``, the rule
    the API's logout follows too), so any cookie issued before it is refused by the server. (So
    logging out in one browser also ends the "remember me" of the others, which is the safe
    behaviour.)
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import streamlit as st
from sqlalchemy import select
from streamlit.errors import StreamlitAPIException

from app.navigation import ACCOUNT_PAGE
from app.resources import get_resources
from core import auth as core_auth
from core.billing import BillingError, BillingService
from core.db.schema import Subscription, User
from core.settings import get_settings

COOKIE_NAME = "faceit_ai_auth"
COOKIE_PURPOSE = "web-session"

_USER_ID = "auth_user_id"
_LOGGED_OUT = "auth_logged_out"
_COOKIE_OP = "auth_cookie_op"  # (op, grant) while a cookie change is pending in the browser
COOKIE_ROUTE = "/auth/session-cookie"  # app/server.py serves it
GRANT_SECONDS = 60
GRANT_PURPOSES = {"set": "web-session-set", "clear": "web-session-clear"}
# "Log in with FACEIT" (app/routes.py): the callback hands the browser a one-time login grant in
# an HttpOnly cookie, which the next page run exchanges for the session; the Account page's
# "Link" button carries a one-time link grant naming the logged-in account
LOGIN_COOKIE = "faceit_ai_login"
LOGIN_PURPOSE = "web-login"
LINK_PURPOSE = "faceit-link"
LINK_GRANT_SECONDS = 600
FACEIT_LOGIN_URL = "auth/faceit/login"  # app/routes.py serves it
CHECKOUT_URL = "auth_checkout_url"


def cookie_days() -> float:
    """Lifetime of the re-login cookie (AUTH_COOKIE_DAYS, default 7 days; 0 disables it)."""
    return get_settings().auth_cookie_days


def _secret() -> str:
    return get_settings().resolved_secret_key()


# ---------------------------------------------------------------------------------------------
# the re-login cookie


def issue_cookie_token(user: User, *, now: datetime | None = None) -> str:
    ttl = int(cookie_days() * 86400)
    return core_auth.issue_token(_secret(), user, ttl, COOKIE_PURPOSE, now=now)


def user_id_from_cookie(token: str | None) -> int | None:
    """The user id of a valid, unrevoked re-login token; None for anything else."""
    if not token:
        return None
    try:
        claims = core_auth.verify_token(_secret(), token, COOKIE_PURPOSE)
    except core_auth.InvalidToken:
        return None
    with get_resources().sessions() as session:
        try:
            # core.auth's revocation rule, shared with the API: a logout anywhere, a password
            # change or a deleted account ends it, whatever the browser still sends
            user = core_auth.live_user(session, claims)
        except core_auth.InvalidToken:
            return None
        if user.username != claims.username:
            return None
        return user.id


def _cookie_from_request() -> str | None:
    try:
        return st.context.cookies.get(COOKIE_NAME)
    except Exception:  # no request context (bare script runs)
        return None


def secure_cookie() -> bool:
    """Whether the cookie gets ``Secure``: only behind TLS (a plain-http browser drops it)."""
    return get_settings().public_url.startswith("https://")


class UsedGrants:
    """The grants' token ids used in this process, until the grants expire."""

    def __init__(self) -> None:
        self._until: dict[str, float] = {}
        self._lock = threading.Lock()

    def use(self, token_id: str, expires_at: float) -> bool:
        """Mark ``token_id`` used; False if it already was."""
        now = time.time()
        with self._lock:
            for old in [k for k, until in self._until.items() if until <= now]:
                del self._until[old]
            if token_id in self._until:
                return False
            self._until[token_id] = expires_at
            return True

    def __contains__(self, token_id: object) -> bool:
        with self._lock:
            return token_id in self._until


used_grants = UsedGrants()


def issue_grant(user: User, op: str) -> str:
    """A one-time, 60-second grant the page exchanges at ``COOKIE_ROUTE`` for ``op``."""
    return core_auth.issue_token(_secret(), user, GRANT_SECONDS, GRANT_PURPOSES[op])


@dataclass(frozen=True)
class CookieChange:
    """What ``COOKIE_ROUTE`` answers for a valid grant: set ``token``, or clear (token None)."""

    token: str | None
    max_age: int
    secure: bool


def exchange_grant(op: str, grant: str) -> CookieChange | None:
    """The cookie change of a valid, unused grant for ``op`` (and the grant is used up); None
    for anything else. A ``set`` grant must also be of a live session (core.auth's revocation
    rule); a ``clear`` grant is honoured after the logout that revoked it."""
    purpose = GRANT_PURPOSES.get(op)
    if purpose is None:
        return None
    try:
        claims = core_auth.verify_token(_secret(), grant, purpose)
    except core_auth.InvalidToken:
        return None
    if op == "clear":
        if not used_grants.use(claims.token_id, claims.expires_at.timestamp()):
            return None
        return CookieChange(token=None, max_age=0, secure=secure_cookie())
    with get_resources().sessions() as session:
        try:
            user = core_auth.live_user(session, claims)
        except core_auth.InvalidToken:
            return None
    if not used_grants.use(claims.token_id, claims.expires_at.timestamp()):
        return None
    return CookieChange(
        token=issue_cookie_token(user), max_age=int(cookie_days() * 86400), secure=secure_cookie()
    )


def _grant_id(grant: str) -> str | None:
    try:
        return core_auth.verify_token(_secret(), grant, GRANT_PURPOSES["set"]).token_id
    except core_auth.InvalidToken:
        pass
    try:
        return core_auth.verify_token(_secret(), grant, GRANT_PURPOSES["clear"]).token_id
    except core_auth.InvalidToken:
        return None  # expired: nothing more to post


def cookie_script(op: str, grant: str) -> str:
    """The page script that posts ``grant`` to the cookie route (same origin)."""
    body = json.dumps({"op": op, "grant": grant})
    return (
        f"<script>fetch({json.dumps(COOKIE_ROUTE)}, {{method: 'POST', "
        "credentials: 'same-origin', headers: {'Content-Type': 'application/json'}, "
        f"body: {json.dumps(body)}}});</script>"
    )


def _render_pending_cookie_op() -> None:
    """Post the pending cookie change from the page until the route has used its grant."""
    pending = st.session_state.get(_COOKIE_OP)
    if not pending:
        return
    op, grant = pending
    token_id = _grant_id(grant)
    if token_id is None or token_id in used_grants:
        st.session_state.pop(_COOKIE_OP, None)
        return
    st.html(cookie_script(op, grant), unsafe_allow_javascript=True)


def issue_login_grant(user_id: int) -> str:
    """The one-time grant the FACEIT callback puts in ``LOGIN_COOKIE`` for the next page run."""
    with get_resources().sessions() as session:
        user = session.get(User, user_id)
        assert user is not None
        return core_auth.issue_token(_secret(), user, GRANT_SECONDS, LOGIN_PURPOSE)


def issue_link_grant(user: User) -> str:
    """The one-time grant of the Account page's "Link FACEIT" link (``?link=``)."""
    return core_auth.issue_token(_secret(), user, LINK_GRANT_SECONDS, LINK_PURPOSE)


def use_grant(grant: str | None, purpose: str) -> int | None:
    """The user id of a valid, unused grant of ``purpose`` of a live session, which is then
    used up (this process remembers it until it expires); None for anything else."""
    if not grant:
        return None
    try:
        claims = core_auth.verify_token(_secret(), grant, purpose)
    except core_auth.InvalidToken:
        return None
    if claims.token_id in used_grants:
        return None
    with get_resources().sessions() as session:
        try:
            user = core_auth.live_user(session, claims)
        except core_auth.InvalidToken:
            return None
    if not used_grants.use(claims.token_id, claims.expires_at.timestamp()):
        return None
    return user.id


def _login_grant_from_request() -> str | None:
    try:
        return st.context.cookies.get(LOGIN_COOKIE)
    except Exception:  # no request context (bare script runs)
        return None


def _log_in_from_faceit() -> None:
    """A fresh "Log in with FACEIT" wins over whatever this session or its cookie said."""
    user_id = use_grant(_login_grant_from_request(), LOGIN_PURPOSE)
    if user_id is None:
        return
    st.session_state[_USER_ID] = user_id
    st.session_state.pop(_LOGGED_OUT, None)
    st.session_state.pop(CHECKOUT_URL, None)
    if cookie_days() > 0:
        with get_resources().sessions() as session:
            user = session.get(User, user_id)
        if user is not None:
            st.session_state[_COOKIE_OP] = ("set", issue_grant(user, "set"))


def sync_session() -> None:
    """Call once per run, before the navigation: a FACEIT login's grant, then restores a login
    from the cookie and renders pending cookie changes."""
    _log_in_from_faceit()
    _render_pending_cookie_op()
    if st.session_state.get(_USER_ID) is None and not st.session_state.get(_LOGGED_OUT):
        user_id = user_id_from_cookie(_cookie_from_request())
        if user_id is not None:
            st.session_state[_USER_ID] = user_id


# ---------------------------------------------------------------------------------------------
# login state


def current_user() -> User | None:
    """The logged-in user, loaded fresh from the database (None for visitors)."""
    user_id = st.session_state.get(_USER_ID)
    if user_id is None:
        return None
    with get_resources().sessions() as session:
        user = session.get(User, user_id)
    if user is None:  # deleted meanwhile
        st.session_state.pop(_USER_ID, None)
    return user


def client_address() -> str:
    """The browser's address as the app sees it (the login throttle's key with the username).

    Behind a proxy listed in TRUSTED_PROXIES (nginx in the stack) it is the browser's address
    from X-Forwarded-For, the API's rule (the app's launchers pass it to Streamlit's uvicorn:
    pipelines.cli.streamlit_environment); from anyone else the header is ignored. Streamlit
    reports None for a loopback peer (a local browser): "local". The throttle keys by username
    and address with growing delays, so failures from one address never block another's login.
    """
    try:
        address = st.context.ip_address
    except Exception:  # no request context (bare script runs)
        return "local"
    return address if isinstance(address, str) and address else "local"


def login(username: str, password: str) -> User:
    """Check the password with the login throttle and audit; on success remember the user and
    the cookie.

    Raises ``core.auth.AuthError`` (``InvalidCredentials``, ``LoginThrottled``) with a message for
    the user.
    """
    settings = get_settings()
    with get_resources().sessions() as session:
        user = core_auth.authenticate(
            session,
            username,
            password,
            source=client_address(),
            max_failures=settings.login_max_failures,
            lockout_minutes=settings.lockout_minutes,
            backoff_seconds=settings.login_backoff_seconds,
        )
    st.session_state[_USER_ID] = user.id
    st.session_state.pop(_LOGGED_OUT, None)
    if cookie_days() > 0:
        st.session_state[_COOKIE_OP] = ("set", issue_grant(user, "set"))
    return user


def logout() -> None:
    """Forget the user in this session, revoke earlier cookies and delete the browser's one."""
    user = current_user()
    if user is not None:
        with get_resources().sessions() as session:
            core_auth.revoke_sessions(session, user.id, user.username, "logout")
        st.session_state[_COOKIE_OP] = ("clear", issue_grant(user, "clear"))
    st.session_state.pop(_USER_ID, None)
    st.session_state.pop(CHECKOUT_URL, None)
    st.session_state[_LOGGED_OUT] = True


def my_player_id() -> str | None:
    """The FACEIT player the logged-in user's account is linked to (None: none, or a visitor)."""
    user = current_user()
    return user.faceit_player_id if user is not None else None


def user_is_premium(user: User) -> bool:
    """Entitlement from our tables, read now (core.auth.is_premium)."""
    with get_resources().sessions() as session:
        return core_auth.is_premium(session, user.id)


def subscription_of(user: User) -> Subscription | None:
    with get_resources().sessions() as session:
        return session.scalar(select(Subscription).where(Subscription.user_id == user.id))


# ---------------------------------------------------------------------------------------------
# billing actions


def billing() -> BillingService:
    """Stripe with STRIPE_* keys, else the demo checkout (its webhooks handled in-process):
    the process's one, from its resources."""
    return get_resources().billing


def app_url(path: str = "") -> str:
    return get_settings().public_url.rstrip("/") + "/" + path.lstrip("/")


def redirect(url: str, label: str) -> None:
    """Send the browser to ``url`` (script redirect, with a link as a fallback)."""
    st.link_button(label, url, type="primary")
    st.html(
        f"<script>window.location.assign({json.dumps(url)});</script>",
        unsafe_allow_javascript=True,
    )


def start_checkout(user: User) -> None:
    """Create a Stripe Checkout session for ``user`` and send the browser to it."""
    service = billing()
    try:
        with get_resources().sessions() as session:
            fresh = session.get(User, user.id)
            assert fresh is not None
            url = service.create_checkout_session(
                session,
                fresh,
                success_url=app_url("account?session_id={CHECKOUT_SESSION_ID}"),
                cancel_url=app_url("account?checkout=cancelled"),
            )
    except BillingError as exc:
        st.error(str(exc), icon="💳")
        return
    st.session_state[CHECKOUT_URL] = url


PREMIUM_FEATURES: list[tuple[str, str]] = [
    ("Match predictor", "win probability for two lineups on every map, and why"),
    ("Map veto", "which map to pick and which two to ban against an opponent team"),
    ("Playstyle", "your role (AWPer, entry, support, anchor) and who plays most like you"),
    ("Improvement plan", "where you stand among players of your level and what to work on"),
    ("Scouting", "an opponent team's favourite and weakest maps, roles and form"),
]
DEMO_CHECKOUT_NOTE = (
    "Demo set-up: upgrades go through a demo checkout, so no card is asked and nothing is "
    "charged. With Stripe keys configured, this button opens Stripe Checkout."
)


def upgrade_call_to_action(user: User, feature: str | None = None, *, key: str = "upgrade") -> None:
    """Explain premium with its price and offer the checkout button (Stripe or the demo one)."""
    service = billing()
    price = service.price()
    what = f"{feature[:1].upper()}{feature[1:]} is a premium analysis. " if feature else ""
    cost = f" for **{price.label}**" if price else ""
    st.info(
        f"{what}Upgrade to premium{cost} to unlock the match predictor, map veto advice, "
        "playstyle profile and ratings, improvement plan, opponent scouting, tilt analysis and "
        "head-to-head.",
        icon="⭐",
    )
    if not service.enabled:
        st.warning(
            "Upgrades are switched off on this server (no payment provider is configured). "
            "Ask the operator to grant premium to your account.",
            icon="💳",
        )
        return
    pending = st.session_state.get(CHECKOUT_URL)
    if pending:
        st.session_state.pop(CHECKOUT_URL, None)
        redirect(pending, "Continue to checkout")
        return
    label = f"Upgrade to premium · {price.label}" if price else "Upgrade to premium"
    if st.button(label, type="primary", icon=":material/star:", key=key):
        start_checkout(user)
        if st.session_state.get(CHECKOUT_URL):
            st.rerun()
    if service.demo:
        st.caption(DEMO_CHECKOUT_NOTE)


# ---------------------------------------------------------------------------------------------
# gates


LOGIN_FAILED = (
    "Wrong username or password. Check both and try again (after several failed tries, each "
    "new one waits a little longer)."
)
RETURN_TO = "next"  # query parameter of the Account page: the page to go back to after login
_CURRENT_PAGE = "nav_current_page"


def remember_current_page(url_path: str) -> None:
    """Called by the entry script with the page about to run (for "back to where you were")."""
    st.session_state[_CURRENT_PAGE] = url_path


def return_target(url_path: str | None) -> str | None:
    """The page file to return to after login, only for a page of this app (no open redirect)."""
    if not url_path or not url_path.replace("_", "").isalpha() or url_path == "account":
        return None
    file = f"views/{url_path}.py"
    return file if (Path(__file__).parent / file).exists() else None


def login_prompt(what: str) -> None:
    st.warning(f"Log in to use {what}.", icon="🔒")
    back = {RETURN_TO: st.session_state.get(_CURRENT_PAGE, "")}
    player = st.query_params.get("player")
    if player:
        back["player"] = player
    try:
        st.page_link(
            ACCOUNT_PAGE.file,
            label="Log in or create an account",
            icon=":material/login:",
            query_params={k: v for k, v in back.items() if v},
        )
    except StreamlitAPIException:  # run outside the app's navigation (a bare script)
        st.markdown("[Log in or create an account](account)")


def require_login(what: str = "this page") -> User:
    user = current_user()
    if user is None:
        login_prompt(what)
        st.stop()
    return user


def premium_or_prompt(feature: str, *, key: str = "upgrade") -> User | None:
    """The premium user, or ``None`` after a login or upgrade prompt in place (the page may go
    on rendering below it)."""
    user = current_user()
    if user is None:
        login_prompt(feature)
        return None
    if not user_is_premium(user):
        upgrade_call_to_action(user, feature, key=key)
        return None
    return user


def require_premium(feature: str) -> User:
    """Top of every premium page: the premium user, or a login/upgrade prompt and ``st.stop()``."""
    user = premium_or_prompt(feature)
    if user is None:
        st.stop()
    return user


def require_admin() -> User:
    """Top of every admin page: the admin user (role read now), or a refusal and ``st.stop()``."""
    user = require_login("the admin pages")
    if user.role != "admin":
        st.error("This page is for administrators only.", icon="⛔")
        st.stop()
    return user
