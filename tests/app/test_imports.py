"""The free pages open without loading the machine-learning stack (seconds of imports)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from app.navigation import PREMIUM_PAGES, PUBLIC_PAGES, PageSpec

ML = ("xgboost", "sklearn", "scipy")
APP = {"app.auth", "app.resources", "app.widgets", "app.present", "app.observability"}


def imported(lines: list[str]) -> set[str]:
    return {
        line.split()[1]
        for line in lines
        if line.startswith(("from core", "from models", "from app", "import "))
        and not line.startswith("import streamlit")
    }


def ml_loaded_by(modules: set[str]) -> list[str]:
    """The machine-learning libraries a fresh interpreter has loaded after importing ``modules``."""
    probe = (
        "import json, sys\n"
        + "".join(f"import {name}\n" for name in sorted(modules))
        + f"print(json.dumps([m for m in {ML!r} if m in sys.modules]))\n"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-2000:]
    return list(json.loads(result.stdout.strip().splitlines()[-1]))


def test_the_free_pages_import_no_machine_learning_library() -> None:
    # everything app/main.py and the free pages import, in a fresh interpreter
    modules = set(APP)
    for spec in PUBLIC_PAGES:
        modules |= imported(spec.path.read_text().splitlines())
    loaded = ml_loaded_by(modules)
    assert loaded == [], f"a free page imports {loaded}: only premium pages should"


@pytest.mark.parametrize("spec", PREMIUM_PAGES, ids=lambda spec: spec.path.stem)
def test_a_premium_pages_paywall_imports_no_machine_learning_library(spec: PageSpec) -> None:
    """A visitor or a free user who opens a premium page meets its gate (require_premium)
    before anything loads XGBoost: the paywall shows at once, not after seconds of imports."""
    lines = spec.path.read_text().splitlines()
    gate = next(i for i, line in enumerate(lines) if line.startswith("require_premium("))
    loaded = ml_loaded_by(APP | imported(lines[:gate]))
    assert loaded == [], f"{spec.path.name} imports {loaded} before its paywall"
