"""The app's ASGI entry (``streamlit run app/server.py``, what ``faceit-ai run`` and the stack
start): the Streamlit pages of app/main.py plus the app's own routes (app/routes.py: the
HttpOnly re-login cookie), on one origin."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from app.routes import routes

app = st.App(Path(__file__).with_name("main.py"), routes=routes)
