"""Login, registration and the premium/admin gates of the Streamlit app (AppTest)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from streamlit.testing.v1 import AppTest

from app import auth as app_auth
from app import navigation
from core import auth
from core.db.schema import AuditLog, Subscription, User
from core.fake_stripe import FakeStripe
from tests.app.conftest import APP, reset_app_state
from tests.app_auth.conftest import PASSWORD

PREMIUM_PAGES = [(spec.file, spec.title, spec.icon) for spec in navigation.PREMIUM_PAGES]
ADMIN_PAGES = [(spec.file, spec.title, spec.icon) for spec in navigation.ADMIN_PAGES]
ACCOUNT = navigation.ACCOUNT_PAGE.file
SQL = "'; DROP TABLE users;--"
HTML = "<script>alert(1)</script>"


def app() -> AppTest:
    return AppTest.from_file(APP, default_timeout=60)


def log_in(at: AppTest, username: str, password: str = PASSWORD) -> AppTest:
    at.switch_page(ACCOUNT).run()
    at.text_input(key="login_username").input(username)
    at.text_input(key="login_password").input(password)
    button(at, "Log in").click().run()
    return at


def logged_in(username: str) -> AppTest:
    at = log_in(app().run(), username)
    assert not at.exception, at.exception
    assert f"Logged in as **{username}**" in texts(at), texts(at)
    return at


def button(at: AppTest, label: str) -> Any:
    # "Upgrade to premium" also matches "Upgrade to premium · €4.99 / month"
    found = [b for b in at.button if b.label == label or b.label.startswith(f"{label} · ")]
    assert found, f"no button {label!r} in {[b.label for b in at.button]}"
    return found[0]


def texts(at: AppTest) -> str:
    """Every message, markdown and caption of the page, joined."""
    parts = []
    for kind in ("markdown", "caption", "info", "warning", "error", "success", "title"):
        parts += [str(element.value) for element in getattr(at, kind)]
    return "\n".join(parts)


def gated_out(at: AppTest, title: str) -> bool:
    """The premium page stopped at its gate: none of its own content was rendered."""
    return not any(t.value == title for t in at.title)


def users_count(sessions: Callable[[], Session]) -> int:
    with sessions() as session:
        return session.scalar(select(func.count(User.id))) or 0


# -- the premium gate ---------------------------------------------------------------------------


def test_the_premium_pages_in_the_navigation() -> None:
    assert [spec[1] for spec in PREMIUM_PAGES] == [
        "Match predictor",
        "Map veto",
        "Playstyle",
        "Improvement plan",
        "Scouting",
    ]


@pytest.mark.parametrize(("page", "title", "icon"), PREMIUM_PAGES)
def test_a_visitor_is_asked_to_log_in(app_settings: Path, page: str, title: str, icon: str) -> None:
    at = app().run()
    at.switch_page(page).run()
    assert not at.exception, at.exception
    assert any(w.value.startswith("Log in to use") for w in at.warning), texts(at)
    assert gated_out(at, title)


@pytest.mark.parametrize(("page", "title", "icon"), PREMIUM_PAGES)
def test_a_free_user_gets_the_upgrade_call_to_action(
    seeded: object, users: dict[str, User], page: str, title: str, icon: str
) -> None:
    at = logged_in("freddy")
    at.switch_page(page).run()
    assert not at.exception, at.exception
    assert any("is a premium analysis" in i.value for i in at.info), texts(at)
    # the default set-up upgrades through the labelled demo checkout, with the price shown
    assert any("€4.99 / month" in i.value for i in at.info), texts(at)
    assert button(at, "Upgrade to premium").label == "Upgrade to premium · €4.99 / month"
    assert "nothing is charged" in texts(at) and "STRIPE_SECRET_KEY" not in texts(at)
    assert gated_out(at, title)


@pytest.mark.parametrize(("page", "title", "icon"), PREMIUM_PAGES)
@pytest.mark.parametrize("kind", ["premium", "role"])
def test_premium_users_pass_the_gate(
    seeded: dict[str, Any], users: dict[str, User], kind: str, page: str, title: str, icon: str
) -> None:
    at = logged_in(users[kind].username)
    at.session_state["player_id"] = seeded["player_id"]
    at.switch_page(page).run()
    assert not any("is a premium analysis" in i.value for i in at.info)
    assert not any(w.value.startswith("Log in to use") for w in at.warning)
    assert not at.exception, at.exception  # the page's own content rendered


def test_a_cancelled_subscription_loses_premium_on_the_next_render(
    seeded: object, users: dict[str, User], sessions: Callable[[], Session]
) -> None:
    page, title, _ = PREMIUM_PAGES[0]
    at = logged_in("paula")
    at.switch_page(page).run()
    assert any(t.value == title for t in at.title)

    with sessions() as session:  # e.g. the customer.subscription.deleted webhook
        sub = session.scalar(
            select(Subscription).where(Subscription.user_id == users["premium"].id)
        )
        assert sub is not None
        sub.status = "canceled"
        session.commit()

    at.run()  # same browser session, still logged in
    assert f"{users['premium'].username}" in texts(at)
    assert any("is a premium analysis" in i.value for i in at.info), texts(at)
    assert gated_out(at, title)


def test_an_operator_grant_applies_without_logging_in_again(
    seeded: object, users: dict[str, User], sessions: Callable[[], Session]
) -> None:
    page, title, _ = PREMIUM_PAGES[0]
    at = logged_in("freddy")
    at.switch_page(page).run()
    assert gated_out(at, title)
    with sessions() as session:
        auth.set_role(session, "freddy", "premium", actor="ada")
    at.run()
    assert any(t.value == title for t in at.title), texts(at)


def test_the_gates_directly(app_settings: Path, users: dict[str, User]) -> None:
    """require_premium / require_admin on a bare script, whatever the navigation shows."""

    def script() -> None:
        import streamlit as st

        from app.auth import require_admin, require_premium

        if st.session_state.get("gate") == "admin":
            require_admin()
        else:
            require_premium("the secret feature")
        st.title("SECRET CONTENT")

    cases = [
        (None, "premium", False),
        ("freddy", "premium", False),
        ("paula", "premium", True),
        ("rolf", "premium", True),
        ("ada", "premium", True),
        (None, "admin", False),
        ("freddy", "admin", False),
        ("paula", "admin", False),
        ("rolf", "admin", False),
        ("ada", "admin", True),
    ]
    ids = {user.username: user.id for user in users.values()}
    for username, gate, allowed in cases:
        at = AppTest.from_function(script, default_timeout=30)
        at.session_state["gate"] = gate
        if username:
            at.session_state["auth_user_id"] = ids[username]
        at.run()
        assert not at.exception, at.exception
        shown = any(t.value == "SECRET CONTENT" for t in at.title)
        assert shown is allowed, (username, gate, texts(at))
        if not allowed and username is None:
            assert at.warning[0].value.startswith("Log in to use")
        elif not allowed and gate == "admin":
            assert "administrators only" in at.error[0].value


# -- the admin pages ----------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["free", "premium", "role"])
def test_admin_pages_are_not_offered_to_other_users(users: dict[str, User], kind: str) -> None:
    at = logged_in(users[kind].username)
    for page, _, _ in ADMIN_PAGES:  # not even registered in their navigation
        with pytest.raises(ValueError, match="Could not find a navigation page"):
            at.switch_page(page)
    # and each admin page refuses them by itself (see test_the_gates_directly)
    for page, _, _ in ADMIN_PAGES:
        assert "auth.require_admin()" in (navigation.APP_DIR / page).read_text()


def test_an_admin_sees_the_admin_pages_and_changes_a_role(
    users: dict[str, User], sessions: Callable[[], Session]
) -> None:
    at = logged_in("ada")
    for page, title, _ in ADMIN_PAGES:
        at.switch_page(page).run()
        assert not at.exception, (page, at.exception)
        assert any(t.value == title for t in at.title), (page, texts(at))

    at.switch_page("views/admin_users.py").run()
    at.selectbox[0].select("freddy")
    at.selectbox[1].select("premium")
    button(at, "Change role").click().run()
    assert not at.exception
    assert "freddy is now **premium**" in at.success[0].value
    with sessions() as session:
        assert auth.get_user(session, "freddy").role == "premium"  # type: ignore[union-attr]
        row = session.scalar(select(AuditLog).where(AuditLog.action == "role_change"))
        assert row is not None and row.actor == "ada" and row.subject == "freddy"


def test_a_demoted_admin_is_refused_on_the_next_render(
    users: dict[str, User], sessions: Callable[[], Session]
) -> None:
    at = logged_in("ada")
    at.switch_page("views/admin_users.py").run()
    assert any(t.value == "Users" for t in at.title)
    with sessions() as session:
        auth.set_role(session, "ada", "free", actor="system")
    at.run()
    assert not any(t.value == "Users" for t in at.title)


# -- login and registration ---------------------------------------------------------------------


def test_wrong_password_is_refused(users: dict[str, User]) -> None:
    at = log_in(app().run(), "freddy", "Wrong-password-1")
    assert not at.exception
    assert at.error[0].value == app_auth.LOGIN_FAILED
    assert "auth_user_id" not in at.session_state


def test_repeated_failures_are_throttled_alike_for_real_and_unknown_accounts(
    users: dict[str, User], monkeypatch: pytest.MonkeyPatch, sessions: Callable[[], Session]
) -> None:
    monkeypatch.setenv("LOGIN_MAX_FAILURES", "3")
    reset_app_state()
    seen: dict[str, list[str]] = {}
    for username in ("freddy", "nobody-at-all"):
        at = app().run()
        messages = []
        for _ in range(3):
            log_in(at, username, "Wrong-password-1")
            messages.append(at.error[0].value)
        log_in(at, username, PASSWORD)  # even the right password is refused while throttled
        messages.append(at.error[0].value)
        seen[username] = messages
        assert "auth_user_id" not in at.session_state
    # the same message for every failure: a stranger learns nothing about the account
    assert seen["freddy"] == seen["nobody-at-all"] == [app_auth.LOGIN_FAILED] * 4
    with sessions() as session:
        actions = list(session.scalars(select(AuditLog.action).where(AuditLog.subject == "freddy")))
    assert "login_throttle" in actions and "login_throttled" in actions


@pytest.mark.parametrize("username", [SQL, HTML, "admin' OR '1'='1"])
def test_sql_and_html_in_the_login_form(
    users: dict[str, User], sessions: Callable[[], Session], username: str
) -> None:
    before = users_count(sessions)
    at = log_in(app().run(), username, PASSWORD)
    assert not at.exception
    assert at.error[0].value == app_auth.LOGIN_FAILED
    assert "auth_user_id" not in at.session_state
    assert users_count(sessions) == before


def register(
    at: AppTest, username: str, email: str, password: str, repeat: str | None = None
) -> None:
    at.switch_page(ACCOUNT).run()
    at.text_input(key="register_username").input(username)
    at.text_input(key="register_email").input(email)
    at.text_input(key="register_password").input(password)
    at.text_input(key="register_repeat").input(password if repeat is None else repeat)
    button(at, "Create account").click().run()


@pytest.mark.parametrize(
    ("username", "email", "password", "message"),
    [
        (SQL, "x@example.com", PASSWORD, "Username must be 3-32 characters"),
        (HTML, "x@example.com", PASSWORD, "Username must be 3-32 characters"),
        ("newbie", HTML + "@example.com", PASSWORD, "valid e-mail address"),
        ("newbie", "a@b.com'; DROP TABLE users;--", PASSWORD, "valid e-mail address"),
        ("newbie", "newbie@example.com", "short", "Password too weak"),
        ("newbie", "newbie@example.com", "password123", "Password too weak"),
        ("Freddy", "other@example.com", PASSWORD, "already registered"),
    ],
)
def test_registration_refuses_bad_fields_and_stores_nothing(
    users: dict[str, User],
    sessions: Callable[[], Session],
    username: str,
    email: str,
    password: str,
    message: str,
) -> None:
    before = users_count(sessions)
    at = app().run()
    register(at, username, email, password)
    assert not at.exception
    assert message in at.error[0].value, at.error
    assert users_count(sessions) == before


def test_register_then_log_in_then_log_out(
    app_settings: Path, sessions: Callable[[], Session]
) -> None:
    at = app().run()
    register(at, "newbie", "newbie@example.com", PASSWORD, repeat="Something-else-1")
    assert "The two passwords differ." in at.error[0].value
    register(at, "newbie", "newbie@example.com", PASSWORD)
    assert "Account **newbie** created" in at.success[0].value
    log_in(at, "newbie")
    assert "Logged in as **newbie**" in texts(at)
    assert any(m.label == "Plan" and m.value == "Free" for m in at.metric)
    assert at.session_state["auth_cookie_op"][0] == "set"  # the re-login cookie is pending

    button(at, "Log out").click().run()
    assert not at.exception
    assert "You are logged out." in texts(at)
    assert "auth_user_id" not in at.session_state
    assert at.session_state["auth_cookie_op"][0] == "clear"
    with sessions() as session:
        actions = list(session.scalars(select(AuditLog.action).where(AuditLog.subject == "newbie")))
    assert actions[:1] == ["register"] and "login" in actions and actions[-1] == "logout"


def test_demo_hint_only_with_the_demo_league(
    app_settings: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    at = app().run()
    at.switch_page(ACCOUNT).run()
    assert "demo-premium" in texts(at) and auth.DEMO_PASSWORD in texts(at)
    monkeypatch.setenv("FACEIT_API_KEY", "a-real-looking-key")
    reset_app_state()
    at = app().run()
    at.switch_page(ACCOUNT).run()
    assert "demo-premium" not in texts(at) and auth.DEMO_PASSWORD not in texts(at)


# -- checkout -----------------------------------------------------------------------------------


def test_upgrade_checkout_and_verified_return(
    stripe_env: FakeStripe, users: dict[str, User], sessions: Callable[[], Session]
) -> None:
    page, title, _ = PREMIUM_PAGES[0]
    at = logged_in("freddy")
    at.switch_page(page).run()
    button(at, "Upgrade to premium").click().run()
    assert not at.exception, at.exception
    assert len(stripe_env.checkout_sessions) == 1
    ((sid, checkout),) = stripe_env.checkout_sessions.items()
    assert checkout["client_reference_id"] == str(users["free"].id)
    assert checkout["success_url"].startswith("http://127.0.0.1:8599/account?session_id=")
    # the browser is sent to the hosted checkout page
    assert any(
        getattr(e, "proto", None) and f"/checkout/{sid}" in str(e.proto)
        for e in at.get("link_button")
    )

    # back from Stripe before paying: nothing is granted
    at.query_params["session_id"] = sid
    at.switch_page(ACCOUNT).run()
    assert "not confirmed yet" in texts(at)
    assert gated_out(at.switch_page(page).run(), title)

    stripe_env.complete_checkout(sid)  # the customer pays (no webhook delivered here)
    at.query_params["session_id"] = sid
    at.switch_page(ACCOUNT).run()
    assert not at.exception
    assert "Payment confirmed: premium is active" in at.success[0].value, texts(at)
    assert any(m.label == "Plan" and m.value == "Premium" for m in at.metric)
    at.switch_page(page).run()
    assert not any("is a premium analysis" in i.value for i in at.info), texts(at)


@pytest.mark.parametrize("forged", ["cs_test_does_not_exist", "<script>", "other-user"])
def test_a_forged_or_foreign_checkout_return_grants_nothing(
    stripe_env: FakeStripe, users: dict[str, User], sessions: Callable[[], Session], forged: str
) -> None:
    if forged == "other-user":  # a paid checkout of somebody else
        at = logged_in("ada")
        at.switch_page(ACCOUNT).run()
        with sessions() as session:
            auth.set_role(session, "ada", "free", actor="system")
        at.run()
        button(at, "Upgrade to premium").click().run()
        ((forged, _),) = stripe_env.checkout_sessions.items()
        stripe_env.complete_checkout(forged)
        reset_app_state()
    at = logged_in("freddy")
    at.query_params["session_id"] = forged
    at.switch_page(ACCOUNT).run()
    assert not at.exception
    assert at.error, texts(at)
    with sessions() as session:
        assert not auth.is_premium(session, users["free"].id)


@pytest.mark.parametrize(
    ("page", "title", "shows"),
    [
        ("views/admin_ingest.py", "Ingest", "ok"),
        ("views/admin_models.py", "Models", "No model trained yet"),
        ("views/admin_payments.py", "Payments", "No Stripe events processed yet."),
    ],
)
def test_admin_pages_render_what_the_database_holds(
    seeded: dict[str, Any], users: dict[str, User], page: str, title: str, shows: str
) -> None:
    at = logged_in(users["admin"].username)
    at.switch_page(page).run()
    assert not at.exception, at.exception
    assert at.title[0].value == title
    if page.endswith("admin_ingest.py"):  # the seeded players' sync state is listed
        listed = at.dataframe[0].value
        assert seeded["nickname"] in list(listed["nickname"])
        assert set(listed["status"]) == {shows}
    else:
        assert any(shows in c.value for c in at.caption), texts(at)


def test_markup_in_an_email_address_is_shown_as_text(app_settings: Path) -> None:
    """An address may hold markdown characters; the account page shows them as typed."""
    from markdown_it import MarkdownIt

    at = app().run()
    register(at, "marky", "**big**_x_@example.com", PASSWORD)
    log_in(at, "marky")
    line = next(str(m.value) for m in at.markdown if str(m.value).startswith("Logged in as"))
    html = MarkdownIt("commonmark").render(line)
    assert "<strong>big" not in html and "<em>" not in html
    assert "**big**_x_@example.com" in html
