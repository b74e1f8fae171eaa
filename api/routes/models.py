"""GET /api/models/match-outcome (public): the match-outcome model's report and live record."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends
from starlette.concurrency import run_in_threadpool

from api import problems
from api.deps import ResourcesDep, limit_by_ip
from api.problems import ApiProblem
from api.schemas import ModelReport
from models.model_report import match_outcome_report

router = APIRouter(prefix="/api/models", tags=["models"], dependencies=[Depends(limit_by_ip)])


@router.get(
    "/match-outcome",
    response_model=ModelReport,
    responses=problems.responses(429, 503),
    summary="The match-outcome model's version, windows, scores, calibration and live record",
)
async def match_outcome(resources: ResourcesDep) -> Any:
    def load() -> dict[str, Any] | None:
        with resources.sessions() as session:
            return match_outcome_report(session)

    report = await run_in_threadpool(load)
    if report is None:
        raise ApiProblem(
            503,
            "No match-outcome model has been trained yet: an operator runs `faceit-ai train`.",
            "model-not-trained",
            headers={"Retry-After": "3600"},
        )
    return report
