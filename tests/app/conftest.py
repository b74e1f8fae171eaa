from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import streamlit as st

from core.resources import Resources
from core.settings import get_settings
from core.sources import demo_league, run_ingest


def shown(markdown: str) -> str:
    """What a reader sees of a markdown source (CommonMark: escapes resolved, tags dropped)."""
    import html
    import re

    from markdown_it import MarkdownIt

    rendered = MarkdownIt("commonmark").render(markdown)
    return html.unescape(re.sub(r"<[^>]+>", "", rendered)).strip()


APP = str(Path(__file__).resolve().parents[2] / "app" / "main.py")
DEMO_PLAYERS = 30


def reset_app_state() -> None:
    get_settings.cache_clear()
    st.cache_resource.clear()
    st.cache_data.clear()


@pytest.fixture
def app_settings(default_setup: Callable[[int], Path]) -> Iterator[Path]:
    """Settings of a fresh default set-up (SQLite under tmp, demo league) for AppTest runs."""
    db = default_setup(DEMO_PLAYERS)
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

    with Resources.open(settings) as resources:
        asyncio.run(run_ingest(resources, job, roster_depth=0))
    return league.players_frame().row(0, named=True)
