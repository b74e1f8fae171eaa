"""One headless Chromium per browser test module (a launch costs seconds).

Not per session: Playwright's sync API keeps its event loop running in the main thread while it
is open, so every later test that calls asyncio.run() (the FACEIT client, ingest, Prefect) would
fail with "Runner.run() cannot be called from a running event loop"."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.utils.browser import CHROMIUM, CHROMIUM_ARGS


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Headless Debian Chromium; a launch failure FAILS the test (no skip)."""
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium (see .ci/run)")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield launched
        finally:
            launched.close()
