"""A scripted fake of the FACEIT Data API v4 for httpx.MockTransport.

Serves the real reference payloads of tests/fixtures/faceit/ (or a synthetic history), counts
requests and requests in flight, and can be scripted to fail the next requests in given ways.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from tests.utils.fixtures import FACEIT_PAYLOADS as PAYLOADS

BASE_URL = "https://open.faceit.com/data/v4"
API_KEY = "test-key-0123456789abcdef"

PLAYER_ID = "ffe3566c-9574-4f1b-8012-bf4d42aeb898"
MATCH_ID = "1-bb13fd78-e183-4d37-8a4b-ceed67da5265"


def payload_text(name: str) -> str:
    return (PAYLOADS / name).read_text(encoding="utf-8")


def payload(name: str) -> Any:
    return json.loads(payload_text(name))


def json_response(
    body: Any, status: int = 200, headers: dict[str, str] | None = None
) -> httpx.Response:
    return httpx.Response(status, json=body, headers=headers)


def reference_route(request: httpx.Request) -> httpx.Response:
    """Route a request to the matching reference payload, like the real API would."""
    path = request.url.path.removeprefix("/data/v4")
    routes: list[tuple[str, str]] = [
        (r"^/players$", "player.json"),
        (r"^/players/[^/]+$", "player.json"),
        (r"^/players/[^/]+/stats/cs2$", "player_stats_cs2.json"),
        (r"^/players/[^/]+/history$", "player_history.json"),
        (r"^/players/[^/]+/games/cs2/stats$", "player_games_cs2_stats.json"),
        (r"^/matches/[^/]+$", "match.json"),
        (r"^/matches/[^/]+/stats$", "match_stats.json"),
        (r"^/search/players$", "search_players.json"),
    ]
    for pattern, name in routes:
        if re.match(pattern, path):
            return httpx.Response(200, text=payload_text(name), headers=_json_headers())
    return httpx.Response(404, text=payload_text("error_404.json"), headers=_json_headers())


def _json_headers() -> dict[str, str]:
    return {"content-type": "application/json"}


Fault = int | tuple[int, dict[str, str]] | Exception | httpx.Response
Route = Callable[[httpx.Request], httpx.Response]


@dataclass
class FakeFaceit:
    """MockTransport handler: scripted faults first, then `route`. Counts everything."""

    route: Route = reference_route
    delay: float = 0.0
    faults: deque[Fault] = field(default_factory=deque)
    requests: list[httpx.Request] = field(default_factory=list)
    in_flight: int = 0
    max_in_flight: int = 0

    def fail_next(self, *faults: Fault) -> None:
        self.faults.extend(faults)

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            if self.delay:
                await asyncio.sleep(self.delay)
            if self.faults:
                fault = self.faults.popleft()
                if isinstance(fault, Exception):
                    raise fault
                if isinstance(fault, httpx.Response):
                    return fault
                if isinstance(fault, tuple):
                    status, headers = fault
                    return httpx.Response(status, json={"errors": []}, headers=headers)
                return httpx.Response(fault, json={"errors": [{"message": "scripted"}]})
            return self.route(request)
        finally:
            self.in_flight -= 1

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self)


# --------------------------------------------------------------------------------------------------
# Synthetic history: N matches, newest first, three matches per finishing second so that groups
# straddle the 1000-item window boundary.
# --------------------------------------------------------------------------------------------------

HISTORY_NEWEST = 1_773_700_000


def synthetic_history(count: int, per_second: int = 3, spacing: int = 1800) -> list[dict[str, Any]]:
    matches = []
    for i in range(count):
        finished = HISTORY_NEWEST - (i // per_second) * spacing
        matches.append(
            {
                "match_id": f"1-{i:08d}-synthetic",
                "game_id": "cs2",
                "region": "EU",
                "competition_name": "Europe 5v5 Queue",
                "competition_type": "matchmaking",
                "status": "finished",
                "started_at": finished - 2400,
                "finished_at": finished,
                "teams": {
                    "faction1": {
                        "team_id": "t1",
                        "nickname": "team_a",
                        "players": [
                            {"player_id": PLAYER_ID, "nickname": "Darwin", "skill_level": 10}
                        ],
                    },
                    "faction2": {
                        "team_id": "t2",
                        "nickname": "team_b",
                        "players": [{"player_id": "p2", "nickname": "Other", "skill_level": 9}],
                    },
                },
                "results": {
                    "winner": "faction1" if i % 2 else "faction2",
                    "score": {"faction1": 13, "faction2": 9},
                },
            }
        )
    return matches


@dataclass
class HistoryServer:
    """Serves /players/{id}/history like FACEIT: offset <= 1000, limit <= 100, from/to in seconds.

    `to_inclusive` chooses how the upper bound is applied (the real API does not document it);
    `honor_from=False` ignores `from`, to check the client stops at its watermark by itself.
    """

    matches: list[dict[str, Any]]
    to_inclusive: bool = True
    honor_from: bool = True
    violations: list[str] = field(default_factory=list)
    served: list[str] = field(default_factory=list)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if not request.url.path.endswith("/history"):
            return httpx.Response(404, json={"errors": [{"message": "not found"}]})
        params = request.url.params
        offset = int(params.get("offset", "0"))
        limit = int(params.get("limit", "20"))
        if offset > 1000 or limit > 100 or limit < 1 or offset < 0:
            self.violations.append(str(request.url))
            return httpx.Response(400, json={"errors": [{"message": "bad paging"}]})
        lower = int(params.get("from", "0")) if self.honor_from else 0
        upper = int(params["to"]) if "to" in params else None

        def keep(m: dict[str, Any]) -> bool:
            t = m["finished_at"]
            if t < lower:
                return False
            if upper is None:
                return True
            return t <= upper if self.to_inclusive else t < upper

        selected = [m for m in self.matches if keep(m)]
        selected.sort(key=lambda m: (-m["finished_at"], m["match_id"]))
        page = selected[offset : offset + limit]
        self.served.extend(m["match_id"] for m in page)
        body = {
            "items": page,
            "start": offset,
            "end": offset + len(page),
            "from": lower,
            "to": upper if upper is not None else HISTORY_NEWEST + 1,
        }
        return httpx.Response(200, json=body)
