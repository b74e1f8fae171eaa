from __future__ import annotations

import pytest

from core.demo_league import League, generate_league


@pytest.fixture(scope="session")
def league() -> League:
    """A small league whose span reaches before the extended-stats cutoff."""
    return generate_league(200, 4000, seed=7, span_days=900)
