"""POST /api/analysis/analyze (premium): win probability, per-map odds and veto advice."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Body, Request, Response
from starlette.concurrency import run_in_threadpool

from api import problems, services
from api.deps import PremiumUser, ResourcesDep, get_config, get_models
from api.problems import ApiProblem
from api.schemas import ANALYZE_EXAMPLES, AnalysisResult, AnalyzeRequest, MatchRequest
from models import analysis

# every route here takes CurrentUser or PremiumUser, which count the per-IP limit too
router = APIRouter(prefix="/api/analysis", tags=["analysis"])


def analysis_problem(exc: analysis.AnalysisError) -> ApiProblem:
    """404 for unknown players or matches, 503 before a model is trained, else 422."""
    message = str(exc)
    if isinstance(exc, analysis.UnknownSubject):
        return ApiProblem(404, message, "unknown-player-or-match")
    if isinstance(exc, analysis.ModelNotTrained):
        return ApiProblem(503, message, "model-not-trained", headers={"Retry-After": "3600"})
    return ApiProblem(422, message, "analysis-not-possible")


def _semaphore(request: Request) -> asyncio.Semaphore:
    semaphore: asyncio.Semaphore | None = getattr(request.app.state, "analysis_semaphore", None)
    if semaphore is None:
        semaphore = asyncio.Semaphore(get_config(request).analysis_concurrency)
        request.app.state.analysis_semaphore = semaphore
    return semaphore


async def run_analysis(request: Request, compute: Callable[[], Any]) -> Any:
    """Run a (CPU-heavy, blocking) analysis in a worker thread, a bounded number at a time."""
    async with _semaphore(request):
        try:
            result = await run_in_threadpool(compute)
        except analysis.AnalysisError as exc:
            raise analysis_problem(exc) from None
    if hasattr(result, "as_dict"):
        result = result.as_dict()
    return services.json_safe(result)


def _analysis_cache(request: Request) -> services.TTLCache:
    cache: services.TTLCache | None = getattr(request.app.state, "analysis_cache", None)
    if cache is None:
        cache = services.TTLCache(get_config(request).analysis_cache_seconds, max_entries=1024)
        request.app.state.analysis_cache = cache
        request.app.state.analysis_pending = {}
    return cache


async def cached_analysis(
    request: Request, key: tuple[Any, ...], compute: Callable[[], Any]
) -> Response:
    """The analysis for ``key`` as AnalysisResult JSON bytes, computed at most once per
    ``analysis_cache_seconds`` (the same question asked again within that time is answered from
    the process cache) and once for all concurrent identical requests. The caller has checked
    the user's premium access for this request already; only successful answers are kept."""
    cache = _analysis_cache(request)
    body: bytes | None = cache.get(key)
    if body is None:
        pending: dict[tuple[Any, ...], asyncio.Future[bytes]] = request.app.state.analysis_pending
        future = pending.get(key)
        if future is None:
            future = asyncio.get_running_loop().create_future()
            pending[key] = future
            try:
                result = await run_analysis(request, compute)
                body = AnalysisResult.model_validate(result).model_dump_json().encode()
                cache.set(key, body)
                future.set_result(body)
            except BaseException as exc:
                future.set_exception(exc)
                future.exception()  # retrieved: no "never retrieved" warning without waiters
                raise
            finally:
                pending.pop(key, None)
        else:
            body = await asyncio.shield(future)
    return Response(body, media_type="application/json")


@router.post(
    "/analyze",
    response_model=AnalysisResult,
    summary="Premium: win probability of two lineups (or a stored match), per map, with veto",
    responses=problems.responses(401, 403, 404, 413, 422, 429, 503),
)
async def analyze(
    body: Annotated[AnalyzeRequest, Body(openapi_examples=ANALYZE_EXAMPLES)],
    request: Request,
    resources: ResourcesDep,
    user: PremiumUser,
) -> Any:
    models = get_models(request)
    # the promoted model version in use (re-checked by the model cache at most every 30 s):
    # a promotion also retires the cached answers of the previous model
    version = models.match_outcome.version
    if isinstance(body, MatchRequest):
        match_id = body.match_id
        return await cached_analysis(
            request,
            ("match", match_id, version),
            lambda: analysis.analyze_match(resources.sessions, models, match_id),
        )
    lineup_a, lineup_b, map_name = list(body.lineup_a), list(body.lineup_b), body.map
    return await cached_analysis(
        request,
        ("lineups", tuple(lineup_a), tuple(lineup_b), map_name, version),
        lambda: analysis.analyze_lineups(
            resources.sessions, models, lineup_a, lineup_b, map_name=map_name
        ),
    )
