"""The first run and a tour of every page in Chromium, as a newcomer, a visitor, a free user, a
premium user and an admin.

One app for the module, started the way a newcomer starts it: ``faceit-ai run`` in a folder
with no data/ and no .env (the embedded default: SQLite under data/, the demo league, demo
accounts, the demo checkout, models trained right after the league loads while the app is
already served). The league is small (20 players) so the load and the training take seconds.
One Chromium for the session; one browser context per role.

Each page's screenshot goes to test-artifacts/tour/<role>-NN-<page>.png. The assertions read
what a person reads: a number in a card, a table's cells, a chart's axis and its marks, the
gate message, and that nothing raw (a key, NaN, an unrounded float, a timestamp) is shown.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from app.navigation import ADMIN_PAGES, ALL_PAGES, PREMIUM_PAGES, PUBLIC_PAGES, PageSpec
from app.present import STAT_LABELS
from core.settings import Settings
from tests.utils.browser import (
    FIRST_PAGE_MS,
    VIEWPORT,
    Shots,
    axis,
    chart,
    main_text,
    marks,
    metric,
    settle,
    table,
    wait_http,
)
from tests.utils.ports import free_port

pytestmark = pytest.mark.browser

DEMO_PLAYERS = 20
DEMO_PASSWORD = "demo-password-123"  # printed by `faceit-ai run` and shown on the Account page
ADMIN = ("tour-admin", "Smoke-Grenade-Lineup-9")
NEWCOMER = ("newcomer", "First-Minute-Premium-7")
PRICE = "€4.99"
ROLES = {"AWPer", "Entry fragger", "Support", "Anchor", "Rifler", "Not profiled yet"}
TIMEOUT_MS = 60_000
# a page's premium-gate sentence, by page file
FEATURES = {
    "views/predictor.py": "the match predictor",
    "views/veto.py": "map veto advice",
    "views/playstyle.py": "playstyle profiles",
    "views/improvement.py": "the improvement plan",
    "views/scouting.py": "opponent scouting",
}
# what nothing on a page may show: raw keys, missing values, unrounded floats, timestamps
RAW = {
    "a missing value": re.compile(r"\b(NaN|nan|None|null|undefined)\b"),
    "a raw map name": re.compile(r"\bde_[a-z0-9]+\b"),
    # a stat key as the code names it (FACEIT's own team names, "team_<captain>", are fine)
    "a raw stat key": re.compile(
        r"\b(?:" + "|".join(key for key in STAT_LABELS if "_" in key) + r")\b"
        r"|\b[a-z]+_(?:last\d+|lifetime|pr|dpr|pct|rate|share|ratio|score|z)\b"
    ),
    "an unrounded number": re.compile(r"\d\.\d{4,}"),
    "a timestamp": re.compile(r"\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}"),
    "an error": re.compile(r"Traceback|Exception|Something went wrong on this page"),
}


@dataclass
class App:
    url: str
    data_dir: Path
    log: Path
    nicknames: list[str]  # players with matches, most active first (Home's "Try:" order)


def settings_variables() -> set[str]:
    """Every environment variable the settings read (a developer's own must not leak in)."""
    names = {name.upper() for name in Settings.model_fields}
    return names | {"SECRETS_DIR", "PORT", "HOST"}


def started_app_log(log: Path) -> str:
    return log.read_text(errors="replace")[-6000:] if log.exists() else ""


@pytest.fixture(scope="module")
def first_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[App]:
    """`faceit-ai run` from a fresh folder: it migrates, loads the demo league and the demo
    accounts, trains in the background and serves the app."""
    clone = tmp_path_factory.mktemp("fresh-clone")
    data_dir = clone / "data"
    assert not data_dir.exists()
    port = free_port()
    leaked = settings_variables()
    env = {
        name: value
        for name, value in os.environ.items()
        if name not in leaked and not name.startswith("API_")
    }
    env["DEMO_PLAYERS"] = str(DEMO_PLAYERS)
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
        nicknames = stored_nicknames(data_dir)
        add_admin(data_dir)
        yield App(f"http://127.0.0.1:{port}", data_dir, log, nicknames)
    finally:
        proc.terminate()  # `faceit-ai run` stops Streamlit on SIGTERM
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        print("faceit-ai run output:\n" + started_app_log(log))


def database(data_dir: Path) -> Any:
    from core.db.engine import make_engine, make_session_factory

    engine = make_engine(f"sqlite:///{data_dir / 'faceit.db'}")
    return engine, make_session_factory(engine)


def stored_nicknames(data_dir: Path) -> list[str]:
    from core import crud

    engine, sessions = database(data_dir)
    try:
        with sessions() as session:
            return crud.player_nicknames(session, limit=DEMO_PLAYERS)
    finally:
        engine.dispose()


def add_admin(data_dir: Path) -> None:
    """An operator's account (`faceit-ai users add --role admin` does the same)."""
    from core.auth import register_user

    engine, sessions = database(data_dir)
    try:
        with sessions() as session:
            register_user(session, ADMIN[0], "admin@example.com", ADMIN[1], "admin", actor="cli")
    finally:
        engine.dispose()


# ---------------------------------------------------------------------------------------------
# reading pages


def expect_readable(page: Any, where: str, *, tables: bool = True) -> str:
    """The page's text and its tables' cells (drawn on a canvas, so not in the text), after
    checking they show no raw value and no exception. (Admin tables are the operator's raw
    view: ``tables=False``.)"""
    from playwright.sync_api import expect

    expect(page.get_by_test_id("stException")).to_have_count(0)
    text = main_text(page)
    # the footer names the database file: a path, not something the page says
    said = text.split("Data: demo league")[0]
    if tables:
        for frame in page.get_by_test_id("stDataFrame").all():
            said += "\n" + "\n".join(" | ".join(row.values()) for row in table(frame))
    for what, pattern in RAW.items():
        found = pattern.search(said)
        assert found is None, f"{where} shows {what}: {found and found.group(0)!r}\n{said}"
    return text


def number(text: str) -> float:
    """ "1,591" -> 1591.0, "54%" -> 54.0, "+6 pts" -> 6.0."""
    found = re.search(r"[-+]?\d[\d,]*(?:\.\d+)?", text)
    assert found is not None, f"no number in {text!r}"
    return float(found.group(0).replace(",", ""))


class Tour:
    """One role's walk through the app in its own browser context."""

    def __init__(self, app: App, browser: Any, role: str) -> None:
        from playwright.sync_api import expect

        expect.set_options(timeout=TIMEOUT_MS)
        self.app = app
        self.role = role
        self.context = browser.new_context(viewport=VIEWPORT)
        self.context.set_default_timeout(TIMEOUT_MS)
        self.page = self.context.new_page()
        self.shot = Shots("tour", prefix=f"{role}-")

    def close(self) -> None:
        self.context.close()
        print(f"{self.role} screenshots: " + ", ".join(self.shot.taken))

    def open(self, path: str, marker: str, *, first: bool = False) -> Any:
        from playwright.sync_api import expect

        self.page.goto(f"{self.app.url}/{path}")
        timeout = FIRST_PAGE_MS if first else TIMEOUT_MS
        expect(self.page.get_by_text(marker).first).to_be_visible(timeout=timeout)
        settle(self.page, timeout)
        return self.page

    def visit(self, spec: PageSpec, marker: str) -> Any:
        """Open a page from the sidebar (the same session: login and ?player= kept)."""
        from playwright.sync_api import expect

        link = self.page.get_by_test_id("stSidebarNav").get_by_role("link", name=spec.title)
        link.click()
        expect(self.page.get_by_text(marker).first).to_be_visible()
        settle(self.page)
        return self.page

    def press(self, button: str, marker: str) -> None:
        from playwright.sync_api import expect

        self.page.get_by_role("button", name=button, exact=True).click()
        expect(self.page.get_by_text(marker).first).to_be_visible()
        settle(self.page)

    def snap(self, spec_or_name: PageSpec | str) -> None:
        name = spec_or_name if isinstance(spec_or_name, str) else spec_or_name.title
        self.shot(self.page, re.sub(r"\W+", "-", name.lower()).strip("-"))

    def log_in(self, username: str, password: str) -> None:
        from playwright.sync_api import expect

        self.open("account", "Log in")
        self.page.get_by_label("Username", exact=True).fill(username)
        self.page.get_by_label("Password", exact=True).fill(password)
        self.page.get_by_role("button", name="Log in", exact=True).click()
        expect(self.page.get_by_text(f"Logged in as {username}").first).to_be_visible()
        settle(self.page)

    def sidebar_titles(self) -> list[str]:
        links = self.page.get_by_test_id("stSidebarNav").get_by_role("link")
        return [str(text).strip().splitlines()[-1] for text in links.all_inner_texts()]


def page_spec(file: str) -> PageSpec:
    return next(spec for spec in ALL_PAGES if spec.file == file)


# ---------------------------------------------------------------------------------------------
# the free pages, the same for every role


def home_and_search(tour: Tour, nickname: str, *, first: bool = False) -> None:
    page = tour.open("", "Players tracked", first=first)
    expect_readable(page, "Home")
    assert metric(page, "Players tracked") == str(DEMO_PLAYERS)
    assert number(metric(page, "Matches analysed")) >= DEMO_PLAYERS * 10 / 10
    assert nickname in page.get_by_text("Try:").inner_text()
    tour.snap(page_spec("views/home.py"))
    page.get_by_label("FACEIT nickname").fill(nickname)
    page.get_by_role("button", name="Analyse").click()
    page.wait_for_url(re.compile(r".*/player\?player=" + re.escape(nickname)))


def overview(tour: Tour, nickname: str) -> None:
    from playwright.sync_api import expect

    page = tour.page
    expect(page.get_by_text("Elo history")).to_be_visible()
    settle(page)
    text = expect_readable(page, "Overview")
    expect(page.get_by_role("heading", name=nickname)).to_be_visible()
    assert re.search(r"Level \d+ · [\d,]+ Elo", text), text
    assert "Last updated from FACEIT: " in text
    matches = number(metric(page, "Matches"))
    assert matches >= 1
    assert re.fullmatch(r"\d{1,3}%", metric(page, "Win rate"))
    assert re.fullmatch(r"\d+\.\d\d", metric(page, "K/D"))
    assert re.fullmatch(r"\d+\.\d", metric(page, "ADR"))
    elo = chart(page, "Elo after each match")
    assert "titled 'Elo'" in axis(elo, "Y") and "titled 'Date'" in axis(elo, "X")
    assert re.match(r"Date: .+; Elo: \d+", marks(elo, "line mark")[0])
    # one point per match with its Elo change; estimated points named apart in the legend
    points = marks(elo, "point")
    assert points and all(re.search(r"Change: (–|0|~?[+-]\d+); Point: ", p) for p in points)
    kinds = {re.search(r"Point: (.+)$", p).group(1) for p in points}  # type: ignore[union-attr]
    assert kinds <= {"Observed", "Estimated (back-filled)"} and kinds, kinds
    assert "Elo point" in elo.inner_text() and "Estimated (back-filled)" in elo.inner_text()
    level = int(re.search(r"Level (\d+) · ", text).group(1))  # type: ignore[union-attr]
    assert re.fullmatch(r"[\d,]+(–[\d,]+|\+) Elo", metric(page, f"Level {level}"))
    if level < 10:
        assert re.fullmatch(r"\+[\d,]+ Elo", metric(page, f"To level {level + 1}"))
    form = chart(page, "Performance rating per match and its moving average")
    assert len(marks(form, "line mark")) == 2  # the match ratings and their moving average
    trend = chart(page, "K/D over the last 20 matches, match by match")
    assert "titled 'K/D (last 20)'" in axis(trend, "Y") and "titled 'Date'" in axis(trend, "X")
    assert all(re.match(r"Date: .+; K/D: \d+\.\d\d$", p) for p in marks(trend, "point"))
    assert re.fullmatch(r"\d+ (wins?|loss(es)?)", metric(page, "Current streak"))
    frames = page.get_by_test_id("stDataFrame")
    if tour.role == "premium":
        tilt = table(frames.first)
        assert [row["Matches played"] for row in tilt][:3] == [
            "After 1 loss",
            "After 2 losses in a row",
            "After 3+ losses in a row",
        ]
        assert sum(int(row["Matches"]) for row in tilt[3:]) == matches  # each in a session
    else:  # the streaks are free, the tilt analysis premium
        assert frames.count() == 1, "only the last matches: no tilt table"
        prompt = (
            "Log in to use the tilt analysis"
            if tour.role == "visitor"
            else ("The tilt analysis is a premium analysis")
        )
        expect(page.get_by_text(prompt)).to_be_visible()
    last = table(frames.last)
    assert 0 < len(last) <= matches
    for row in last:
        own, other = (int(n) for n in row["Score"].split(" – "))
        assert (own > other) == (row["Result"] == "Win"), f"score not from the player's side: {row}"
        assert re.fullmatch(r"–|0|~?[+-]\d+", row["Elo"]), row
        if row["Elo"] not in ("–", "0"):  # a win gains Elo, a loss costs it
            assert row["Elo"].lstrip("~").startswith("+" if row["Result"] == "Win" else "-"), row
    tour.snap(page_spec("views/player.py"))


def matches_page(tour: Tour, nickname: str) -> None:
    page = tour.visit(page_spec("views/matches.py"), f"Matches of {nickname}")
    assert f"player={nickname}" in page.url
    expect_readable(page, "Matches")
    history, *scoreboards = page.get_by_test_id("stDataFrame").all()
    rows = table(history)
    assert rows and all(row["Result"] in {"Win", "Loss"} for row in rows)
    assert all(re.fullmatch(r"–|0|~?[+-]\d+", row["Elo"]) for row in rows), rows
    assert len(scoreboards) == 2, "the chosen match's scoreboard for both teams"
    players = [table(board) for board in scoreboards]
    assert [len(team) for team in players] == [5, 5]
    assert nickname in {row["Player"] for team in players for row in team}
    assert page.get_by_text("(your team)").count() == 1
    tour.snap(page_spec("views/matches.py"))


def maps_page(tour: Tour, nickname: str) -> None:
    page = tour.visit(page_spec("views/maps.py"), f"Maps of {nickname}")
    expect_readable(page, "Maps")
    rows = table(page.get_by_test_id("stDataFrame").first, ("Map", "Matches", "Win rate"))
    bars = marks(chart(page, "Win rate per map (most played first)"), "bar")
    assert rows and len(bars) == len(rows)
    # the chart and the table in one order: most played first
    assert [re.search(r"Map: ([^;]+)", bar).group(1) for bar in bars] == [  # type: ignore[union-attr]
        row["Map"] for row in rows
    ]
    played = [int(row["Matches"]) for row in rows]
    assert played == sorted(played, reverse=True)
    tour.snap(page_spec("views/maps.py"))


def compare_page(tour: Tour, nickname: str, other: str) -> None:
    from playwright.sync_api import expect

    page = tour.visit(page_spec("views/compare.py"), "Compare players")
    expect(page.get_by_text("Pick at least two players")).to_be_visible()
    picker = page.get_by_test_id("stMultiSelect").first  # the filter's come with two players
    expect(picker.get_by_text(nickname)).to_be_visible()  # the viewed player is pre-selected
    picker.get_by_role("combobox").fill(other)
    page.get_by_role("option", name=other, exact=True).click()
    page.keyboard.press("Escape")
    expect(page.get_by_text("K/D, recent K/D, rating and form side by side")).to_be_visible()
    settle(page)
    expect_readable(page, "Compare")
    rows = table(page.get_by_test_id("stDataFrame").first)
    assert [row["Player"] for row in rows] == [nickname, other]
    assert all(re.fullmatch(r"\d{1,3}%", row["Win rate"]) for row in rows)
    bars = marks(chart(page, "K/D, recent K/D, rating and form side by side"), "bar")
    assert len(bars) == 2 * 4, "two players, four stats"
    if tour.role == "premium":
        expect(page.get_by_text(f"Who {nickname} wins more with")).to_be_visible()
        settle(page)
        text = expect_readable(page, "Compare")
        record = r"(no matches|\d+ matches, \d+ won, \d+ lost \(\d{1,3}%\))"
        assert re.search(rf"On the same team: {record}", text), text
        assert re.search(rf"{re.escape(nickname)} against {re.escape(other)}: {record}", text)
        mates = table(page.get_by_test_id("stDataFrame").last)
        assert mates and all(
            row["Verdict"] in {"too few matches", "within noise", "yes"} for row in mates
        )
        assert all(int(row["Matches together"]) >= 1 for row in mates)
    else:
        expect(page.get_by_text("are premium analyses")).to_be_visible()
    tour.snap(page_spec("views/compare.py"))


def free_pages(tour: Tour, *, first: bool = False) -> None:
    nickname, other = tour.app.nicknames[:2]
    home_and_search(tour, nickname, first=first)
    overview(tour, nickname)
    matches_page(tour, nickname)
    maps_page(tour, nickname)
    compare_page(tour, nickname, other)


def filtered_pages(tour: Tour) -> None:
    """The match filter on every stats page, from its URL: the same filter gives the same
    numbers on the Overview, Matches, Maps and Compare pages, a filtered page reloaded from
    its address shows the same numbers, a widget change moves the address, and a refused URL
    value is named and ignored."""
    from playwright.sync_api import expect

    nickname, other = tour.app.nicknames[:2]
    # up to yesterday (UTC): the demo league plays live, and a match it adds now must not
    # change the filtered numbers between two pages
    until = (datetime.now(UTC) - timedelta(days=1)).date()
    day = f"{until.day} {until:%b %Y}"
    query = f"result=loss&hour_from=0&hour_to=22&until={until.isoformat()}"
    said = f"Filtered: losses · 00:00-22:59 UTC · until {day}."
    page = tour.open(f"player?player={nickname}&{query}", "Elo history")
    expect(page.get_by_text(said)).to_be_visible()
    text = expect_readable(page, "Overview (filtered)")
    cards = {label: metric(page, label) for label in ("Matches", "Win rate", "K/D", "ADR")}
    assert cards["Win rate"] == "0%", cards
    kept = int(number(cards["Matches"]))
    assert re.search(rf"{kept} of [\d,]+ matches", text), text
    tour.snap("filtered-overview")
    page.reload()
    expect(page.get_by_text(said)).to_be_visible()
    settle(page)
    assert {label: metric(page, label) for label in cards} == cards  # the same view, reloaded
    # a widget moves the address, and that address opens the same view
    page.get_by_test_id("stRadio").filter(has_text="All results").get_by_text("Wins").click()
    page.wait_for_url(re.compile(r".*result=win"))
    won = said.replace("losses", "wins")
    expect(page.get_by_text(won)).to_be_visible()
    settle(page)
    wins = {label: metric(page, label) for label in cards}
    assert wins["Win rate"] == "100%" and "hour_from=0" in page.url
    page.goto(page.url)
    expect(page.get_by_text(won)).to_be_visible()
    settle(page)
    assert {label: metric(page, label) for label in cards} == wins

    page = tour.open(f"matches?player={nickname}&{query}", f"Matches of {nickname}")
    text = expect_readable(page, "Matches (filtered)")
    assert f"{said} {kept} matches." in text, text  # the filter's count, as on the Overview
    rows = table(page.get_by_test_id("stDataFrame").first)  # the rows the grid has drawn
    assert 0 < len(rows) <= min(kept, 50) and {row["Result"] for row in rows} == {"Loss"}
    tour.snap("filtered-matches")

    page = tour.open(f"maps?player={nickname}&{query}", f"Maps of {nickname}")
    expect_readable(page, "Maps (filtered)")
    rows = table(page.get_by_test_id("stDataFrame").first)
    assert sum(int(row["Matches"]) for row in rows) == kept
    assert {row["Win rate"] for row in rows} == {"0%"}
    tour.snap("filtered-maps")

    page = tour.open(f"compare?player={nickname}&{query}", "Compare players")
    picker = page.get_by_test_id("stMultiSelect").first
    picker.get_by_role("combobox").fill(other)
    page.get_by_role("option", name=other, exact=True).click()
    page.keyboard.press("Escape")
    expect(page.get_by_text(said)).to_be_visible()
    settle(page)
    expect_readable(page, "Compare (filtered)")
    rows = {row["Player"]: row for row in table(page.get_by_test_id("stDataFrame").first)}
    assert rows[nickname]["Matches"] == cards["Matches"]
    assert (rows[nickname]["K/D"], rows[nickname]["ADR"]) == (cards["K/D"], cards["ADR"])
    assert {row["Win rate"] for row in rows.values()} == {"0%"}
    tour.snap("filtered-compare")

    page = tour.open(
        f"player?player={nickname}&hour_from=99&map=%3Cscript%3Ex%3C/script%3E", "Elo history"
    )
    expect(
        page.get_by_text("From hour “99” is not an hour from 0 to 23: it is ignored.")
    ).to_be_visible()
    expect(page.get_by_text("Map “<script>x</script>” is not a map of CS2")).to_be_visible()
    expect_readable(page, "Overview (refused filter)")
    assert "hour_from" not in page.url and "script" not in page.url
    tour.snap("refused-filter")


def admin_pages_hidden(tour: Tour) -> None:
    titles = tour.sidebar_titles()
    assert {spec.title for spec in PUBLIC_PAGES + PREMIUM_PAGES} <= set(titles)
    assert not {spec.title for spec in ADMIN_PAGES} & set(titles), titles


# ---------------------------------------------------------------------------------------------
# the tests


def test_first_run_to_a_premium_prediction(first_run: App, browser: Any) -> None:
    """A newcomer, minutes after `faceit-ai run` on an empty folder: create an account, upgrade
    through the demo checkout, and get a win probability from the match predictor."""
    from playwright.sync_api import expect

    username, password = NEWCOMER
    tour = Tour(first_run, browser, "newcomer")
    page = tour.page
    try:
        tour.open("account", "Create account", first=True)
        page.get_by_role("tab", name="Create account").click()
        page.get_by_label("New username", exact=True).fill(username)
        page.get_by_label("E-mail", exact=True).fill(f"{username}@example.com")
        page.get_by_label("Choose a password", exact=True).fill(password)
        page.get_by_label("Repeat the password", exact=True).fill(password)
        page.get_by_role("button", name="Create account").click()
        expect(page.get_by_text(f"Account {username} created")).to_be_visible()
        tour.snap("registered")
        page.get_by_role("tab", name="Log in").click()
        tour.log_in(username, password)
        page = tour.visit(page_spec("views/pricing.py"), "Plans and pricing")
        page.get_by_role("button", name=f"Upgrade to premium · {PRICE}").click()
        page.wait_for_url(re.compile(r".*/demo_checkout\?id=cs_\w+"))
        expect(page.get_by_text("Demo checkout: no real payment.")).to_be_visible()
        settle(page)
        tour.snap("demo-checkout")
        page.get_by_role("button", name="Pay (demo)").click()
        page.wait_for_url(re.compile(r".*/account\?session_id=cs_\w+"))
        expect(page.get_by_text("Payment confirmed: premium is active")).to_be_visible()
        settle(page)
        assert metric(page, "Plan") == "Premium"
        tour.snap("premium-granted")
        # the predictor on a player the newcomer looks at; while the first training still runs
        # it says so and opens by itself when the models are promoted
        nickname = first_run.nicknames[0]
        page.goto(f"{first_run.url}/predictor?player={nickname}")
        predict = page.get_by_role("button", name="Predict", exact=True)
        expect(predict).to_be_visible(timeout=FIRST_PAGE_MS)
        settle(page)
        predict.click()
        expect(page.get_by_text("Elo-only estimate")).to_be_visible()
        settle(page)
        expect_readable(page, "Match predictor")
        assert re.fullmatch(r"\d{1,3}%", metric(page, re.compile(r"Win probability on \w+")))
        assert nickname in page.get_by_role("heading", name=re.compile(" vs ")).inner_text()
        tour.snap("first-prediction")
    finally:
        tour.close()


def test_visitor_sees_every_free_page_and_the_gates(first_run: App, browser: Any) -> None:
    tour = Tour(first_run, browser, "visitor")
    try:
        free_pages(tour, first=True)
        filtered_pages(tour)
        admin_pages_hidden(tour)
        for spec in PREMIUM_PAGES:
            page = tour.visit(spec, f"Log in to use {FEATURES[spec.file]}.")
            expect_readable(page, spec.title)
            link = page.get_by_role("link", name="Log in or create an account")
            assert "next=" in str(link.get_attribute("href"))  # back to this page after login
            tour.snap(spec)
        page = tour.visit(page_spec("views/pricing.py"), "Plans and pricing")
        text = expect_readable(page, "Pricing")
        assert PRICE in text and "€0" in text
        assert page.get_by_role("link", name="Create an account or log in to upgrade").count()
        tour.snap(page_spec("views/pricing.py"))
        page = tour.visit(page_spec("views/account.py"), "Create account")
        text = expect_readable(page, "Account")
        assert "Not logged in" in page.get_by_test_id("stSidebar").inner_text()
        assert "demo-free" in text and "demo-premium" in text and DEMO_PASSWORD in text
        tour.snap(page_spec("views/account.py"))
        page = tour.open("demo_checkout", "Demo checkout")
        expect_readable(page, "Demo checkout")
        assert "This checkout link is unknown or has expired" in main_text(page)
        tour.snap(page_spec("views/demo_checkout.py"))
    finally:
        tour.close()


def test_free_user_meets_the_upgrade_with_its_price(first_run: App, browser: Any) -> None:
    from playwright.sync_api import expect

    tour = Tour(first_run, browser, "free")
    try:
        tour.log_in("demo-free", DEMO_PASSWORD)
        free_pages(tour)
        admin_pages_hidden(tour)
        for spec in PREMIUM_PAGES:
            feature = FEATURES[spec.file]
            page = tour.visit(spec, f"{feature[:1].upper()}{feature[1:]} is a premium analysis")
            expect_readable(page, spec.title)
            expect(page.get_by_role("button", name=f"Upgrade to premium · {PRICE}")).to_be_visible()
            tour.snap(spec)
        page = tour.visit(page_spec("views/account.py"), "Your plan")
        expect_readable(page, "Account")
        assert metric(page, "Plan") == "Free"
        tour.snap(page_spec("views/account.py"))
        # the upgrade opens the demo checkout (labelled, nothing charged); a cancel changes nothing
        page = tour.visit(page_spec("views/pricing.py"), "Plans and pricing")
        expect_readable(page, "Pricing")
        tour.snap(page_spec("views/pricing.py"))
        page.get_by_role("button", name=f"Upgrade to premium · {PRICE}").click()
        page.wait_for_url(re.compile(r".*/demo_checkout\?id=cs_\w+"))
        expect(page.get_by_text("Demo checkout: no real payment.")).to_be_visible()
        settle(page)
        text = expect_readable(page, "Demo checkout")
        assert PRICE in text and "Faceit AI Premium" in text
        tour.snap(page_spec("views/demo_checkout.py"))
        page.get_by_role("button", name="Cancel and go back").click()
        expect(page.get_by_text("Checkout cancelled: nothing was charged.")).to_be_visible()
        settle(page)
        assert metric(page, "Plan") == "Free"
        tour.snap("checkout-cancelled")
    finally:
        tour.close()


def premium_pages(tour: Tour) -> None:
    """Every analysis, on the viewed player (the pickers pre-filled from their last match)."""
    nickname = tour.app.nicknames[0]
    page = tour.visit(page_spec("views/predictor.py"), "Match predictor")
    tour.press("Predict", "Elo-only estimate")
    expect_readable(page, "Match predictor")
    assert re.fullmatch(r"\d{1,3}%", metric(page, re.compile(r"Win probability on \w+")))
    assert re.fullmatch(r"\d{1,3}%", metric(page, "Elo-only estimate"))
    per_map = marks(chart(page, "Your team's win probability on each map"), "bar")
    assert len(per_map) == 7, "one bar per map of the active pool"
    tour.snap(page_spec("views/predictor.py"))

    page = tour.visit(page_spec("views/veto.py"), "Map veto")
    tour.press("Advise", "Ban first")
    expect_readable(page, "Map veto")
    assert re.fullmatch(r"[A-Z][a-z0-9]+", metric(page, "Pick"))
    assert re.fullmatch(r"[A-Z][a-z0-9]+, [A-Z][a-z0-9]+", metric(page, "Ban first"))
    bars = marks(chart(page, "Your team's win probability per map, and the advice"), "bar")
    assert len(bars) == 7
    assert sum("Advice: pick" in bar for bar in bars) == 1
    assert sum("Advice: ban" in bar for bar in bars) == 2
    tour.snap(page_spec("views/veto.py"))

    page = tour.visit(page_spec("views/playstyle.py"), f"{nickname} plays like")
    text = expect_readable(page, "Playstyle")
    assert re.search(rf"{re.escape(nickname)} plays like an? [a-zA-Z ]+", text)
    styles = marks(chart(page, "How closely the play matches each style"), "bar")
    assert len(styles) >= 2
    assert {re.search(r"Style: ([^;]+)", bar).group(1) for bar in styles} <= ROLES  # type: ignore[union-attr]
    rows = table(page.get_by_test_id("stDataFrame").first)
    assert rows and all(row["Compared with everyone"].endswith("average") for row in rows)
    # a 20-player league has no level with 20 players besides one: the peer table's groups are
    # all too small, and the page says so with the level's count instead of a number
    said = re.search(
        r"Not rated yet: too few peers \(fewer than 20 other level-(\d+) players\)\.", text
    )
    assert said, text
    tour.snap(page_spec("views/playstyle.py"))

    page = tour.visit(page_spec("views/improvement.py"), f"Improvement plan for {nickname}")
    text = expect_readable(page, "Improvement plan")
    assert "Focus on" in text
    assert not re.search(r"\b0th percentile", text), "a percentile that is not true of few peers"
    # the same level as the Playstyle page, and why there is no comparison, with the counts
    assert re.search(rf"Against level-{said.group(1)} players", text), text
    assert re.search(
        rf"No comparison yet: (Only \d+|No) other level-{said.group(1)} [A-Z]+ players and "
        rf"(only \d+|no) other level-{said.group(1)} players; a comparison needs 20\.",
        text,
    ), text
    forecast = page.get_by_test_id("stVegaLiteChart").filter(
        has=page.locator("[aria-label=\"Title text 'Likely Elo after each of the next matches'\"]")
    )
    assert "titled 'Matches from now'" in axis(forecast, "X")
    assert re.search(r"Expected change: [+-]\d+ Elo", text)
    tour.snap(page_spec("views/improvement.py"))

    page = tour.visit(page_spec("views/scouting.py"), "Scouting")
    tour.press("Scout", "Expect them to pick")
    expect_readable(page, "Scouting")
    players = table(page.get_by_test_id("stDataFrame").first)
    assert len(players) == 5 and all(re.fullmatch(r"[\d,]+", row["Elo"]) for row in players)
    assert {row["Role"] for row in players} <= ROLES
    assert marks(chart(page, "Their maps: matches played and win rate"), "bar")
    tour.snap(page_spec("views/scouting.py"))


def test_premium_user_gets_every_analysis(first_run: App, browser: Any) -> None:
    tour = Tour(first_run, browser, "premium")
    try:
        tour.log_in("demo-premium", DEMO_PASSWORD)
        free_pages(tour)
        admin_pages_hidden(tour)
        premium_pages(tour)
        page = tour.visit(page_spec("views/pricing.py"), "Plans and pricing")
        assert "You have premium: every analysis is unlocked." in expect_readable(page, "Pricing")
        tour.snap(page_spec("views/pricing.py"))
        page = tour.visit(page_spec("views/account.py"), "Your plan")
        expect_readable(page, "Account")
        assert metric(page, "Plan") == "Premium"
        tour.snap(page_spec("views/account.py"))
    finally:
        tour.close()


def test_admin_sees_users_ingest_models_and_payments(first_run: App, browser: Any) -> None:
    from playwright.sync_api import expect

    tour = Tour(first_run, browser, "admin")
    try:
        tour.log_in(*ADMIN)
        nav = tour.page.get_by_test_id("stSidebarNav")
        for spec in ADMIN_PAGES:  # the admin section appears once the login has rerun the app
            expect(nav.get_by_role("link", name=spec.title)).to_be_visible()
        page = tour.visit(page_spec("views/admin_users.py"), "Change a role")
        expect_readable(page, "Users", tables=False)
        users = {
            row["username"]: row
            for row in table(page.get_by_test_id("stDataFrame").first, ("username", "premium"))
        }
        assert {"demo-free", "demo-premium", ADMIN[0]} <= set(users)
        assert (
            users["demo-premium"]["premium"] == "true" and users["demo-free"]["premium"] == "false"
        )
        tour.snap(page_spec("views/admin_users.py"))
        page = tour.visit(page_spec("views/admin_ingest.py"), "Quarantine")
        expect_readable(page, "Ingest", tables=False)
        # the rows on screen; the columns: not the previous page's table, still drawn
        ingested = table(page.get_by_test_id("stDataFrame").first, ("nickname", "status"))
        assert ingested and all(row["status"] == "ok" for row in ingested)
        assert {row["nickname"] for row in ingested} <= set(first_run.nicknames)
        tour.snap(page_spec("views/admin_ingest.py"))
        page = tour.visit(page_spec("views/admin_models.py"), "Models")
        expect_readable(page, "Models", tables=False)
        versions = table(page.get_by_test_id("stDataFrame").first, ("name", "version"))
        assert {"match_outcome", "playstyle"} <= {row["name"] for row in versions}
        tour.snap(page_spec("views/admin_models.py"))
        page = tour.visit(page_spec("views/admin_payments.py"), "Grants and changes")
        expect_readable(page, "Payments", tables=False)
        audit = table(page.get_by_test_id("stDataFrame").last, ("action", "user"))
        assert {"action": "grant_premium", "user": "demo-premium"}.items() <= next(
            row for row in audit if row["user"] == "demo-premium"
        ).items(), audit
        tour.snap(page_spec("views/admin_payments.py"))
    finally:
        tour.close()
