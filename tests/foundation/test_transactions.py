"""The transaction convention of core/db (its module docstring): front doors never commit."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
FRONT_DOORS = ("app", "api", "pipelines")
# the app's logout still writes its audit row itself; the rule moves into core.auth (issue 11,
# item 6), after which this list is empty
NOT_YET = {"app/auth.py"}


def transaction_calls(path: Path, root: Path = REPO) -> list[str]:
    calls = []
    for node in ast.walk(ast.parse(path.read_text())):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in {"commit", "rollback"}
        ):
            calls.append(f"{path.relative_to(root)}:{node.lineno}: .{node.func.attr}()")
    return calls


@pytest.mark.parametrize("folder", FRONT_DOORS)
def test_front_doors_leave_commits_to_services(folder: str) -> None:
    found = [
        call
        for path in sorted((REPO / folder).rglob("*.py"))
        if path.relative_to(REPO).as_posix() not in NOT_YET
        for call in transaction_calls(path)
    ]
    assert not found, "use a core service or core.db.transaction(sessions):\n" + "\n".join(found)


def test_the_guard_sees_a_commit(tmp_path: Path) -> None:
    source = tmp_path / "page.py"
    source.write_text("def f(session):\n    session.commit()\n    session.rollback()\n")
    assert transaction_calls(source, tmp_path) == ["page.py:2: .commit()", "page.py:3: .rollback()"]
