"""Shared small demo leagues and a model trained once per session (history frames, no DB)."""

from __future__ import annotations

import polars as pl
import pytest

from core.demo_league import League, generate_league
from models import history
from models import match_outcome as mo


@pytest.fixture(scope="session")
def small_league() -> League:
    return generate_league(200, 2500, seed=31)


@pytest.fixture(scope="session")
def league_history(small_league: League) -> pl.DataFrame:
    return history.from_league(small_league)


@pytest.fixture(scope="session")
def dataset(league_history: pl.DataFrame) -> pl.DataFrame:
    return mo.build_dataset(league_history)


@pytest.fixture(scope="session")
def split(dataset: pl.DataFrame) -> mo.Split:
    return mo.time_split(dataset)


@pytest.fixture(scope="session")
def model(split: mo.Split) -> mo.MatchOutcomeModel:
    return mo.train(split, num_rounds=120)
