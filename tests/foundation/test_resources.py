"""The composition root (core.resources.Resources): built once, passed in, used as given."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

from sqlalchemy import Engine, func, select

from core.cache import FeatureCache
from core.db.schema import Match, Player
from core.resources import Resources
from core.settings import load_settings
from core.sources import demo_league, run_ingest
from models.analysis import AnalysisModels

DEMO_PLAYERS = 20


def resources_on(engine: Engine, tmp_path: Path, **settings: object) -> Resources:
    """Resources whose settings name a database that does not exist: only the engine counts."""
    values: dict[str, object] = {
        "database_url": f"sqlite:///{tmp_path / 'elsewhere' / 'not-this.db'}",
        "data_dir": tmp_path,
        "demo_players": DEMO_PLAYERS,
        "redis_url": None,
        "_env_file": None,
    }
    values.update(settings)
    return Resources(settings=load_settings(**values), engine=engine, cache=FeatureCache(None))


def test_run_ingest_writes_through_the_callers_engine_and_leaves_it_open(
    pg_engine: Engine, tmp_path: Path
) -> None:
    resources = resources_on(pg_engine, tmp_path)
    nicknames = list(demo_league(resources.settings).players_frame()["nickname"][:2])
    for nickname in nicknames:  # two runs, one engine
        summary = asyncio.run(
            run_ingest(resources, lambda i, n=nickname: i.ingest_nickname(n), roster_depth=0)
        )
        assert summary.requests > 0
    with resources.sessions() as session:  # still usable after the runs
        players = set(session.scalars(select(Player.nickname)))
        assert set(nicknames) <= players
        assert (session.scalar(select(func.count(Match.id))) or 0) > 0
    assert not (tmp_path / "elsewhere").exists(), "the settings' database was never opened"


def test_cached_builds_once_under_concurrent_first_use(
    sqlite_engine: Engine, tmp_path: Path
) -> None:
    resources = resources_on(sqlite_engine, tmp_path)
    built: list[object] = []
    barrier = threading.Barrier(8)

    def build() -> object:
        value = object()
        built.append(value)
        return value

    seen: list[object] = []

    def ask() -> None:
        barrier.wait()
        seen.append(resources.cached("thing", build))

    threads = [threading.Thread(target=ask) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(built) == 1 and seen == built * 8


def test_the_model_caches_are_one_per_resources(sqlite_engine: Engine, tmp_path: Path) -> None:
    first = resources_on(sqlite_engine, tmp_path)
    second = resources_on(sqlite_engine, tmp_path)
    assert AnalysisModels.of(first) is AnalysisModels.of(first)
    assert AnalysisModels.of(first) is not AnalysisModels.of(second)


def test_billing_comes_from_the_same_settings(sqlite_engine: Engine, tmp_path: Path) -> None:
    default = resources_on(sqlite_engine, tmp_path)
    assert default.billing.demo  # no Stripe keys: the labelled demo checkout
    paid = resources_on(
        sqlite_engine,
        tmp_path,
        stripe_secret_key="sk_test_resources",
        stripe_webhook_secret="whsec_resources",
        stripe_price_id="price_resources",
    )
    assert paid.billing.enabled and not paid.billing.demo
    assert paid.billing.price_id == "price_resources"
