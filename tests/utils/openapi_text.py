"""Every free-text field of every operation of an OpenAPI document (path and query parameters,
JSON body strings), each with a valid request around it: the hostile-input test of the API and
the attack bench (bench/attacks.py) put a NUL or another control character into each."""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote


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


def alternatives(schema: dict[str, Any], document: dict[str, Any]) -> list[dict[str, Any]]:
    schema = _resolve(schema, document)
    options = schema.get("oneOf") or schema.get("anyOf")
    if options:
        found = [_resolve(o, document) for o in options]
        return [o for o in found if o.get("type") != "null"]
    return [schema]


def _sample(schema: dict[str, Any], document: dict[str, Any]) -> Any:
    """A valid value for ``schema`` (the first alternative of a union)."""
    schema = alternatives(schema, document)[0]
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
    schema = alternatives(schema, document)[0]
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
                schemas = alternatives(parameter["schema"], document)
                # free text: a string the caller types (a choice of an enum is not one)
                if any(s.get("type") == "string" and "enum" not in s for s in schemas):
                    fields.append(Field(method, path, parameter["in"], parameter["name"], None))
            content = operation.get("requestBody", {}).get("content", {})
            if "application/json" not in content:
                continue
            for body_schema in alternatives(content["application/json"]["schema"], document):
                body = _sample(body_schema, document)
                for loc in _strings(body_schema, document):
                    fields.append(Field(method, path, "body", ".".join(map(str, loc)), (body, loc)))
    return fields


def request_with(field: Field, value: str) -> tuple[str, str, dict[str, Any]]:
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
