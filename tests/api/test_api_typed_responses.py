"""The OpenAPI document describes every premium response field by field: no free-form object
anywhere in a premium route's 200 schema, and the API's types are the services' own."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from api.main import create_app
from api.schemas import AnalysisResult
from models.analysis import LineupAnalysis

OPENAPI = create_app().openapi()
PREMIUM = [
    (path, method, op)
    for path, item in OPENAPI["paths"].items()
    for method, op in item.items()
    if "403" in op.get("responses", {}) and path.startswith("/api/")
]


def resolve(schema: dict[str, Any]) -> dict[str, Any]:
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        return OPENAPI["components"]["schemas"][name]
    return schema


def free_form(schema: dict[str, Any], where: str, seen: set[str]) -> list[str]:
    """Places in ``schema`` that accept any object or any value."""
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        if name in seen:
            return []
        seen.add(name)
        return free_form(resolve(schema), name, seen)
    found: list[str] = []
    if not schema:
        return [where]
    for key in ("anyOf", "oneOf", "allOf"):
        for i, part in enumerate(schema.get(key, [])):
            found += free_form(part, f"{where}[{i}]", seen)
    if schema.get("type") == "object" or "properties" in schema:
        extra = schema.get("additionalProperties")
        if extra is True or (extra is None and "properties" not in schema):
            found.append(where)
        elif isinstance(extra, dict):
            found += free_form(extra, f"{where}.*", seen)
        for name, prop in schema.get("properties", {}).items():
            found += free_form(prop, f"{where}.{name}", seen)
    if schema.get("type") == "array":
        found += free_form(schema.get("items", {}), f"{where}[]", seen)
    return found


def test_the_premium_routes_are_found() -> None:
    paths = {path for path, _, _ in PREMIUM}
    assert {"/api/analysis/analyze", "/api/players/{nickname}/playstyle"} <= paths
    assert "/api/players/{nickname}/improvement" in paths


@pytest.mark.parametrize(("path", "method", "op"), PREMIUM, ids=[f"{m} {p}" for p, m, _ in PREMIUM])
def test_every_premium_response_is_typed(path: str, method: str, op: dict[str, Any]) -> None:
    schema = op["responses"]["200"]["content"]["application/json"]["schema"]
    assert resolve(schema).get("properties"), f"{method} {path} has no typed response"
    assert free_form(schema, f"{method} {path}", set()) == []


def test_the_analysis_response_matches_the_service_field_by_field() -> None:
    service = [f.name for f in dataclasses.fields(LineupAnalysis)]
    assert list(AnalysisResult.model_fields) == service
