"""Account: log in, register, log out, the plan, upgrade (Stripe Checkout) and billing portal.

The checkout success return (``?session_id=cs_...``) grants premium only after
``BillingService.confirm_checkout`` verified the session with Stripe (or the verified webhook did).
"""

from __future__ import annotations

import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from app import auth, present
from app.notifications import notifications_section
from app.resources import get_resources
from app.widgets import plain, text_input
from core import auth as core_auth
from core.billing import BillingError
from core.db.schema import User
from core.faceit_login import REFUSALS
from core.settings import get_settings

settings = get_settings()
resources = get_resources()

st.title("Account")
notice_slot = st.empty()  # filled at the end, once this run's actions are known

_NOTICE = "account_notice"


def notice(kind: str, message: str) -> None:
    """A message shown on this page until the next one or the next form submission.

    (Not popped on display: the cookie component reruns the script by itself right after a login
    or logout, which would make a show-once message flash and vanish.)
    """
    st.session_state[_NOTICE] = (kind, message)


def clear_notice() -> None:
    st.session_state.pop(_NOTICE, None)


def show_notice(slot: DeltaGenerator) -> None:
    kind, message = st.session_state.get(_NOTICE, (None, None))
    if kind == "success":
        slot.success(message, icon="✅")
    elif kind == "info":
        slot.info(message, icon="ℹ️")
    elif kind == "error":
        slot.error(message, icon="⚠️")


def confirm_return(user: User, checkout_id: str) -> None:
    """The Stripe Checkout success return: verify the session before anything is granted."""
    service = auth.billing()
    try:
        with resources.sessions() as session:
            fresh = session.get(User, user.id)
            assert fresh is not None
            premium = service.confirm_checkout(session, checkout_id, fresh)
    except BillingError as exc:
        st.query_params.pop("session_id", None)
        notice("error", str(exc))
        return
    if premium:
        st.query_params.pop("session_id", None)
        notice("success", "Payment confirmed: premium is active. Enjoy every analysis!")
    else:
        st.info(
            "Your payment is not confirmed yet. This page checks again when you reload it.",
            icon="⏳",
        )


def login_form() -> None:
    with st.form("login"):
        username = text_input("Username", key="login_username", max_chars=64)
        password = text_input("Password", type="password", key="login_password")
        submitted = st.form_submit_button("Log in", type="primary")
    if submitted and username is not None and password is not None:
        clear_notice()
        try:
            user = auth.login(username, password)
        except core_auth.AuthError:
            # one message for every failure (wrong name, wrong password, throttled): it tells a
            # stranger nothing about which accounts exist
            st.error(auth.LOGIN_FAILED, icon="⚠️")
            return
        notice("success", f"Welcome back, {user.name or user.username}!")
        back_to = auth.return_target(st.query_params.get(auth.RETURN_TO))
        if back_to is not None:
            player = st.query_params.get("player")
            st.switch_page(back_to, query_params={"player": player} if player else None)
        st.rerun()


def register_form() -> None:
    with st.form("register"):
        username = text_input(
            "New username",
            key="register_username",
            max_chars=64,
            help="3-32 characters: letters, digits, '_', '-' or '.'",
        )
        email = text_input("E-mail", key="register_email", max_chars=254)
        password = text_input(
            "Choose a password",
            type="password",
            key="register_password",
            help="At least 10 characters mixing two of: lower-case, upper-case, digits, symbols; "
            "not your username and not a common password.",
        )
        repeat = text_input("Repeat the password", type="password", key="register_repeat")
        submitted = st.form_submit_button("Create account")
    if submitted and None not in (username, email, password, repeat):
        clear_notice()
        if password != repeat:
            st.error("The two passwords differ.", icon="⚠️")
            return
        try:
            with resources.sessions() as session:
                user = core_auth.register_user(session, username, email, password)
        except core_auth.AuthError as exc:
            st.error(str(exc), icon="⚠️")
            return
        st.success(
            f"Account **{user.username}** created. Log in with it on the *Log in* tab.",
            icon="✅",
        )


def faceit_login_button() -> None:
    if settings.faceit_oauth is None:
        return
    # a button, not a link: a link button opens a new tab, the login belongs in this one
    if st.button("Log in with FACEIT", type="primary", icon=":material/sports_esports:"):
        auth.redirect(auth.app_url(auth.FACEIT_LOGIN_URL), "Continue to FACEIT")
    if settings.faceit_oauth.demo:
        st.caption(
            "Demo set-up: FACEIT's login is played by the demo league, where you pick a demo "
            "player to be; no FACEIT account is needed."
        )


def faceit_section(user: User) -> None:
    """The FACEIT player this account is linked to, or the button that links one."""
    st.subheader("FACEIT account")
    if user.faceit_player_id:
        name = user.faceit_nickname or user.faceit_player_id
        st.write(
            f"Linked to the FACEIT player **{plain(name)}**: the dashboards open on you, and "
            "the predictor and Compare start with you and your recent teammates."
        )
        if user.faceit_nickname:
            st.page_link(
                "views/player.py",
                label="Open my overview",
                icon=":material/monitoring:",
                query_params={"player": user.faceit_nickname},
            )
        return
    if settings.faceit_oauth is None:
        st.caption("Linking a FACEIT account is not set up on this server.")
        return
    st.write(
        "Link your FACEIT account so the dashboards open on you and the pickers start with you "
        "and your recent teammates."
    )
    if st.button("Link my FACEIT account", icon=":material/link:"):
        grant = auth.issue_link_grant(user)  # one-time, for this click
        auth.redirect(auth.app_url(f"{auth.FACEIT_LOGIN_URL}?link={grant}"), "Continue to FACEIT")


def faceit_return(user: User | None) -> None:
    """The notice of the FACEIT callback's return (``?faceit=...``), from a fixed list."""
    outcome = st.query_params.get("faceit")
    if outcome is None:
        return
    st.query_params.pop("faceit", None)
    if outcome == "linked" and user is not None and user.faceit_player_id:
        name = user.faceit_nickname or user.faceit_player_id
        notice("success", f"Your account is now linked to the FACEIT player {plain(name)}.")
    elif outcome in REFUSALS:
        notice("error", REFUSALS[outcome])


def plan_section(user: User) -> None:
    premium = auth.user_is_premium(user)
    sub = auth.subscription_of(user)
    st.subheader("Your plan")
    cols = st.columns(3)
    cols[0].metric("Plan", "Premium" if premium else "Free")
    cols[1].metric("Subscription", sub.status.replace("_", " ") if sub else "none")
    period_end = sub.current_period_end if sub else None
    cols[2].metric(
        "Renews / ends",
        present.relative_time(period_end) if period_end else "–",
        help=f"{period_end:%d %B %Y}" if period_end else None,
    )
    if premium and user.role in {"admin", "premium"} and not (sub and sub.stripe_customer_id):
        st.caption(f"Premium through the **{user.role}** role.")
    if not premium:
        auth.upgrade_call_to_action(user, key="account_upgrade")
    has_billing = sub is not None and bool(sub.stripe_customer_id)
    if has_billing and st.button("Manage billing", icon=":material/credit_card:"):
        service = auth.billing()
        try:
            with resources.sessions() as session:
                fresh = session.get(User, user.id)
                assert fresh is not None
                url = service.portal_url(session, fresh, auth.app_url("account"))
        except BillingError as exc:
            st.error(str(exc), icon="💳")
        else:
            auth.redirect(url, "Open the billing portal")


user = auth.current_user()
checkout_id = st.query_params.get("session_id")
if st.query_params.get("checkout") == "cancelled":
    st.query_params.pop("checkout", None)
    notice("info", "Checkout cancelled: nothing was charged.")

if user is not None and checkout_id:
    confirm_return(user, checkout_id)

faceit_return(user)

if user is None:
    if checkout_id:
        st.info("Log in to finish your upgrade.", icon="💳")
    faceit_login_button()
    login_tab, register_tab = st.tabs(["Log in", "Create account"])
    with login_tab:
        login_form()
    with register_tab:
        register_form()
    if settings.uses_demo_league:
        st.caption(
            "Demo set-up: try the accounts **demo-free** and **demo-premium** with the password "
            f"`{core_auth.DEMO_PASSWORD}`."
        )
else:
    if user.email.endswith("@" + core_auth.FACEIT_EMAIL_DOMAIN):
        st.write(f"Logged in as **{plain(user.username)}** (with FACEIT).")
    else:
        st.write(f"Logged in as **{plain(user.username)}** ({plain(user.email)}).")
    if st.button("Log out", icon=":material/logout:"):
        auth.logout()
        notice("info", "You are logged out.")
        st.rerun()
    faceit_section(user)
    plan_section(user)
    notifications_section(user)

show_notice(notice_slot)
