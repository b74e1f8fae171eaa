from __future__ import annotations

from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from core.db.engine import make_engine
from core.db.migrate import upgrade
from core.settings import get_settings

APP = str(Path(__file__).resolve().parents[2] / "app" / "main.py")


@pytest.fixture
def app_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    db = tmp_path / "app.db"
    engine = make_engine(f"sqlite:///{db}")
    upgrade(engine)
    engine.dispose()
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{db}")
    monkeypatch.setenv("DATA_DIR", str(tmp_path))
    monkeypatch.delenv("FACEIT_API_KEY", raising=False)
    get_settings.cache_clear()
    st.cache_resource.clear()
    yield db
    get_settings.cache_clear()
    st.cache_resource.clear()


def test_home_shows_empty_state_and_footer(app_env: Path) -> None:
    at = AppTest.from_file(APP, default_timeout=30).run()
    assert not at.exception
    assert any("No players in the database yet" in info.value for info in at.info)
    footer = " ".join(caption.value for caption in at.caption)
    assert "demo league" in footer and "SQLite" in footer


def test_bad_configuration_is_explained_not_a_traceback(
    app_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABASE_URL", "mysql://root:hunter2@db/x")
    get_settings.cache_clear()
    at = AppTest.from_file(APP, default_timeout=30).run()
    assert not at.exception
    message = at.error[0].value
    assert "DATABASE_URL" in message and "hunter2" not in message
