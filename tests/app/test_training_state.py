"""Premium pages before the first model exists: a "being trained, ready in ~N s" state that
opens the page by itself, never an operator message."""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

import pytest
from streamlit.testing.v1 import AppTest

from core import auth
from core.db.engine import make_engine, make_session_factory
from core.settings import get_settings
from models import training_status
from pipelines.train import run_training
from tests.app.conftest import APP


@pytest.fixture
def premium_user(seeded: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> int:
    monkeypatch.setattr(auth, "BCRYPT_ROUNDS", 4)
    engine = make_engine(get_settings().effective_database_url)
    with make_session_factory(engine)() as session:
        users = {u.username: u.id for u in auth.seed_demo_accounts(session)}
    engine.dispose()
    return users["demo-premium"]


def open_predictor(user_id: int) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=90)
    at.session_state["auth_user_id"] = user_id
    at.run()
    at.switch_page("views/predictor.py").run()
    assert not at.exception, at.exception
    return at


def test_predictor_says_models_are_being_trained_then_works(
    premium_user: int, app_settings: Path
) -> None:
    data_dir = get_settings().data_dir
    run = training_status.started(data_dir, now=time.time() - 5)
    at = open_predictor(premium_user)
    text = " ".join(info.value for info in at.info)
    ready = re.search(r"ready in ~(\d+) s", text)
    assert "being trained" in text and ready is not None
    # a 20 s estimate, started 5 s (plus the page's own run time) ago
    assert training_status.MIN_REMAINING_SECONDS <= int(ready.group(1)) <= 15
    assert "operator" not in text
    assert not at.button, "no Predict button before a model exists"

    engine = make_engine(get_settings().effective_database_url)
    run_training(make_session_factory(engine))
    engine.dispose()
    training_status.finished(data_dir, run)
    at = open_predictor(premium_user)
    assert not at.info or "being trained" not in at.info[0].value
    assert at.button(key="predict_lineups").label == "Predict"


def test_a_failed_training_is_said_with_what_to_do(premium_user: int, app_settings: Path) -> None:
    data_dir = get_settings().data_dir
    training_status.finished(
        data_dir, training_status.started(data_dir), error="not enough matches to train (3)"
    )
    at = open_predictor(premium_user)
    assert "not enough matches to train (3)" in at.error[0].value
    assert "faceit-ai train" in at.error[0].value
