"""The free pages open without loading the machine-learning stack (seconds of imports)."""

from __future__ import annotations

import json
import subprocess
import sys

from app.navigation import PUBLIC_PAGES

ML = ("xgboost", "sklearn", "scipy")


def test_the_free_pages_import_no_machine_learning_library() -> None:
    # everything app/main.py and the free pages import, in a fresh interpreter
    modules = {"app.auth", "app.resources", "app.widgets", "app.present"}
    for spec in PUBLIC_PAGES:
        for line in spec.path.read_text().splitlines():
            if line.startswith(("from core", "from models", "from app")):
                modules.add(line.split()[1])
    probe = (
        "import json, sys\n"
        + "".join(f"import {name}\n" for name in sorted(modules))
        + f"print(json.dumps([m for m in {ML!r} if m in sys.modules]))\n"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-2000:]
    loaded = json.loads(result.stdout.strip().splitlines()[-1])
    assert loaded == [], f"a free page imports {loaded}: only premium pages should"
