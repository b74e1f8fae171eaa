"""Where the recorded test data lives: inside the repo, so a clone needs nothing beside it."""

from __future__ import annotations

from pathlib import Path

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
# real FACEIT Data API v4 response bodies: the contract of our client and of the demo league
FACEIT_PAYLOADS = FIXTURES / "faceit"
