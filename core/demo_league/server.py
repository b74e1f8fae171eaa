"""Helpers to run the demo league: cached leagues, an httpx transport and a uvicorn server."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
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
    live: LiveOptions | None = None,
) -> None:
    """Serve the demo API with uvicorn (blocking). API keys: ``demo-league`` and any extra;
    ``faults`` injects latency, 429s, 5xx and broken payloads (see :class:`Faults`); ``live``
    runs the live clock, POSTing FACEIT's webhook events of its games to ``live.url``."""
    import uvicorn

    from .live import LiveClock, http_delivery, live_games

    keys = {*DEFAULT_API_KEYS, *extra_api_keys}
    league = default_league(players, seed)
    games = live_games(league)
    app = create_app(league, rate_limit=rate_limit, api_keys=keys, faults=faults, live=games)
    stop = None
    if live is not None:
        clock = LiveClock(
            games,
            http_delivery(live.url, live.header, live.secret),
            every=live.every,
            stage_seconds=live.stage_seconds,
        )
        _thread, stop = clock.start()
    try:
        uvicorn.run(app, host=host, port=port, log_level="info")
    finally:
        if stop is not None:
            stop.set()


@dataclass(frozen=True)
class LiveOptions:
    """Where the demo live clock sends its webhook events, and its pace."""

    url: str
    secret: str
    header: str = "X-Faceit-Webhook-Secret"
    every: float = 60.0
    stage_seconds: float = 20.0
