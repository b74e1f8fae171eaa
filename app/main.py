"""Streamlit entry point: settings check, login state, navigation (with gates) and footer.

Pages live in app/views/. Premium pages are listed for everyone (visitors and free users see the
login prompt or the upgrade call-to-action) and gate themselves with ``app.auth.require_premium``;
admin pages are only in the navigation of admins and check ``app.auth.require_admin`` themselves.
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from core.settings import SettingsError, get_settings

APP_DIR = Path(__file__).parent
PAGES = APP_DIR / "views"

PUBLIC_PAGES: list[tuple[str, str, str]] = [
    ("views/home.py", "Home", ":material/home:"),
    ("views/player.py", "Overview", ":material/monitoring:"),
    ("views/matches.py", "Matches", ":material/history:"),
    ("views/maps.py", "Maps", ":material/map:"),
    ("views/compare.py", "Compare", ":material/group:"),
]
PRICING_PAGE = ("views/pricing.py", "Pricing", ":material/sell:")
ACCOUNT_PAGE = ("views/account.py", "Account", ":material/account_circle:")
# plays Stripe's hosted checkout and portal pages in the default set-up (reached by link only)
DEMO_CHECKOUT_PAGE = ("views/demo_checkout.py", "Demo checkout", ":material/shopping_cart:")
PREMIUM_PAGES: list[tuple[str, str, str]] = [
    ("views/predictor.py", "Match predictor", ":material/psychology:"),
    ("views/veto.py", "Map veto", ":material/block:"),
    ("views/playstyle.py", "Playstyle", ":material/person_search:"),
    ("views/improvement.py", "Improvement plan", ":material/trending_up:"),
    ("views/scouting.py", "Scouting", ":material/visibility:"),
]
ADMIN_PAGES: list[tuple[str, str, str]] = [
    ("views/admin_users.py", "Users", ":material/manage_accounts:"),
    ("views/admin_ingest.py", "Ingest", ":material/cloud_sync:"),
    ("views/admin_models.py", "Models", ":material/model_training:"),
    ("views/admin_payments.py", "Payments", ":material/payments:"),
]


def page(spec: tuple[str, str, str], *, default: bool = False, hidden: bool = False) -> st.Page:
    file, title, icon = spec
    visibility = "hidden" if hidden else "visible"
    return st.Page(APP_DIR / file, title=title, icon=icon, default=default, visibility=visibility)


def existing(specs: list[tuple[str, str, str]]) -> list[tuple[str, str, str]]:
    """The pages whose file exists (pages still being written are left out)."""
    return [spec for spec in specs if (APP_DIR / spec[0]).exists()]


st.set_page_config(page_title="Faceit AI", page_icon="🎯", layout="wide")

try:
    settings = get_settings()
except SettingsError as exc:
    st.error(f"Faceit AI cannot start because of its configuration.\n\n```\n{exc}\n```")
    st.stop()

from app import auth  # noqa: E402
from app.resources import get_resources, start_observability  # noqa: E402
from app.widgets import keep_player_in_url  # noqa: E402

start_observability()

auth.sync_session()
user = auth.current_user()

sections: dict[str, list[st.Page]] = {
    "Players": [page(spec, default=index == 0) for index, spec in enumerate(PUBLIC_PAGES)],
}
if premium := existing(PREMIUM_PAGES):
    sections["Premium"] = [page(spec) for spec in premium]
sections["Account"] = [
    page(PRICING_PAGE),
    page(ACCOUNT_PAGE),
    page(DEMO_CHECKOUT_PAGE, hidden=True),
]
if user is not None and user.role == "admin":
    sections["Admin"] = [page(spec) for spec in existing(ADMIN_PAGES)]

with st.sidebar:
    if user is None:
        st.caption("Not logged in")
    else:
        st.caption(f"Logged in as **{user.username}**")

navigation = st.navigation(sections)
auth.remember_current_page(navigation.url_path)
keep_player_in_url()
navigation.run()

resources = get_resources()
st.divider()
st.caption(
    f"Data: {settings.data_source} · Database: {resources.describe_database()}"
    + (" · Demo data is simulated, not real FACEIT players." if settings.uses_demo_league else "")
)
