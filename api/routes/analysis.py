"""POST /api/analysis/analyze (premium): win probability, per-map odds and veto advice."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Request
from starlette.concurrency import run_in_threadpool

from api import problems, services
from api.deps import PremiumUser, ResourcesDep, get_config, get_models, limit_by_ip
from api.problems import ApiProblem
from api.schemas import ANALYZE_EXAMPLES, AnalysisResult, AnalyzeRequest, MatchRequest
from models import analysis

router = APIRouter(prefix="/api/analysis", tags=["analysis"], dependencies=[Depends(limit_by_ip)])


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
    if isinstance(body, MatchRequest):
        match_id = body.match_id
        return await run_analysis(
            request, lambda: analysis.analyze_match(resources.sessions, models, match_id)
        )
    lineup_a, lineup_b, map_name = list(body.lineup_a), list(body.lineup_b), body.map
    return await run_analysis(
        request,
        lambda: analysis.analyze_lineups(
            resources.sessions, models, lineup_a, lineup_b, map_name=map_name
        ),
    )
