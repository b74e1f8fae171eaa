"""GET /api/players/{nickname}[/matches|/maps] (free, any logged-in user) and the premium
/playstyle, /improvement, /ratings, /benchmarks, /head-to-head and /teammates analyses of one
player."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request, Response
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from api import problems, services
from api.deps import CurrentUser, PremiumUser, ResourcesDep, get_models
from api.problems import ApiProblem
from api.routes.analysis import run_analysis
from api.schemas import (
    TEXT_SCHEMA,
    FilterQuery,
    HeadToHead,
    ImprovementPlan,
    MatchesQuery,
    MatchPage,
    PeerBenchmarks,
    PlayerElo,
    PlayerMaps,
    PlayerProfile,
    PlayerRatings,
    PlayerTilt,
    PlayerTrends,
    PlaystyleProfile,
    Synergy,
    Text,
    TiltQuery,
    TrendsQuery,
    filter_of,
)
from models import analysis, head_to_head, peers, ratings

log = logging.getLogger("api.players")
# every route here takes CurrentUser or PremiumUser, which count the per-IP limit too
router = APIRouter(prefix="/api/players", tags=["players"])

Nickname = Annotated[
    Text,
    Path(
        min_length=1,
        max_length=64,
        json_schema_extra=TEXT_SCHEMA,
        description="FACEIT nickname (exact, or a unique case-insensitive match)",
        examples=["s1mple_fan"],
    ),
]
FREE_ERRORS = problems.responses(401, 404, 422, 429, 503)
PREMIUM_ERRORS = problems.responses(401, 403, 404, 422, 429, 503)


def _unknown(exc: services.UnknownPlayer) -> ApiProblem:
    return ApiProblem(404, str(exc), "unknown-player")


async def _cached(
    request: Request, kind: str, nickname: str, loader: services.Loader, model: type[BaseModel]
) -> Response:
    """The answer as JSON bytes, from the in-process cache (validated and serialized once per
    ``player_cache_seconds``); concurrent misses for one key share a single computation.

    Stale-while-revalidate: once an answer has expired (by less than ``player_cache_seconds``),
    the first request starts one refresh in the background and every request is answered with
    the previous bytes until the refresh lands. So an answer is at most ``player_cache_seconds``
    plus one refresh old, and a refresh never stalls every request for a hot player at once
    (under load, that stall was most of the route's p99)."""
    cache: services.TTLCache = request.app.state.player_cache
    key = (kind, nickname)
    body, fresh = cache.lookup(key)
    if body is not None:
        if not fresh and key not in request.app.state.player_pending:
            _refresh_in_background(request.app, key, nickname, loader, model)
        return Response(body, media_type="application/json")
    pending: dict[tuple[str, str], asyncio.Future[bytes]] = request.app.state.player_pending
    future = pending.get(key)
    if future is None:
        body = await _compute(request.app, key, _begin(request.app, key), nickname, loader, model)
    else:
        body = await asyncio.shield(future)
    return Response(body, media_type="application/json")


def _begin(app: Any, key: tuple[str, str]) -> asyncio.Future[bytes]:
    """Register the computation of ``key`` (synchronously: later requests see it at once)."""
    future: asyncio.Future[bytes] = asyncio.get_running_loop().create_future()
    app.state.player_pending[key] = future
    return future


async def _compute(
    app: Any,
    key: tuple[str, str],
    future: asyncio.Future[bytes],
    nickname: str,
    loader: services.Loader,
    model: type[BaseModel],
) -> bytes:
    """Load, validate and serialize one answer, cache it; waiters of ``key`` share the result."""
    try:
        value = await run_in_threadpool(loader, app.state.resources, nickname)
        body = model.model_validate(value).model_dump_json().encode()
        app.state.player_cache.set(key, body)
        future.set_result(body)
        return body
    except BaseException as exc:
        future.set_exception(exc)
        future.exception()  # retrieved: no "never retrieved" warning without waiters
        raise
    finally:
        app.state.player_pending.pop(key, None)


def _refresh_in_background(
    app: Any, key: tuple[str, str], nickname: str, loader: services.Loader, model: type[BaseModel]
) -> None:
    tasks: set[asyncio.Task[None]] = app.state.player_refreshes
    future = _begin(app, key)

    async def refresh() -> None:
        try:
            await _compute(app, key, future, nickname, loader, model)
        except Exception:  # the next request recomputes in the foreground and answers the error
            app.state.player_cache.discard(key)
            log.debug("player answer refresh failed", exc_info=True)

    task = asyncio.get_running_loop().create_task(refresh())
    tasks.add(task)
    task.add_done_callback(tasks.discard)


async def _answer(
    request: Request, kind: str, nickname: str, loader: services.Loader, model: type[BaseModel]
) -> Response:
    try:
        return await _cached(request, kind, nickname, loader, model)
    except services.UnknownPlayer as exc:
        raise _unknown(exc) from None


@router.get(
    "/{nickname}",
    response_model=PlayerProfile,
    summary="A player's profile and headline features",
    responses=FREE_ERRORS,
)
async def player_profile(
    nickname: Nickname, request: Request, user: CurrentUser, query: Annotated[FilterQuery, Query()]
) -> Any:
    flt = filter_of(query)

    def loader(resources: Any, name: str) -> dict[str, Any]:
        return services.profile(resources, name, flt)

    return await _answer(request, f"profile:{flt.key()}", nickname, loader, PlayerProfile)


@router.get(
    "/{nickname}/matches",
    response_model=MatchPage,
    summary="A player's matches, newest first (cursor pagination)",
    responses=FREE_ERRORS,
)
async def player_matches(
    nickname: Nickname,
    resources: ResourcesDep,
    user: CurrentUser,
    query: Annotated[MatchesQuery, Query()],
) -> Any:
    before = query.before
    if before is not None and before.tzinfo is None:
        before = before.replace(tzinfo=UTC)
    try:
        return await run_in_threadpool(
            services.matches_page, resources, nickname, query.limit, before, filter_of(query)
        )
    except services.UnknownPlayer as exc:
        raise _unknown(exc) from None


@router.get(
    "/{nickname}/maps",
    response_model=PlayerMaps,
    summary="A player's record and stats per map",
    responses=FREE_ERRORS,
)
async def player_maps(
    nickname: Nickname, request: Request, user: CurrentUser, query: Annotated[FilterQuery, Query()]
) -> Any:
    flt = filter_of(query)

    def loader(resources: Any, name: str) -> dict[str, Any]:
        return services.maps(resources, name, flt)

    return await _answer(request, f"maps:{flt.key()}", nickname, loader, PlayerMaps)


@router.get(
    "/{nickname}/elo",
    response_model=PlayerElo,
    summary="A player's Elo after each match, its change, and the level band",
    responses=FREE_ERRORS,
)
async def player_elo(
    nickname: Nickname, request: Request, user: CurrentUser, query: Annotated[FilterQuery, Query()]
) -> Any:
    flt = filter_of(query)

    def loader(resources: Any, name: str) -> dict[str, Any]:
        return services.elo(resources, name, flt)

    return await _answer(request, f"elo:{flt.key()}", nickname, loader, PlayerElo)


@router.get(
    "/{nickname}/trends",
    response_model=PlayerTrends,
    summary="K/D, ADR, HS%, KPR, entry success and utility damage over time (rolling)",
    responses=FREE_ERRORS,
)
async def player_trends(
    nickname: Nickname,
    request: Request,
    user: CurrentUser,
    query: Annotated[TrendsQuery, Query()],
) -> Any:
    flt, window = filter_of(query), query.window

    def loader(resources: Any, name: str) -> dict[str, Any]:
        return services.trends(resources, name, window, flt)

    return await _answer(request, f"trends:{window}:{flt.key()}", nickname, loader, PlayerTrends)


@router.get(
    "/{nickname}/tilt",
    response_model=PlayerTilt,
    summary="Premium: streaks, and win rate and rating after losses in a row and within a session",
    description="Premium, like the tilt analysis on the app's Overview. The streaks alone are "
    "free: the player route's headline carries `current_streak` and `longest_win_streak`.",
    responses=PREMIUM_ERRORS,
)
async def player_tilt(
    nickname: Nickname,
    request: Request,
    user: PremiumUser,
    query: Annotated[TiltQuery, Query()],
) -> Any:
    flt, minutes = filter_of(query), query.session_minutes

    def loader(resources: Any, name: str) -> dict[str, Any]:
        return services.tilt(resources, name, minutes, flt)

    return await _answer(request, f"tilt:{minutes}:{flt.key()}", nickname, loader, PlayerTilt)


def _player_id(resources: ResourcesDep, nickname: str) -> str:
    try:
        return services._player(resources, nickname).id
    except services.UnknownPlayer as exc:
        raise _unknown(exc) from None


@router.get(
    "/{nickname}/playstyle",
    response_model=PlaystyleProfile,
    summary="Premium: role and playstyle profile, and the players who play most alike",
    responses=PREMIUM_ERRORS,
)
async def player_playstyle(
    nickname: Nickname, request: Request, resources: ResourcesDep, user: PremiumUser
) -> Any:
    player_id = await run_in_threadpool(_player_id, resources, nickname)
    models = get_models(request)
    return await run_analysis(
        request, lambda: analysis.playstyle_for(resources.sessions, models, player_id)
    )


@router.get(
    "/{nickname}/improvement",
    response_model=ImprovementPlan,
    summary="Premium: peer percentiles, win/loss drivers and an Elo forecast",
    responses=PREMIUM_ERRORS,
)
async def player_improvement(
    nickname: Nickname, request: Request, resources: ResourcesDep, user: PremiumUser
) -> Any:
    player_id = await run_in_threadpool(_player_id, resources, nickname)
    models = get_models(request)
    return await run_analysis(
        request, lambda: analysis.improvement_for(resources.sessions, models, player_id)
    )


@router.get(
    "/{nickname}/ratings",
    response_model=PlayerRatings,
    summary="Premium: 0-100 ratings (aim, utility, opening duels, clutching, support) against "
    "the players of the same level, each with its peer count",
    responses=PREMIUM_ERRORS,
)
async def player_ratings(
    nickname: Nickname, request: Request, resources: ResourcesDep, user: PremiumUser
) -> Any:
    player_id = await run_in_threadpool(_player_id, resources, nickname)
    return await run_analysis(request, lambda: ratings.ratings_for(resources.sessions, player_id))


@router.get(
    "/{nickname}/benchmarks",
    response_model=PeerBenchmarks,
    summary="Premium: percentiles of every peer stat among the players of the same level and "
    "region (else level), from the peer table, with the group used and its peer count",
    responses=PREMIUM_ERRORS,
)
async def player_benchmarks(
    nickname: Nickname, request: Request, resources: ResourcesDep, user: PremiumUser
) -> Any:
    player_id = await run_in_threadpool(_player_id, resources, nickname)
    return await run_analysis(request, lambda: peers.peer_benchmarks(resources.sessions, player_id))


@router.get(
    "/{nickname}/head-to-head/{other}",
    response_model=HeadToHead,
    summary="Premium: two players' record together and against each other, overall and per map",
    responses=PREMIUM_ERRORS,
)
async def player_head_to_head(
    nickname: Nickname,
    other: Annotated[
        Text,
        Path(
            min_length=1,
            max_length=64,
            json_schema_extra=TEXT_SCHEMA,
            description="The other player's FACEIT nickname",
            examples=["zywoo_fan"],
        ),
    ],
    request: Request,
    resources: ResourcesDep,
    user: PremiumUser,
) -> Any:
    return await run_analysis(
        request, lambda: head_to_head.head_to_head_for(resources.sessions, nickname, other)
    )


@router.get(
    "/{nickname}/teammates",
    response_model=Synergy,
    summary="Premium: win rate with each teammate against the player's other matches, with a "
    "verdict only when the difference is bigger than its noise",
    responses=PREMIUM_ERRORS,
)
async def player_teammates(
    nickname: Nickname, request: Request, resources: ResourcesDep, user: PremiumUser
) -> Any:
    player_id = await run_in_threadpool(_player_id, resources, nickname)
    return await run_analysis(
        request, lambda: head_to_head.synergy_for(resources.sessions, player_id)
    )
