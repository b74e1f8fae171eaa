"""A newcomer follows a demo player and watches their match live, in Chromium.

`faceit-ai run` in a fresh folder, as `make run` starts it, with a short live clock (a stage
every LIVE_STAGE seconds, no other match for an hour after the first): the demo user logs in,
presses Follow on the overview of a player who is not in the first match, and the Match room
offers that player's match (starred) as the embedded clock plays it at once. The page updates
by itself: the lineups and the prediction for every map before the start, the Live stage, then
the result next to what was predicted; the Account page's inbox then holds the prediction and
the result. Screenshots before, during and after go to test-artifacts/live/.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from app.auth import COOKIE_NAME
from core.cs2 import MAP_LABELS, MAP_POOL
from tests.e2e.test_tour import DEMO_PASSWORD, App, settings_variables, stored_nicknames
from tests.utils.browser import (
    FIRST_PAGE_MS,
    VIEWPORT,
    Shots,
    main_text,
    metric,
    settle,
    table,
    wait_http,
)
from tests.utils.ports import free_port

pytestmark = pytest.mark.browser

DEMO_PLAYERS = 20
LIVE_STAGE = 20  # seconds per stage: created -> configuring -> ready -> finished
TIMEOUT_MS = 60_000
# the embedded clock waits for the first training; then the followed player's match is created
MATCH_MS = 300_000
STAGE_MS = (LIVE_STAGE * 2 + 60) * 1000


@pytest.fixture(scope="module")
def live_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[App]:
    clone = tmp_path_factory.mktemp("live-clone")
    port = free_port()
    leaked = settings_variables()
    env = {
        name: value
        for name, value in os.environ.items()
        if name not in leaked and not name.startswith("API_")
    }
    env.update(
        DEMO_PLAYERS=str(DEMO_PLAYERS),
        DEMO_LIVE_EVERY_SECONDS="3600",  # only the first match and the followed player's
        DEMO_LIVE_STAGE_SECONDS=str(LIVE_STAGE),
        LIVE_POLL_SECONDS="0.5",
    )
    log = clone / "faceit-ai-run.log"
    command = [str(Path(sys.executable).with_name("faceit-ai")), "run", "--port", str(port)]
    with log.open("wb") as out:
        proc = subprocess.Popen(
            command,
            cwd=clone,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        wait_http(f"http://127.0.0.1:{port}/_stcore/health", 600, proc)
        data_dir = clone / "data"
        yield App(f"http://127.0.0.1:{port}", data_dir, log, stored_nicknames(data_dir))
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        print("faceit-ai run output:\n" + log.read_text(errors="replace")[-6000:])


def stage(page: Any) -> str:
    """The stage the progress bar names in bold (what the match room says the match is at)."""
    return str(page.get_by_test_id("stProgress").locator("strong").inner_text()).strip()


def percent(text: str) -> int:
    found = re.fullmatch(r"(\d{1,3})%", text.strip())
    assert found is not None, f"not a percentage: {text!r}"
    return int(found.group(1))


def wait_for_cookie(context: Any, name: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not any(c["name"] == name for c in context.cookies()):
        assert time.monotonic() < deadline, f"the browser never got the {name} cookie"
        time.sleep(0.2)


def test_a_newcomer_follows_a_player_and_watches_their_match_go_live(
    live_app: App, browser: Any
) -> None:
    from playwright.sync_api import expect

    expect.set_options(timeout=TIMEOUT_MS)
    shot = Shots("live")
    context = browser.new_context(viewport=VIEWPORT)
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    try:
        page.goto(f"{live_app.url}/account")
        expect(page.get_by_label("Username", exact=True)).to_be_visible(timeout=FIRST_PAGE_MS)
        page.get_by_label("Username", exact=True).fill("demo-free")
        page.get_by_label("Password", exact=True).fill(DEMO_PASSWORD)
        page.get_by_role("button", name="Log in", exact=True).click()
        expect(page.get_by_text("Logged in as demo-free").first).to_be_visible()
        expect(page.get_by_text("Your inbox is empty").first).to_be_visible()
        # the pages below are opened by URL (new sessions): they know the user from the
        # re-login cookie, which the browser sets just after the login has rendered
        wait_for_cookie(context, COOKIE_NAME)

        # the clock's first match comes once the first models are trained; follow a player
        # who is not in it, so theirs is a new match (its prediction told to the follower)
        page.goto(f"{live_app.url}/match_room")
        picker = page.get_by_role("combobox", name="Follow a live match")
        expect(picker).to_have_value(re.compile(r" vs "), timeout=MATCH_MS)
        settle(page)
        busy = {
            row["Player"] for f in page.get_by_test_id("stDataFrame").all()[:2] for row in table(f)
        }
        assert len(busy) == 10
        nickname = next(n for n in live_app.nicknames if n not in busy)
        page.goto(f"{live_app.url}/player?player={nickname}")
        follow = page.get_by_role("button", name=f"Follow {nickname}", exact=True)
        expect(follow).to_be_visible(timeout=FIRST_PAGE_MS)
        settle(page)
        shot(page, "overview-follow")
        follow.click()
        expect(page.get_by_role("button", name=f"Following {nickname}", exact=True)).to_be_visible()
        shot(page, "overview-following")

        # the Match room offers the followed player's match first, starred, once it is created:
        # at once when the clock has a free slot, else when the match in play ends (up to four
        # stages later: in CI the user followed while the first match was still being found),
        # and its room row once the live worker has ingested the lineup's unknown players
        page.goto(f"{live_app.url}/match_room")
        expect(picker).to_have_value(
            re.compile(r"^★ .*" + re.escape(nickname)), timeout=LIVE_STAGE * 4 * 1000 + MATCH_MS
        )
        expect(page.get_by_text(re.compile(r"^Prediction \(made"))).to_be_visible()
        settle(page)
        assert stage(page) in {"Match found", "Map veto"}, "the match started before we looked"
        # the picker shows the new match a moment before its lineups replace the old ones
        deadline = time.monotonic() + 20
        while True:
            frames = page.get_by_test_id("stDataFrame").all()
            lineups = [table(f) for f in frames[:2]]
            shown = {row["Player"] for rows in lineups for row in rows}
            if nickname in shown or time.monotonic() > deadline:
                break
            page.wait_for_timeout(500)
        assert [len(rows) for rows in lineups] == [5, 5]
        players = [row["Player"] for rows in lineups for row in rows]
        assert nickname in players and len(set(players)) == 10
        assert all(row["Elo"] != "–" and row["Level"] != "–" for rows in lineups for row in rows)
        per_map = table(frames[2])
        assert sorted(row["Map"] for row in per_map) == sorted(MAP_LABELS[m] for m in MAP_POOL)
        wins = [k for k in per_map[0] if k.endswith(" wins")]
        assert len(wins) == 2
        for row in per_map:  # the two teams' chances on a map add up to 100%
            assert percent(row[wins[0]]) + percent(row[wins[1]]) in (99, 100, 101)
        assert all(row["Played"] == "" for row in per_map)
        shot(page, "room-before")

        expect(page.get_by_test_id("stProgress").locator("strong")).to_have_text(
            "Live", timeout=STAGE_MS
        )
        assert "Result" not in main_text(page).split("\n")
        expect(picker).to_have_value(re.compile(r"^★ Live · "))  # the picker says so too
        shot(page, "room-during")

        expect(
            page.get_by_test_id("stMetricLabel").get_by_text("Winner", exact=True)
        ).to_be_visible(timeout=STAGE_MS)
        settle(page)
        shot(page, "room-after")
        assert stage(page) == "Finished"
        expect(picker).to_have_value(re.compile(r"^★ Finished · "))
        per_map_after = table(page.get_by_test_id("stDataFrame").all()[2])
        if not any(row["Played"] for row in per_map_after):
            # the grid's accessible mirror, which table() reads, can keep the previous run's
            # cells when only their values change, while its canvas already draws the check
            # mark (room-after shows it): read the finished room from a fresh load
            page.goto(f"{live_app.url}/match_room")
            expect(picker).to_have_value(re.compile(r"^★ Finished · "), timeout=FIRST_PAGE_MS)
            expect(
                page.get_by_test_id("stMetricLabel").get_by_text("Winner", exact=True)
            ).to_be_visible()
            settle(page)
            per_map_after = table(page.get_by_test_id("stDataFrame").all()[2])
        played_rows = [row for row in per_map_after if row["Played"]]  # the one check mark
        assert len(played_rows) == 1, per_map_after
        (played,) = played_rows
        assert metric(page, "Map played") == played["Map"]
        winner = metric(page, "Winner")
        teams = [w.removesuffix(" wins") for w in wins]
        assert winner in teams
        gave_label = page.get_by_test_id("stMetricLabel").get_by_text(re.compile(r"^We gave "))
        favourite = str(gave_label.inner_text()).removeprefix("We gave ").strip()
        gave = metric(page, f"We gave {favourite}")
        # the result card's chance is the favourite's chance on the played map in the table
        assert percent(gave) == percent(played[f"{favourite} wins"]) >= 50
        verdict = page.get_by_test_id("stMetricDelta").inner_text().strip()
        assert verdict == ("called it" if favourite == winner else "missed")

        # both notifications reached the inbox through the outbox, with no outside account
        page.goto(f"{live_app.url}/account")
        expect(page.get_by_text(re.compile(r"^Result: ")).first).to_be_visible(timeout=STAGE_MS)
        settle(page)
        text = main_text(page)
        inbox = text.split("Players you follow")[0]
        title = f"{teams[0]} vs {teams[1]}"
        assert f"Prediction: {title}" in inbox and f"Result: {title}" in inbox, inbox
        assert f"{winner} won on {played['Map']}." in inbox
        assert f"We gave {favourite} {gave} before the start" in inbox
        shot(page, "account-inbox")
    finally:
        context.close()
        print("live screenshots: " + ", ".join(shot.taken))
