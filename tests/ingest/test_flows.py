"""The Prefect flows run the same ingestion as tasks (one shared temporary Prefect API)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
import sentry_sdk
from sqlalchemy import func, select

from core.db.engine import make_engine
from core.db.schema import IngestState, MatchPlayer
from core.sentry import release
from core.settings import get_settings
from core.sources import demo_league
from pipelines.ingest import ingest_player, sync_tracked_players
from tests.utils.sentry_capture import SentryCapture


@pytest.fixture
def demo_settings(default_setup: Callable[[int], Path]) -> str:
    return f"sqlite:///{default_setup(40)}"


async def test_ingest_player_flow_then_sync_adds_nothing(
    prefect_harness: None, demo_settings: str
) -> None:
    league = demo_league(get_settings())
    player = league.players_frame().row(0, named=True)

    result = await ingest_player(player["nickname"], roster_depth=2)
    assert result["players"] == 1 and result["new_matches"] == player["matches"]

    engine = make_engine(demo_settings)
    with engine.connect() as conn:
        rows = conn.scalar(
            select(func.count())
            .select_from(MatchPlayer)
            .where(MatchPlayer.player_id == player["player_id"])
        )
        state = conn.execute(select(IngestState.status, IngestState.watermark)).one()
    engine.dispose()
    assert rows == player["matches"]
    assert state.status == "ok" and state.watermark is not None

    again = await sync_tracked_players()
    assert again["new_matches"] == 0 and again["failed"] == []


async def test_a_failed_flow_run_reaches_sentry_with_its_run_id(
    prefect_harness: None,
    demo_settings: str,
    sentry: SentryCapture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from prefect.client.orchestration import get_client

    monkeypatch.setenv("SENTRY_DSN", sentry.dsn)
    monkeypatch.setenv("FACEIT_API_KEY", "fa-secret-key-123456")
    get_settings.cache_clear()
    state = await ingest_player("NoSuchPlayer_zz", roster_depth=1, return_state=True)
    assert state.is_failed()
    sentry_sdk.get_client().flush(timeout=5)

    events = [e for e in sentry.events() if e.get("tags", {}).get("service") == "flows"]
    assert events, f"no event from the flow run: {sentry.events()}"
    tags = events[0]["tags"]
    assert tags["flow"] == "ingest-player"
    async with get_client() as client:
        run = await client.read_flow_run(state.state_details.flow_run_id)
    assert tags["flow_run_id"] == str(run.id)
    assert events[0]["release"] == release()
    assert "fa-secret-key-123456" not in sentry.text()
