from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
from faceit_fakes import API_KEY, BASE_URL, FakeFaceit

from core.faceit import FaceitClient

# Small timings so the fault-injection tests stay fast.
FAST: dict[str, Any] = {"backoff_initial": 0.01, "backoff_max": 0.05, "rate_limit": 1000.0}


@pytest.fixture
def fake() -> FakeFaceit:
    return FakeFaceit()


@pytest.fixture
async def make_client() -> AsyncIterator[Callable[..., FaceitClient]]:
    """factory(handler, **options) -> FaceitClient on a MockTransport; closed after the test."""
    created: list[FaceitClient] = []

    def factory(handler: Any, **kwargs: Any) -> FaceitClient:
        transport = handler.transport() if isinstance(handler, FakeFaceit) else None
        options: dict[str, Any] = {"api_key": API_KEY, "base_url": BASE_URL, **FAST, **kwargs}
        client = FaceitClient(transport=transport or httpx.MockTransport(handler), **options)
        created.append(client)
        return client

    yield factory
    for client in created:
        await client.aclose()


@pytest.fixture
async def client(fake: FakeFaceit, make_client: Callable[..., FaceitClient]) -> FaceitClient:
    return make_client(fake)
