"""Streamlit entry point: settings check, navigation and footer. Pages live in app/views/."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from core.settings import SettingsError, get_settings

PAGES = Path(__file__).with_name("views")

st.set_page_config(page_title="Faceit AI", page_icon="🎯", layout="wide")

try:
    settings = get_settings()
except SettingsError as exc:
    st.error(f"Faceit AI cannot start because of its configuration.\n\n```\n{exc}\n```")
    st.stop()

from app.resources import get_resources  # noqa: E402

navigation = st.navigation(
    {
        "Players": [
            st.Page(PAGES / "home.py", title="Home", icon=":material/home:", default=True),
            st.Page(PAGES / "player.py", title="Overview", icon=":material/monitoring:"),
            st.Page(PAGES / "matches.py", title="Matches", icon=":material/history:"),
            st.Page(PAGES / "maps.py", title="Maps", icon=":material/map:"),
            st.Page(PAGES / "compare.py", title="Compare", icon=":material/group:"),
        ],
    }
)
navigation.run()

resources = get_resources()
st.divider()
st.caption(
    f"Data: {settings.data_source} · Database: {resources.describe_database()}"
    + (" · Demo data is simulated, not real FACEIT players." if settings.uses_demo_league else "")
)
