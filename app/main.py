"""Streamlit entry point: settings check, login state, navigation (with gates) and footer.

Which pages exist and who sees them is declared in app/navigation.py; pages live in app/views/.
"""

from __future__ import annotations

import streamlit as st

from app.navigation import PageSpec, sections
from core.settings import SettingsError, get_settings


def page(spec: PageSpec, *, default: bool = False) -> st.Page:
    visibility = "hidden" if spec.hidden else "visible"
    return st.Page(
        spec.path, title=spec.title, icon=spec.icon, default=default, visibility=visibility
    )


st.set_page_config(page_title="Faceit AI", page_icon="🎯", layout="wide")

try:
    settings = get_settings()
except SettingsError as exc:
    st.error(f"Faceit AI cannot start because of its configuration.\n\n```\n{exc}\n```")
    st.stop()

from app import auth  # noqa: E402
from app.observability import page_run, start_observability  # noqa: E402
from app.resources import get_resources  # noqa: E402
from app.widgets import keep_player_in_url, plain  # noqa: E402

start_observability()

auth.sync_session()
user = auth.current_user()

menu = sections(user.role if user is not None else None)
first = next(iter(menu.values()))[0]
pages = {
    title: [page(spec, default=spec == first) for spec in specs] for title, specs in menu.items()
}

with st.sidebar:
    if user is None:
        st.caption("Not logged in")
    else:
        st.caption(f"Logged in as **{plain(user.username)}**")

# always fully listed: collapsed, an admin's 16 pages would hide Account and the Admin section
# behind "View 6 more"
navigation = st.navigation(pages, expanded=True)
auth.remember_current_page(navigation.url_path)
keep_player_in_url()
with page_run(navigation.url_path or "home"):
    navigation.run()

resources = get_resources()
st.divider()
st.caption(
    f"Data: {settings.data_source} · Database: {resources.describe_database()}"
    + (" · Demo data is simulated, not real FACEIT players." if settings.uses_demo_league else "")
)
