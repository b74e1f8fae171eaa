"""The command line as an operator and a newcomer meet it: a fast --help, honest ingest and
train summaries, and the first start that trains the models right after the demo league."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner

from core.db.engine import make_engine, make_session_factory
from core.resources import Resources
from core.settings import get_settings
from models import registry, training_status
from pipelines import cli

HEAVY = ("polars", "sqlalchemy", "prefect", "xgboost", "sklearn", "streamlit", "httpx")


def test_help_loads_none_of_the_heavy_libraries() -> None:
    probe = (
        "import json, sys\n"
        "from typer.testing import CliRunner\n"
        "from pipelines.cli import app\n"
        "result = CliRunner().invoke(app, ['--help'])\n"
        f"print(json.dumps([result.exit_code, result.output, [m for m in {HEAVY!r} "
        "if m in sys.modules]]))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    ).stdout
    code, text, loaded = json.loads(out.strip().splitlines()[-1])
    assert code == 0 and "ingest" in text and "train" in text and "run" in text
    assert loaded == [], f"`faceit-ai --help` imported {loaded}"


def test_run_hides_the_deploy_button_and_tracebacks() -> None:
    command = cli.streamlit_command("127.0.0.1", 8501)
    assert command[command.index("--client.toolbarMode") + 1] == "viewer"
    assert command[command.index("--client.showErrorDetails") + 1] == "none"


def test_a_failed_ingest_prints_no_done_summary(default_setup: Callable[[int], Path]) -> None:
    default_setup(20)
    result = CliRunner().invoke(cli.app, ["ingest", "NoSuchPlayer_zz"])
    assert result.exit_code == 1
    assert "Done" not in result.output
    assert "Failed" in result.output and "NoSuchPlayer_zz" in result.output


def test_first_start_trains_right_after_the_demo_league(
    default_setup: Callable[[int], Path],
) -> None:
    default_setup(40)
    resources = Resources.from_settings(get_settings())
    try:
        assert not cli.needs_training(resources), "nothing to train on an empty database"
        cli.seed_demo_if_empty(resources)
        assert cli.needs_training(resources)
        cli.train_in_background(resources).join(timeout=300)
        assert not cli.needs_training(resources)
        status = training_status.read_status(resources.settings.data_dir)
        assert status is not None and status.state == "done" and status.duration
        with resources.sessions() as session:
            assert registry.champion_id(session, registry.MATCH_OUTCOME) is not None
            assert registry.champion_id(session, registry.PLAYSTYLE) is not None
    finally:
        resources.close()


def test_train_prints_a_readable_summary(default_setup: Callable[[int], Path]) -> None:
    db = default_setup(40)
    resources = Resources.from_settings(get_settings())
    try:
        cli.seed_demo_if_empty(resources)
    finally:
        resources.close()
    result = CliRunner().invoke(cli.app, ["train"])
    assert result.exit_code == 0, result.output
    assert "Trained on" in result.output and "held out" in result.output
    assert "Match-outcome model v1: promoted to champion" in result.output
    assert "{" not in result.output and "'" not in result.output
    engine = make_engine(f"sqlite:///{db}")
    with make_session_factory(engine)() as session:
        assert registry.champion_id(session, registry.MATCH_OUTCOME) is not None
    engine.dispose()


def test_training_status_estimates_from_the_last_run(tmp_path: Path) -> None:
    first = training_status.started(tmp_path, now=1000.0)
    assert first.estimate_seconds == training_status.DEFAULT_ESTIMATE_SECONDS
    assert first.remaining_seconds(now=1005.0) == 15
    training_status.finished(tmp_path, first, now=1008.0)
    second = training_status.started(tmp_path, now=2000.0)
    assert second.estimate_seconds == pytest.approx(8.0)
    assert second.remaining_seconds(now=2100.0) == training_status.MIN_REMAINING_SECONDS
    (tmp_path / training_status.STATUS_FILE).write_text("{not json")
    assert training_status.read_status(tmp_path) is None
