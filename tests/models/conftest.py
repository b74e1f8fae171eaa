"""Shared small demo leagues and a model trained once per session (frames only, no DB)."""

from __future__ import annotations

import polars as pl
import pytest

from core.demo_league import League, generate_league
from models import match_outcome as mo


@pytest.fixture(scope="session")
def small_league() -> League:
    return generate_league(200, 2500, seed=31)


@pytest.fixture(scope="session")
def frames(small_league: League) -> tuple[pl.DataFrame, pl.DataFrame]:
    return small_league.match_players_frame(), small_league.matches_frame()


@pytest.fixture(scope="session")
def dataset(frames: tuple[pl.DataFrame, pl.DataFrame]) -> pl.DataFrame:
    return mo.build_dataset(*frames)


@pytest.fixture(scope="session")
def split(dataset: pl.DataFrame) -> mo.Split:
    return mo.time_split(dataset)


@pytest.fixture(scope="session")
def model(split: mo.Split) -> mo.MatchOutcomeModel:
    return mo.train(split, num_rounds=120)
