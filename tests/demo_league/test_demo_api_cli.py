"""`faceit-ai demo-api` options inject the demo league's faults into the served API."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

from core.faceit import FaceitClient, FaceitUnavailable, InvalidPayload
from pipelines.cli import app

PLAYERS = 30


def served_app(monkeypatch: pytest.MonkeyPatch, *options: str) -> Any:
    """The ASGI app `faceit-ai demo-api OPTIONS` would serve (uvicorn.run is intercepted)."""
    import uvicorn

    served: dict[str, Any] = {}
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: served.update(app=app, **kw))
    result = CliRunner().invoke(app, ["demo-api", "--players", str(PLAYERS), *options])
    assert result.exit_code == 0, result.output
    return served["app"]


def client(asgi: Any, **options: Any) -> FaceitClient:
    options.setdefault("max_retries", 1)
    return FaceitClient(
        api_key="demo-league",
        base_url="https://demo-league.invalid/data/v4",
        transport=httpx.ASGITransport(app=asgi),
        rate_limit=1000.0,
        **options,
    )


def nickname(asgi: Any) -> str:
    return str(asgi.state.league.players_frame()["nickname"][0])


async def test_without_options_every_answer_is_sound(monkeypatch: pytest.MonkeyPatch) -> None:
    asgi = served_app(monkeypatch)
    async with client(asgi) as faceit:
        for _ in range(20):
            assert (await faceit.get_player_by_nickname(nickname(asgi))).nickname
        assert dict(faceit.status_counts) == {200: 20}


async def test_p429_answers_too_many_requests_with_retry_after(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    asgi = served_app(monkeypatch, "--p429", "1")
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=asgi), base_url="https://x/data/v4"
    ) as http:
        response = await http.get(
            "players",
            params={"nickname": nickname(asgi)},
            headers={"Authorization": "Bearer demo-league"},
        )
    assert response.status_code == 429
    assert response.headers["retry-after"] == "1"


async def test_p5xx_answers_server_errors_the_client_retries(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    asgi = served_app(monkeypatch, "--p5xx", "1")
    async with client(asgi, max_retries=3, backoff_initial=0.001, backoff_max=0.002) as faceit:
        with pytest.raises(FaceitUnavailable):
            await faceit.get_player_by_nickname(nickname(asgi))
        assert set(faceit.status_counts) <= {500, 502, 503}
        assert faceit.request_count == 3


async def test_a_fraction_of_answers_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    asgi = served_app(monkeypatch, "--p5xx", "0.3", "--fault-seed", "4")
    async with client(asgi) as faceit:
        outcomes = []
        for _ in range(200):
            try:
                await faceit.get_player_by_nickname(nickname(asgi))
                outcomes.append(True)
            except FaceitUnavailable:
                outcomes.append(False)
    assert 30 < outcomes.count(False) < 90  # 60 expected


@pytest.mark.parametrize("option", ["--malformed", "--truncated"])
async def test_broken_payloads_are_invalid_for_the_client(
    monkeypatch: pytest.MonkeyPatch, option: str
) -> None:
    asgi = served_app(monkeypatch, option, "1")
    async with client(asgi) as faceit:
        with pytest.raises(InvalidPayload):
            await faceit.get_player_by_nickname(nickname(asgi))
        assert dict(faceit.status_counts) == {200: 1}


def test_latency_is_served_and_rates_outside_0_1_are_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert served_app(monkeypatch, "--latency", "0.25").state.faults.latency == 0.25
    refused = CliRunner().invoke(app, ["demo-api", "--p429", "1.5"])
    assert refused.exit_code == 2
    assert "p429" in refused.output
