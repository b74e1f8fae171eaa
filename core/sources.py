"""Where FACEIT data comes from: the real Data API with FACEIT_API_KEY, else the demo league.

Both are reached through the same FaceitClient; the demo league is served in-process through an
httpx ASGI transport, so the embedded default needs no network and no key.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from core.faceit import FaceitClient
from core.ingest import Ingestor, IngestSummary, Progress, Step, run_directly
from core.settings import Settings

if TYPE_CHECKING:
    from core.resources import Resources

DEMO_API_KEY = "demo-league"
DEMO_BASE_URL = "https://demo-league.invalid/data/v4"


def demo_league(settings: Settings) -> Any:
    """The demo league of these settings (generated once per process)."""
    from core.demo_league import default_league

    return default_league(settings.demo_players, settings.demo_seed)


def make_faceit_client(settings: Settings, **options: Any) -> FaceitClient:
    if settings.uses_demo_league:
        from core.demo_league import demo_transport
        from core.demo_league.live import live_games

        league = demo_league(settings)
        options.setdefault("rate_limit", 2000.0)
        options.setdefault("max_concurrency", 16)
        return FaceitClient(
            api_key=DEMO_API_KEY,
            base_url=DEMO_BASE_URL,
            # the games the embedded live clock plays are served too (pipelines.live)
            transport=demo_transport(league, live=live_games(league)),
            **options,
        )
    options.setdefault("rate_limit", settings.faceit_rate_limit)
    # with Redis, the key's rate limit is one budget for all workers together
    options.setdefault("shared_limit_url", settings.redis_url)
    return FaceitClient(
        api_key=settings.faceit_api_key, base_url=settings.faceit_api_base, **options
    )


async def run_ingest(
    resources: Resources,
    job: Callable[[Ingestor], Awaitable[Any]],
    *,
    progress: Progress | None = None,
    step: Step = run_directly,
    **options: Any,
) -> Any:
    """Run `job` with an Ingestor on the caller's resources (their database and FACEIT source).

    The FACEIT client is opened for this run and closed after it (an HTTP client belongs to one
    event loop); the database engine is the caller's and stays open.
    """
    async with resources.faceit_client() as client:
        ingestor = Ingestor(client, resources.sessions, progress=progress, step=step, **options)
        result = await job(ingestor)
        if isinstance(result, IngestSummary):
            result.requests = client.request_count
        return result
