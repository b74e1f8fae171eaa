"""The app's navigation (app/navigation.py): complete, importable, and the one list of pages."""

from __future__ import annotations

import ast
import re
import subprocess
import sys

import pytest

from app import navigation
from app.navigation import ALL_PAGES, PageSpec, sections

REPO = navigation.APP_DIR.parent


@pytest.mark.parametrize("spec", ALL_PAGES, ids=lambda spec: spec.file)
def test_every_listed_page_file_exists(spec: PageSpec) -> None:
    assert spec.path.is_file(), f"{spec.title!r} is in the navigation but {spec.file} is missing"


def test_every_page_file_is_listed_once() -> None:
    listed = [spec.path for spec in ALL_PAGES]
    assert len(listed) == len(set(listed)), "a page is listed twice"
    on_disk = {path.resolve() for path in navigation.VIEWS_DIR.glob("*.py")}
    assert on_disk == set(listed), (
        f"not in the navigation: {sorted(p.name for p in on_disk - set(listed))}"
    )
    assert len({spec.title for spec in ALL_PAGES}) == len(ALL_PAGES), "two pages share a title"


def test_page_links_in_the_app_point_at_listed_pages() -> None:
    """st.switch_page / st.page_link targets written as strings name a page of the navigation."""
    files = {spec.file for spec in ALL_PAGES}
    for path in navigation.APP_DIR.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                for target in re.findall(r"views/\w+\.py", node.value):
                    assert target in files, f"{path.relative_to(REPO)} links to {target}"


@pytest.mark.parametrize("role", [None, "free", "premium"])
def test_everyone_but_admins_sees_players_premium_and_account(role: str | None) -> None:
    menu = sections(role)
    assert list(menu) == ["Players", "Premium", "Account"]
    assert [spec.title for spec in menu["Premium"]] == [
        "Match predictor",
        "Map veto",
        "Playstyle",
        "Improvement plan",
        "Scouting",
    ]
    assert menu["Players"][0].title == "Home"  # the default page
    assert all(spec not in navigation.ADMIN_PAGES for specs in menu.values() for spec in specs)


def test_admins_also_see_the_admin_section() -> None:
    menu = sections("admin")
    assert list(menu) == ["Players", "Premium", "Account", "Admin"]
    assert menu["Admin"] == navigation.ADMIN_PAGES


def test_importing_the_navigation_runs_no_streamlit() -> None:
    code = "import sys, app.navigation; print(sorted(m for m in sys.modules if 'streamlit' in m))"
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"
