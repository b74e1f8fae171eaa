"""Hostile text in every text field of every route, enumerated from the OpenAPI document: a NUL
byte or another control character is a 422 naming the field, never a 500 (issue 16 item 8:
PostgreSQL cannot store NUL, so the query failed with a traceback per request)."""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import pytest
from apitest_helpers import Seeded, assert_problem, bearer, build_app, client, login

HOSTILE = {"nul": "ab\x00cd", "escape": "ab\x1b[31mcd", "c1": "ab\x9bcd"}


@dataclass
class Field:
    """One text field of one operation: where it is (body path, or a path/query parameter)."""

    method: str
    path: str
    where: str  # "body", "path" or "query"
    name: str  # the parameter name, or the body location such as "lineup_a.0"
    body: Any  # a valid body to put the hostile value into


def _resolve(schema: dict[str, Any], document: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        target: Any = document
        for part in schema["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        schema = target
    return schema


def _alternatives(schema: dict[str, Any], document: dict[str, Any]) -> list[dict[str, Any]]:
    schema = _resolve(schema, document)
    options = schema.get("oneOf") or schema.get("anyOf")
    if options:
        found = [_resolve(o, document) for o in options]
        return [o for o in found if o.get("type") != "null"]
    return [schema]


def _sample(schema: dict[str, Any], document: dict[str, Any]) -> Any:
    """A valid value for ``schema`` (the first alternative of a union)."""
    schema = _alternatives(schema, document)[0]
    if "enum" in schema:
        return schema["enum"][0]
    kind = schema.get("type")
    if kind == "object":
        return {
            name: _sample(sub, document)
            for name, sub in schema.get("properties", {}).items()
            if name in schema.get("required", [])
        }
    if kind == "array":
        return [_sample(schema["items"], document)]
    if kind == "string":
        return "2025-06-01T18:30:00Z" if schema.get("format") == "date-time" else "x"
    if kind in {"integer", "number"}:
        return schema.get("minimum", 1)
    if kind == "boolean":
        return True
    return None


def _strings(
    schema: dict[str, Any], document: dict[str, Any], prefix: tuple[str | int, ...] = ()
) -> list[tuple[str | int, ...]]:
    """The locations of every free-text string inside a body of ``schema``."""
    schema = _alternatives(schema, document)[0]
    kind = schema.get("type")
    if kind == "object":
        return [
            loc
            for name, sub in schema.get("properties", {}).items()
            for loc in _strings(sub, document, (*prefix, name))
        ]
    if kind == "array":
        return _strings(schema["items"], document, (*prefix, 0))
    if kind == "string" and "enum" not in schema:
        return [prefix]
    return []


def text_fields(document: dict[str, Any]) -> list[Field]:
    fields = []
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            for parameter in operation.get("parameters", []):
                if parameter["in"] not in {"path", "query"}:
                    continue  # headers: HTTP itself refuses control characters there
                schemas = _alternatives(parameter["schema"], document)
                if any(s.get("type") == "string" for s in schemas):
                    fields.append(Field(method, path, parameter["in"], parameter["name"], None))
            content = operation.get("requestBody", {}).get("content", {})
            if "application/json" not in content:
                continue
            for body_schema in _alternatives(content["application/json"]["schema"], document):
                body = _sample(body_schema, document)
                for loc in _strings(body_schema, document):
                    fields.append(Field(method, path, "body", ".".join(map(str, loc)), (body, loc)))
    return fields


def _request(field: Field, value: str) -> tuple[str, str, dict[str, Any]]:
    """(method, url, httpx keyword arguments) with ``value`` in ``field``, valid elsewhere."""
    params = re.findall(r"{(\w+)}", field.path)
    url = field.path
    for name in params:
        url = url.replace(
            "{" + name + "}", quote(value if field.where == "path" and name == field.name else "x")
        )
    kwargs: dict[str, Any] = {}
    if field.where == "query":
        kwargs["params"] = {field.name: value}
    if field.where == "body":
        body, loc = field.body
        body = copy.deepcopy(body)
        target = body
        for part in loc[:-1]:
            target = target[part]
        target[loc[-1]] = value
        kwargs["json"] = body
    return field.method.upper(), url, kwargs


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
            method, url, kwargs = _request(field, value)
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
        method, url, kwargs = _request(field, "alpha" if field.where != "query" else "2025-06-01")
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
        (schema,) = _alternatives(parameter["schema"], document)
        if schema.get("format") == "date-time":
            continue
        assert not re.search(schema["pattern"], "a\x00b"), field
