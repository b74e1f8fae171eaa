"""Helpers to run the demo league: cached leagues, an httpx transport and a uvicorn server."""

from __future__ import annotations

from collections.abc import Collection
from functools import lru_cache
from typing import Any

import httpx

from .app import DEFAULT_API_KEYS, Faults, create_app
from .sim import League, generate_league

DEFAULT_PLAYERS = 1000
DEFAULT_SEED = 0


@lru_cache(maxsize=8)
def default_league(players: int = DEFAULT_PLAYERS, seed: int = DEFAULT_SEED) -> League:
    """A cached league with the default match count (4 per player, ~40 appearances each)."""
    return generate_league(players, seed=seed)


def demo_transport(league: League | None = None, **kw: Any) -> httpx.ASGITransport:
    """An ``httpx.ASGITransport`` over :func:`create_app` (``kw`` goes to ``create_app``).

    Use with ``httpx.AsyncClient(transport=..., base_url="https://open.faceit.com")`` and the
    header ``Authorization: Bearer demo-league``.
    """
    return httpx.ASGITransport(app=create_app(league or default_league(), **kw))


def serve(
    host: str = "127.0.0.1",
    port: int = 8900,
    players: int = DEFAULT_PLAYERS,
    seed: int = DEFAULT_SEED,
    rate_limit: float | None = None,
    extra_api_keys: Collection[str] = (),
    faults: Faults | None = None,
) -> None:
    """Serve the demo API with uvicorn (blocking). API keys: ``demo-league`` and any extra;
    ``faults`` injects latency, 429s, 5xx and broken payloads (see :class:`Faults`)."""
    import uvicorn

    keys = {*DEFAULT_API_KEYS, *extra_api_keys}
    app = create_app(
        default_league(players, seed), rate_limit=rate_limit, api_keys=keys, faults=faults
    )
    uvicorn.run(app, host=host, port=port, log_level="info")
