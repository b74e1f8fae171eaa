"""The repository stands alone: a fresh clone, with nothing beside it, has every file it reads."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

from tests.utils.fixtures import FACEIT_PAYLOADS

REPO = Path(__file__).resolve().parents[2]
# a path out of the clone into the team's shared folder, however it is spelled
OUTSIDE = re.compile(r"\.\./shared\b|/work/shared\b|[\"']shared[\"']\s*/")


def tracked_files() -> list[Path]:
    listed = subprocess.run(
        ["git", "ls-files", "-z"], cwd=REPO, capture_output=True, check=True, text=True
    ).stdout
    return [REPO / name for name in listed.split("\0") if name]


def test_no_tracked_file_reaches_outside_the_repository() -> None:
    files = tracked_files()
    assert len(files) > 100, "git ls-files listed the repository"
    offenders = []
    for path in files:
        if path.resolve() == Path(__file__).resolve() or not path.is_file():
            continue
        text = path.read_bytes().decode("utf-8", errors="ignore")
        offenders += [
            f"{path.relative_to(REPO)}:{text.count(chr(10), 0, m.start()) + 1}: {m.group(0)}"
            for m in OUTSIDE.finditer(text)
        ]
    assert not offenders, "files that read outside the clone:\n" + "\n".join(offenders)


def test_the_guard_recognises_the_spellings_it_forbids() -> None:
    for spelling in ("../shared/DESIGN.md", "/work/shared/faceit-api", 'parent / "shared" / "x"'):
        assert OUTSIDE.search(spelling), spelling
    assert not OUTSIDE.search("one rate-limit budget shared by every worker")


def test_the_reference_payloads_are_inside_the_repository() -> None:
    names = {path.name for path in FACEIT_PAYLOADS.glob("*.json")}
    assert {"player.json", "match.json", "match_stats.json", "player_history.json"} <= names
    assert FACEIT_PAYLOADS.resolve().is_relative_to(REPO)
    tracked = {path.resolve() for path in tracked_files()}
    assert {path.resolve() for path in FACEIT_PAYLOADS.glob("*.json")} <= tracked
