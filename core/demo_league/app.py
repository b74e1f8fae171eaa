"""The in-process FACEIT Data API v4 (Starlette ASGI app) serving a :class:`League`."""

from __future__ import annotations

import asyncio
import math
import random
import time
from collections.abc import Awaitable, Callable, Collection
from dataclasses import dataclass, field
from typing import Any

import orjson
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from . import payloads as pl
from .live import LiveGame, LiveGames
from .sim import League

DEFAULT_API_KEYS: frozenset[str] = frozenset({"demo-league"})
MAX_LIMIT = 100
MAX_HISTORY_OFFSET = 1000


def dumps(obj: Any) -> bytes:
    """Deterministic compact UTF-8 JSON (insertion-ordered keys), encoded by orjson: a history
    page is ~4 KB per item, and the standard library's encoder was a third of the server's CPU
    on one (in the demo mode the server shares the app's process and cores)."""
    return orjson.dumps(obj)


def error_body(message: str, code: str) -> dict[str, Any]:
    return {"errors": [{"message": message, "code": code}]}


class ApiError(Exception):
    def __init__(self, status: int, message: str, code: str) -> None:
        super().__init__(message)
        self.status = status
        self.body = error_body(message, code)


class NotFound(ApiError):
    def __init__(self) -> None:
        super().__init__(404, "The resource was not found.", "err_nf0")
        self.body = pl.NOT_FOUND


@dataclass
class Faults:
    """Injectable faults; mutate the fields at runtime. Seeded RNG for deterministic draws.

    - ``latency``: seconds of ``asyncio.sleep`` added to every request.
    - ``throttle_rate``: fraction of requests answered 429 with ``Retry-After: storm_retry_after``
      (as when other clients share the key's budget).
    - ``error_rate``: fraction of requests answered 500/502/503.
    - ``truncate_rate``: fraction of 200 answers whose JSON body is cut off.
    - ``malformed_rate``: fraction of 200 answers with valid JSON of the wrong shape
      (a required key missing, wrong value types).
    - ``storm``: the next ``storm`` requests get 429 with ``Retry-After: storm_retry_after``.
    """

    latency: float = 0.0
    throttle_rate: float = 0.0
    error_rate: float = 0.0
    truncate_rate: float = 0.0
    malformed_rate: float = 0.0
    storm: int = 0
    storm_retry_after: int = 1
    seed: int = 0
    rng: random.Random = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)

    def reset(self) -> None:
        """Clear every fault and reseed the RNG."""
        self.latency = self.throttle_rate = self.error_rate = 0.0
        self.truncate_rate = self.malformed_rate = 0.0
        self.storm = 0
        self.rng = random.Random(self.seed)

    def hit(self, rate: float) -> bool:
        return rate > 0 and self.rng.random() < rate


class TokenBucket:
    """``rate`` tokens per second, burst ``max(1, rate)``."""

    def __init__(self, rate: float, clock: Callable[[], float]) -> None:
        self.rate = rate
        self.capacity = max(1.0, rate)
        self.tokens = self.capacity
        self.clock = clock
        self.last = clock()

    def take(self) -> tuple[bool, dict[str, str]]:
        now = self.clock()
        self.tokens = min(self.capacity, self.tokens + (now - self.last) * self.rate)
        self.last = now
        ok = self.tokens >= 1.0
        if ok:
            self.tokens -= 1.0
        cap = math.ceil(self.capacity)
        headers = {
            "ratelimit-limit": f"{cap}, {cap};w=1",
            "ratelimit-remaining": str(int(self.tokens)),
            "ratelimit-reset": str(math.ceil((self.capacity - self.tokens) / self.rate)),
        }
        if not ok:
            headers["retry-after"] = str(max(1, math.ceil((1.0 - self.tokens) / self.rate)))
        return ok, headers


def _malform(body: Any, rng: random.Random) -> Any:
    target = body
    if isinstance(body, dict):
        items = body.get("items") or body.get("rounds")
        if isinstance(items, list) and items and isinstance(items[0], dict):
            target = items[0].get("stats", items[0])
    if not isinstance(target, dict) or not target:
        return {"unexpected": True}
    keys = list(target)
    del target[keys[0]]
    for k in keys[1:4]:
        v = target[k]
        if isinstance(v, bool):
            target[k] = "yes"
        elif isinstance(v, str):
            target[k] = rng.randint(1, 10**6)
        elif isinstance(v, int | float):
            target[k] = str(v)
        elif isinstance(v, list):
            target[k] = {"0": v[:1]}
        else:
            target[k] = [v]
    return body


def _int_param(request: Request, name: str, default: int, lo: int, hi: int | None) -> int:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ApiError(400, f"The parameter '{name}' must be an integer.", "err_br0") from None
    if value < lo or (hi is not None and value > hi):
        bound = f"between {lo} and {hi}" if hi is not None else f"at least {lo}"
        raise ApiError(400, f"The parameter '{name}' must be {bound}.", "err_br0")
    return value


def create_app(
    league: League,
    *,
    api_keys: Collection[str] | None = DEFAULT_API_KEYS,
    rate_limit: float | None = None,
    faults: Faults | None = None,
    clock: Callable[[], float] = time.monotonic,
    live: LiveGames | None = None,
) -> Starlette:
    """ASGI app serving the FACEIT Data API v4 under ``/data/v4`` from ``league``.

    ``api_keys=None`` disables auth; ``rate_limit`` is a per-key token bucket (requests/s);
    ``faults`` is kept on ``app.state.faults`` (a fresh inactive one when not given);
    ``live`` adds the games of a live clock (core.demo_league.live) to /matches/{id}.
    """
    keys = None if api_keys is None else frozenset(api_keys)
    flt = faults if faults is not None else Faults()
    buckets: dict[str, TokenBucket] = {}

    def player_idx(player_id: str) -> int:
        p = league.player_index.get(player_id)
        if p is None:
            raise NotFound()
        return p

    def match_idx(match_id: str) -> int:
        m = league.match_index.get(match_id)
        if m is None:
            raise NotFound()
        return m

    def check_game(request: Request) -> None:
        if request.path_params.get("game", "cs2") != "cs2":
            raise NotFound()

    def players(request: Request) -> Any:
        nick = request.query_params.get("nickname")
        if not nick:
            raise ApiError(400, "The parameter 'nickname' is required.", "err_br0")
        p = league.nickname_index.get(nick)
        if p is None:
            raise NotFound()
        return pl.player(league, p)

    def player_by_id(request: Request) -> Any:
        return pl.player(league, player_idx(request.path_params["player_id"]))

    def player_stats(request: Request) -> Any:
        check_game(request)
        return pl.player_stats(league, player_idx(request.path_params["player_id"]))

    def history(request: Request) -> Any:
        p = player_idx(request.path_params["player_id"])
        game = request.query_params.get("game", "cs2")
        if game != "cs2":
            raise NotFound()
        offset = _int_param(request, "offset", 0, 0, MAX_HISTORY_OFFSET)
        limit = _int_param(request, "limit", 20, 1, MAX_LIMIT)
        start = _int_param(request, "from", 0, 0, None)
        end = _int_param(request, "to", league.end_ts, 0, None)
        return pl.history(league, p, start, end, offset, limit)

    def games_stats(request: Request) -> Any:
        check_game(request)
        p = player_idx(request.path_params["player_id"])
        offset = _int_param(request, "offset", 0, 0, None)
        limit = _int_param(request, "limit", 20, 1, MAX_LIMIT)
        return pl.games_stats(league, p, offset, limit)

    def live_game(request: Request) -> LiveGame | None:
        return live.get(request.path_params["match_id"]) if live is not None else None

    def match(request: Request) -> Any:
        game = live_game(request)
        if game is not None and live is not None:
            return live.match(game)
        return pl.match(league, match_idx(request.path_params["match_id"]))

    def match_stats(request: Request) -> Any:
        game = live_game(request)
        if game is not None and live is not None:
            body = live.match_stats(game)
            if body is None:  # not finished: FACEIT has no scoreboard yet
                raise NotFound()
            return body
        return pl.match_stats(league, match_idx(request.path_params["match_id"]))

    def search(request: Request) -> Any:
        nick = request.query_params.get("nickname")
        if not nick:
            raise ApiError(400, "The parameter 'nickname' is required.", "err_br0")
        offset = _int_param(request, "offset", 0, 0, None)
        limit = _int_param(request, "limit", 20, 1, MAX_LIMIT)
        return pl.search_players(league, nick, offset, limit)

    def respond(status: int, body: Any, headers: dict[str, str]) -> Response:
        return Response(dumps(body), status, headers=headers, media_type="application/json")

    def wrap(handler: Callable[[Request], Any]) -> Callable[[Request], Awaitable[Response]]:
        async def endpoint(request: Request) -> Response:
            return await dispatch(request, handler)

        return endpoint

    async def dispatch(request: Request, handler: Callable[[Request], Any]) -> Response:
        headers: dict[str, str] = {}
        auth = request.headers.get("authorization", "")
        key = auth[7:] if auth.startswith("Bearer ") else ""
        if keys is not None and key not in keys:
            return respond(401, error_body("Unauthorized", "err_unauthorized"), headers)
        if flt.latency > 0:
            await asyncio.sleep(flt.latency)
        if flt.storm > 0 or flt.hit(flt.throttle_rate):
            flt.storm = max(0, flt.storm - 1)
            headers["retry-after"] = str(flt.storm_retry_after)
            return respond(429, error_body("Too Many Requests", "err_rate_limited"), headers)
        if rate_limit is not None:
            bucket = buckets.get(key)
            if bucket is None:
                bucket = buckets[key] = TokenBucket(rate_limit, clock)
            ok, rl_headers = bucket.take()
            headers.update(rl_headers)
            if not ok:
                return respond(429, error_body("Too Many Requests", "err_rate_limited"), headers)
        if flt.hit(flt.error_rate):
            status = flt.rng.choice((500, 502, 503))
            return respond(status, error_body("Internal Server Error", "err_server"), headers)
        try:
            body = handler(request)
        except ApiError as exc:
            return respond(exc.status, exc.body, headers)
        if flt.hit(flt.malformed_rate):
            body = _malform(body, flt.rng)
        data = dumps(body)
        if flt.hit(flt.truncate_rate) and len(data) > 1:
            data = data[: flt.rng.randint(1, len(data) - 1)]
        return Response(data, 200, headers=headers, media_type="application/json")

    async def not_found(request: Request, exc: Exception) -> Response:
        status = exc.status_code if isinstance(exc, HTTPException) else 404
        if status == 405:
            return respond(405, error_body("Method Not Allowed", "err_mna0"), {})
        return respond(404, pl.NOT_FOUND, {})

    base = "/data/v4"
    routes = [
        Route(f"{base}/players", wrap(players)),
        Route(f"{base}/players/{{player_id}}", wrap(player_by_id)),
        Route(f"{base}/players/{{player_id}}/stats/{{game}}", wrap(player_stats)),
        Route(f"{base}/players/{{player_id}}/history", wrap(history)),
        Route(f"{base}/players/{{player_id}}/games/{{game}}/stats", wrap(games_stats)),
        Route(f"{base}/matches/{{match_id}}", wrap(match)),
        Route(f"{base}/matches/{{match_id}}/stats", wrap(match_stats)),
        Route(f"{base}/search/players", wrap(search)),
    ]
    app = Starlette(routes=routes, exception_handlers={404: not_found, 405: not_found})
    app.state.league = league
    app.state.faults = flt
    return app
