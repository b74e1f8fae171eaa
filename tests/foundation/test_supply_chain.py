"""The CI supply-chain gate (.ci/audit.py) reads pip-audit's JSON report the way CI relies on."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

AUDIT = Path(__file__).resolve().parents[2] / ".ci" / "audit.py"


def audit() -> ModuleType:
    spec = importlib.util.spec_from_file_location("ci_audit", AUDIT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def dep(name: str, version: str, *vulns: dict) -> dict:
    return {"name": name, "version": version, "vulns": list(vulns)}


def test_a_vulnerability_with_a_fixed_version_fails() -> None:
    report = {
        "dependencies": [
            dep("jinja2", "2.11.0", {"id": "PYSEC-2021-66", "fix_versions": ["2.11.3"]}),
            dep("httpx", "0.28.1"),
        ]
    }
    code, lines = audit().verdict(report)
    assert code == 1
    assert any("jinja2 2.11.0: PYSEC-2021-66 (fixed in 2.11.3)" in line for line in lines)


def test_a_vulnerability_without_a_fix_is_listed_but_passes() -> None:
    report = {"dependencies": [dep("pkg", "1.0", {"id": "GHSA-x", "fix_versions": []})]}
    code, lines = audit().verdict(report)
    assert code == 0 and any("no fixed version yet" in line for line in lines)


def test_an_unreachable_source_is_not_a_pass() -> None:
    # what pip-audit reports (and exits 0 on) when it cannot reach the vulnerability service
    skipped = [
        {"name": f"p{i}", "skip_reason": "Dependency not found on PyPI and could not be audited"}
        for i in range(10)
    ]
    code, lines = audit().verdict({"dependencies": skipped})
    assert code == audit().UNREACHABLE
    assert "unreachable" in lines[-1]


def test_clean_report_passes() -> None:
    code, _ = audit().verdict({"dependencies": [dep("a", "1"), dep("b", "2")]})
    assert code == 0
