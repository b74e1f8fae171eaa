"""Hostile text in every text field of every route, enumerated from the OpenAPI document: a NUL
byte or another control character is a 422 naming the field, never a 500 (issue 16 item 8:
PostgreSQL cannot store NUL, so the query failed with a traceback per request)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from apitest_helpers import Seeded, assert_problem, bearer, build_app, client, login

from tests.utils.openapi_text import alternatives, request_with, text_fields

HOSTILE = {"nul": "ab\x00cd", "escape": "ab\x1b[31mcd", "c1": "ab\x9bcd"}


@pytest.fixture
async def premium(seeded_postgresql: Seeded, tmp_path) -> Any:
    app = build_app(seeded_postgresql, tmp_path)
    async with client(app) as http:
        tokens = await login(http, seeded_postgresql.users["premium"])
        yield app, http, tokens["access_token"]


async def test_control_characters_in_every_text_field_are_422(premium) -> None:
    app, http, token = premium
    fields = text_fields(app.openapi())
    named = {(f.path, f.where, f.name) for f in fields}
    # the enumeration covers what a caller can type (so the test cannot pass on nothing)
    for expected in [
        ("/api/auth/login", "body", "username"),
        ("/api/auth/login", "body", "password"),
        ("/api/auth/refresh", "body", "refresh_token"),
        ("/api/analysis/analyze", "body", "lineup_a.0"),
        ("/api/analysis/analyze", "body", "lineup_b.0"),
        ("/api/analysis/analyze", "body", "match_id"),
        ("/api/players/{nickname}", "path", "nickname"),
        ("/api/players/{nickname}/improvement", "path", "nickname"),
        ("/api/players/{nickname}/matches", "query", "before"),
    ]:
        assert expected in named, expected
    failures = []
    for field in fields:
        for kind, value in HOSTILE.items():
            method, url, kwargs = request_with(field, value)
            answer = await http.request(method, url, headers=bearer(token), **kwargs)
            if answer.status_code != 422:
                failures.append((field.path, field.where, field.name, kind, answer.status_code))
                continue
            problem = assert_problem(answer, 422)
            located = {e["field"] for e in problem["errors"]}
            assert f"{field.where}.{field.name}" in located, (field, problem)
            if field.where == "body" or field.where == "path":
                assert "control characters" in problem["detail"], problem
    assert not failures, failures


async def test_valid_samples_are_accepted(premium) -> None:
    """The base requests of the test above are valid: only the hostile value makes the 422."""
    app, http, token = premium
    for field in text_fields(app.openapi()):
        value = "alpha" if field.where != "query" else "2025-06-01"
        method, url, kwargs = request_with(field, value)
        answer = await http.request(method, url, headers=bearer(token), **kwargs)
        assert answer.status_code != 422 or field.path == "/api/auth/refresh", (field, answer.text)


def test_openapi_refuses_what_the_api_refuses() -> None:
    """The document's patterns refuse blank names and control characters (issue 16 item 9: it
    accepted whitespace-only lineup names, which the API then answered 422)."""
    from api.main import create_app

    document = create_app().openapi()
    schemas = document["components"]["schemas"]
    for model, name in [("LineupsRequest", "lineup_a"), ("LineupsRequest", "lineup_b")]:
        item = schemas[model]["properties"][name]["items"]
        pattern = re.compile(item["pattern"])
        assert pattern.search("alpha") and pattern.search("  alpha beta ")
        for refused in ["", "   ", "\u2003", "al\x00pha", "a\tb"]:
            assert not pattern.search(refused), refused
    match_id = re.compile(schemas["MatchRequest"]["properties"]["match_id"]["pattern"])
    assert not match_id.search("   ")
    for field in text_fields(document):
        if field.where == "body":
            continue
        parameter = next(
            p
            for p in document["paths"][field.path][field.method]["parameters"]
            if p["name"] == field.name
        )
        (schema,) = alternatives(parameter["schema"], document)
        if schema.get("format") in {"date", "date-time"}:
            continue  # parsed as a date: a control character cannot pass
        assert not re.search(schema["pattern"], "a\x00b"), field
