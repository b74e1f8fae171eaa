"""Driving the Streamlit app in Debian's Chromium (Playwright), and reading it as a person does.

Shared by the browser tests (tests/e2e): the Chromium launch, waiting for a server,
screenshots to test-artifacts/, and readers for what a page shows: metrics, tables (the data
grid's accessible table) and charts (Vega's SVG marks and their ARIA labels).
"""

from __future__ import annotations

import re
import subprocess
import time
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
VIEWPORT = {"width": 1400, "height": 1000}
# how long the first page of a fresh app process may take: it imports the whole app (polars,
# XGBoost, scikit-learn...), tens of seconds on a loaded machine; later pages take a second or two
FIRST_PAGE_MS = 240_000


def wait_http(url: str, seconds: float, proc: subprocess.Popen[bytes] | None = None) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"the process serving {url} exited with {proc.returncode}")
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer within {seconds}s")


class Shots:
    """Full-page screenshots to test-artifacts/<folder>/NN-<step>.png (old ones removed)."""

    def __init__(self, folder: str, prefix: str = "") -> None:
        self.dir = ARTIFACTS / folder
        self.dir.mkdir(parents=True, exist_ok=True)
        self.prefix = prefix
        for old in self.dir.glob(f"{prefix}*.png"):
            old.unlink()
        self.count = 0
        self.taken: list[str] = []

    def __call__(self, page: Any, step: str) -> Path:
        """The whole page: Streamlit scrolls inside its main block, not the window, so the
        window is made as tall as that block for the shot (a full-page shot alone would stop at
        the viewport)."""
        self.count += 1
        path = self.dir / f"{self.prefix}{self.count:02d}-{step}.png"
        viewport = page.viewport_size
        height = page.evaluate(
            "() => document.querySelector('[data-testid=\"stMain\"]')?.scrollHeight ?? 0"
        )
        if viewport and height > viewport["height"]:
            page.set_viewport_size({"width": viewport["width"], "height": int(height) + 40})
        try:
            page.screenshot(path=str(path), full_page=True)
        finally:
            if viewport:
                page.set_viewport_size(viewport)
        self.taken.append(path.name)
        return path


# the page is done: the script ran to its end, no element is still a placeholder or left over
# from the previous run, and every chart and table is drawn (Vega's SVG, the data grid's
# accessible table)
_SETTLED = """() => {
  const app = document.querySelector('[data-testid="stApp"]');
  if (!app || app.getAttribute('data-test-script-state') !== 'notRunning') return false;
  if (document.querySelector('[data-testid="stSkeleton"]')) return false;
  // an element of the previous run (or the previous page) still on show, not yet replaced
  if (document.querySelector('[data-testid="stElementContainer"][data-stale="true"]')) return false;
  const charts = [...document.querySelectorAll('[data-testid="stVegaLiteChart"]')];
  if (charts.some(c => !c.querySelector('svg .mark-group'))) return false;
  const frames = [...document.querySelectorAll('[data-testid="stDataFrame"]')];
  return !frames.some(f => !f.querySelector('[role="grid"] tbody'));
}"""


def settle(page: Any, timeout_ms: float | None = None) -> None:
    """Wait until the page's script has finished and everything on it is drawn."""
    options = {} if timeout_ms is None else {"timeout": timeout_ms}
    page.wait_for_function(_SETTLED, **options)


def main_text(page: Any) -> str:
    return str(page.get_by_test_id("stMain").inner_text())


def metric(page: Any, label: str | re.Pattern[str]) -> str:
    """The value of the metric card labelled ``label`` (a string is read exactly)."""
    card = page.get_by_test_id("stMetric").filter(
        has=page.get_by_test_id("stMetricLabel").get_by_text(label, exact=True)
    )
    return str(card.get_by_test_id("stMetricValue").inner_text()).strip()


def table(frame: Any, columns: tuple[str, ...] = ()) -> list[dict[str, str]]:
    """The rows of an ``st.dataframe`` as the grid shows them (its accessible table). Waits
    for the grid's header: the dataframe's frame is on the page before its grid, and the grid
    before its column names (the accessible table is hidden: attached is what counts); with
    ``columns``, until the header names each of them (not a table the page showed before)."""
    frame.locator('[role="grid"] thead th').first.wait_for(state="attached")
    # polled through the locator, which finds its element again on every call: a handle taken
    # once could be the previous page's table, still drawn, and never get the new columns
    deadline = time.monotonic() + 60
    while True:
        heads: list[str] = frame.evaluate(
            """e => [...(e.querySelector('[role="grid"]')?.querySelectorAll('thead th') ?? [])]
                    .map(t => t.innerText.trim())"""
        )
        if any(heads) and all(name in heads for name in columns):
            break
        if time.monotonic() > deadline:
            raise AssertionError(f"the table's columns are {heads}, not {list(columns)}")
        time.sleep(0.2)
    rows: list[dict[str, str]] = frame.evaluate(
        """e => {
          const grid = e.querySelector('[role="grid"]');
          const heads = [...grid.querySelectorAll('thead th')].map(t => t.innerText.trim());
          return [...grid.querySelectorAll('tbody tr')].map(r => Object.fromEntries(
            [...r.querySelectorAll('td')].map((td, i) => [heads[i], td.innerText.trim()])));
        }"""
    )
    return rows


def chart(page: Any, title: str) -> Any:
    """The Vega-Lite chart titled ``title``."""
    return page.get_by_test_id("stVegaLiteChart").filter(
        has=page.locator(f"[aria-label=\"Title text '{title}'\"]")
    )


def marks(chart_locator: Any, kind: str) -> list[str]:
    """The ARIA labels of the chart's marks of one kind ("bar", "line mark", "area mark"...):
    one per drawn bar, "Field: value; ..." (what a screen reader reads)."""
    labels: list[str] = chart_locator.evaluate(
        f"""e => [...e.querySelectorAll('[aria-roledescription="{kind}"]')]
               .map(m => m.getAttribute('aria-label') || '')"""
    )
    return labels


def axis(chart_locator: Any, which: str) -> str:
    """The ARIA description of the chart's "X" or "Y" axis (title, scale and values)."""
    label: str = chart_locator.locator(f"[aria-label^='{which}-axis titled']").first.get_attribute(
        "aria-label"
    )
    return label
