"""RFC 9457 problem-details responses."""

from __future__ import annotations

from fastapi.responses import JSONResponse

PROBLEM_BASE = "https://faceit-ai.invalid/problems/"


def problem(status: int, title: str, detail: str, slug: str = "about:blank") -> JSONResponse:
    kind = "about:blank" if slug == "about:blank" else PROBLEM_BASE + slug
    return JSONResponse(
        {"type": kind, "title": title, "status": status, "detail": detail},
        status_code=status,
        media_type="application/problem+json",
    )
