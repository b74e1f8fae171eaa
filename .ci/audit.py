"""Supply-chain gate: pip-audit over the locked dependencies (uv.lock, exported).

    python .ci/audit.py            # exit 1 on a known vulnerability that has a fixed version

Exit codes: 0 clean (or only vulnerabilities without a fix yet, listed), 1 a fixable
vulnerability, 3 the vulnerability source could not be reached (most packages skipped by
pip-audit as "not found"): pip-audit itself exits 0 then, which would pass silently.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
UNREACHABLE = 3


def verdict(report: dict[str, Any]) -> tuple[int, list[str]]:
    """(exit code, lines to print) for a pip-audit JSON report."""
    deps = report.get("dependencies", [])
    audited = [d for d in deps if "skip_reason" not in d]
    skipped = [d for d in deps if "skip_reason" in d]
    lines: list[str] = []
    fixable = []
    for dep in audited:
        for vuln in dep.get("vulns", []):
            fixes = vuln.get("fix_versions") or []
            line = f"{dep['name']} {dep['version']}: {vuln['id']}"
            if fixes:
                fixable.append(f"{line} (fixed in {', '.join(fixes)})")
            else:
                lines.append(f"{line} (no fixed version yet)")
    if deps and len(skipped) > len(deps) // 2:
        lines.append(
            f"{len(skipped)} of {len(deps)} packages could not be audited "
            f"({skipped[0].get('skip_reason')}): the vulnerability source is unreachable"
        )
        return UNREACHABLE, lines + fixable
    if fixable:
        return 1, ["known vulnerabilities with a fixed version:", *fixable, *lines]
    return 0, [f"{len(audited)} locked packages audited, none with a fixable vulnerability", *lines]


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        requirements = Path(tmp) / "requirements.txt"
        uv = os.environ.get("UV", "uv").split()  # .ci/run: "uv" or "python3 -m uv"
        subprocess.run(
            [*uv, "export", "--frozen", "--format", "requirements-txt", "--no-hashes",
             "--no-emit-project", "--all-groups", "-o", str(requirements)],
            cwd=REPO, check=True, capture_output=True,
        )  # fmt: skip
        report_path = Path(tmp) / "audit.json"
        subprocess.run(
            [sys.executable, "-m", "pip_audit", "-r", str(requirements), "--no-deps",
             "--disable-pip", "--progress-spinner", "off", "-f", "json", "-o", str(report_path)],
            cwd=REPO, check=False, capture_output=True,
        )  # fmt: skip
        if not report_path.exists():
            print("pip-audit wrote no report")
            return UNREACHABLE
        code, lines = verdict(json.loads(report_path.read_text()))
    print("\n".join(lines))
    return code


if __name__ == "__main__":
    sys.exit(main())
