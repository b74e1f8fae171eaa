from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
import streamlit as st

from core.db.engine import make_engine
from core.db.migrate import upgrade
from core.settings import get_settings
from core.sources import demo_league, run_ingest

APP = str(Path(__file__).resolve().parents[2] / "app" / "main.py")
DEMO_PLAYERS = 30


def reset_app_state() -> None:
    get_settings.cache_clear()
    st.cache_resource.clear()
    st.cache_data.clear()


@pytest.fixture
def app_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Settings of a fresh default set-up (SQLite under tmp, demo league) for AppTest runs."""
    db = tmp_path / "app.db"
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{db}")
    monkeypatch.setenv("DATA_DIR", str(tmp_path))
    monkeypatch.setenv("DEMO_PLAYERS", str(DEMO_PLAYERS))
    monkeypatch.delenv("FACEIT_API_KEY", raising=False)
    monkeypatch.delenv("REDIS_URL", raising=False)
    engine = make_engine(f"sqlite:///{db}")
    upgrade(engine)
    engine.dispose()
    reset_app_state()
    yield db
    reset_app_state()


@pytest.fixture
def seeded(app_settings: Path) -> dict[str, object]:
    """The demo league's first players ingested; returns the first player's truth row."""
    settings = get_settings()
    league = demo_league(settings)
    nicknames = list(league.players_frame()["nickname"][:3])

    async def job(ingestor):  # type: ignore[no-untyped-def]
        for nickname in nicknames:
            await ingestor.ingest_nickname(nickname)

    asyncio.run(run_ingest(settings, job, roster_depth=0))
    return league.players_frame().row(0, named=True)
