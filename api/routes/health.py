"""Liveness probe: the process answers. It touches nothing else (no database, cache, thread
pool): a sick database must not make an orchestrator kill healthy API processes."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(tags=["health"])


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}
