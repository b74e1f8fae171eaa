"""Benchmark: from `make run` on a fresh clone to a premium user's first prediction.

    uv run python bench/first_run.py [--players 300] [--port 18650]

Clones this repository into a temporary folder (nothing beside it, no .env, no data/), runs
`make run` there (the install, the migration, the demo league, the demo accounts, training in the
background), then drives Chromium as a user would: log in as the demo premium account, open the
match predictor on a demo player, press Predict, and wait for the win probability. Times are
seconds from `make run`:

- ``health_s``: the app answers /_stcore/health;
- ``logged_in_s``: the premium account is logged in;
- ``first_prediction_s``: the prediction is on screen (the models were trained by then).

``ratio`` = first_prediction_s / health_s: how much of the wait comes after the app is up (the
baseline measured in the same run). The last line is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from core.auth import DEMO_PASSWORD  # noqa: E402 (printed by `faceit-ai run`)
from tests.utils.browser import settle, wait_http  # noqa: E402
from tests.utils.ports import free_port  # noqa: E402

CHROMIUM = "/usr/bin/chromium"


def clean_env(players: int) -> dict[str, str]:
    """This environment without any of the product's settings (a developer's must not leak)."""
    from core.settings import Settings

    names = {name.upper() for name in Settings.model_fields} | {"SECRETS_DIR", "PORT", "HOST"}
    env = {k: v for k, v in os.environ.items() if k not in names and not k.startswith("API_")}
    env.pop("VIRTUAL_ENV", None)
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # a user's machine caches compiled modules
    env["DEMO_PLAYERS"] = str(players)
    return env


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--players", type=int, default=300, help="DEMO_PLAYERS (default 300)")
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()
    port = args.port or free_port()
    folder = Path(tempfile.mkdtemp(prefix="faceit-first-run-"))
    clone = folder / "faceit-ai"
    subprocess.run(["git", "clone", "-q", str(REPO), str(clone)], check=True)
    log = folder / "make-run.log"
    started = time.perf_counter()
    with log.open("wb") as out:
        proc = subprocess.Popen(
            ["make", "run", f"PORT={port}"],
            cwd=clone,
            env=clean_env(args.players),
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    marks: dict[str, float] = {}
    try:
        url = f"http://127.0.0.1:{port}"
        wait_http(f"{url}/_stcore/health", 900, proc)
        marks["health_s"] = time.perf_counter() - started
        prediction = predict_as_premium(url, clone, marks, started)
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        shutil.rmtree(folder, ignore_errors=True)
    result = {
        **{k: round(v, 1) for k, v in marks.items()},
        **prediction,
        "ratio": round(marks["first_prediction_s"] / marks["health_s"], 2),
        "players": args.players,
        "cpus": os.cpu_count(),
        "load_average_1m": round(os.getloadavg()[0], 2),
    }
    print(json.dumps(result))


def predict_as_premium(url: str, clone: Path, marks: dict[str, float], started: float) -> dict:
    from playwright.sync_api import expect, sync_playwright

    from core import crud
    from core.db.engine import make_engine, make_session_factory

    engine = make_engine(f"sqlite:///{clone / 'data' / 'faceit.db'}")
    with make_session_factory(engine)() as session:
        nickname = crud.player_nicknames(session, limit=1)[0]
    engine.dispose()
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.set_default_timeout(600_000)
        expect.set_options(timeout=600_000)
        page.goto(f"{url}/account")
        expect(page.get_by_label("Username", exact=True)).to_be_visible()
        page.get_by_label("Username", exact=True).fill("demo-premium")
        page.get_by_label("Password", exact=True).fill(DEMO_PASSWORD)
        page.get_by_role("button", name="Log in", exact=True).click()
        expect(page.get_by_text("Logged in as demo-premium").first).to_be_visible()
        marks["logged_in_s"] = time.perf_counter() - started
        page.goto(f"{url}/predictor?player={nickname}")
        predict = page.get_by_role("button", name="Predict", exact=True)
        expect(predict).to_be_visible()  # after "being trained, ready in ~N s" if still training
        settle(page)
        predict.click()
        expect(page.get_by_text("Elo-only estimate")).to_be_visible()
        settle(page)
        marks["first_prediction_s"] = time.perf_counter() - started
        text = page.get_by_test_id("stMain").inner_text()
        browser.close()
    found = re.search(r"Win probability on \w+\s+(\d{1,3}%)", text)
    return {"probability": found.group(1) if found else None}


if __name__ == "__main__":
    main()
