"""Shared helpers of the demo-league tests (structure comparison, reference payloads)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx

from core.demo_league import League, create_app
from tests.utils.fixtures import FACEIT_PAYLOADS

BASE_URL = "https://open.faceit.com"
AUTH = {"Authorization": "Bearer demo-league"}


def reference_dir() -> Path:
    """The recorded FACEIT payloads (tests/fixtures/faceit/): the demo league's contract."""
    return FACEIT_PAYLOADS


def reference(name: str) -> Any:
    return json.loads((reference_dir() / name).read_text())


def assert_same_shape(
    ref: Any, got: Any, path: str = "$", optional: frozenset[str] = frozenset()
) -> None:
    """Recursively: same dict keys (minus ``optional`` ones the reference may carry), same value
    types, every list element shaped like the reference's first element."""
    if isinstance(ref, dict):
        assert isinstance(got, dict), f"{path}: expected object, got {type(got).__name__}"
        missing = set(ref) - set(got) - optional
        extra = set(got) - set(ref)
        assert not missing and not extra, f"{path}: missing {missing}, extra {extra}"
        for key in ref.keys() & got.keys():
            assert_same_shape(ref[key], got[key], f"{path}.{key}", optional)
    elif isinstance(ref, list):
        assert isinstance(got, list), f"{path}: expected array, got {type(got).__name__}"
        if ref:
            for i, item in enumerate(got):
                assert_same_shape(ref[0], item, f"{path}[{i}]", optional)
    else:
        assert type(got) is type(ref), f"{path}: {type(ref).__name__} != {type(got).__name__}"


def client(league: League, **kw: Any) -> httpx.AsyncClient:
    app = create_app(league, **kw)
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url=BASE_URL, headers=AUTH
    )
