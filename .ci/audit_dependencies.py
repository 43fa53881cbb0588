#!/usr/bin/env python3
"""Audit the pinned dependencies (requirements.lock) with pip-audit, and say plainly what was and was not checked.

pip-audit prints "No known vulnerabilities found" even when its vulnerability service answered for none of the
packages (no network, a mirror that is not PyPI: every package is "skipped"). This wrapper reads its JSON instead:

- vulnerabilities found: they are listed and the exit code is 1 (CI fails);
- every package checked, none vulnerable: "no known vulnerabilities in N packages", exit 0;
- some or all packages could not be checked, or pip-audit could not run at all: says so, with the reason, and
  exits 0; the check never fails CI for being unreachable, and never claims a result it does not have.

Usage: python .ci/audit_dependencies.py [requirements.lock] [--service pypi|osv]
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


@dataclass
class Verdict:
    exit_code: int
    lines: list[str]


def judge(returncode: int, stdout: str, stderr: str = "") -> Verdict:
    """What pip-audit's exit code and JSON output mean (pure, so it is tested without a network)."""
    try:
        report = json.loads(stdout)
        dependencies = report["dependencies"]
    except (ValueError, KeyError, TypeError):
        last = (stderr.strip().splitlines() or ["no output"])[-1]
        return Verdict(0, [f"Dependency audit could not run (pip-audit exit code {returncode}): {last}", _NOT_CHECKED])
    checked = [d for d in dependencies if "skip_reason" not in d]
    skipped = [d for d in dependencies if "skip_reason" in d]
    vulnerable = [d for d in checked if d.get("vulns")]
    lines = []
    for dep in vulnerable:
        for vuln in dep["vulns"]:
            fixed = ", ".join(vuln.get("fix_versions") or []) or "no fixed version yet"
            lines.append(
                f"VULNERABLE {dep['name']} {dep.get('version', '?')}: {vuln.get('id', '?')} (fixed in {fixed})"
            )
    if vulnerable:
        lines.append(f"{len(vulnerable)} of {len(checked)} checked packages have known vulnerabilities.")
    elif checked:
        lines.append(f"No known vulnerabilities in the {len(checked)} packages that were checked.")
    if skipped:
        reasons = Counter(_reason(d["skip_reason"]) for d in skipped)
        summary = "; ".join(f"{n} x {reason}" for reason, n in reasons.most_common(3))
        if not checked:
            lines.append(f"Dependency audit could not check any of the {len(skipped)} packages ({summary}).")
            lines.append(_NOT_CHECKED)
        else:
            lines.append(f"{len(skipped)} packages could not be checked ({summary}).")
    if not dependencies:
        lines.append("Dependency audit found no packages to check.")
    return Verdict(1 if vulnerable else 0, lines)


_NOT_CHECKED = "Nothing is known about vulnerabilities: run it again where the vulnerability service is reachable."


def _reason(skip_reason: str) -> str:
    # "Dependency not found on PyPI and could not be audited: django (5.2.1)" -> the part before the package
    return skip_reason.split(":")[0].strip()


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("requirements", nargs="?", default=str(ROOT / "requirements.lock"))
    parser.add_argument("--service", default="pypi", choices=("pypi", "osv"))
    parser.add_argument("--timeout", type=int, default=300)
    args = parser.parse_args(argv)
    pip_audit = shutil.which("pip-audit", path=str(Path(sys.executable).parent)) or shutil.which("pip-audit")
    if pip_audit is None:
        print("Dependency audit could not run: pip-audit is not installed (it is in the dev extra).")
        print(_NOT_CHECKED)
        return 0
    command = [pip_audit, "--requirement", args.requirements, "--format", "json", "--no-deps", "--disable-pip"]
    command += ["--vulnerability-service", args.service, "--progress-spinner", "off"]
    try:
        result = subprocess.run(command, capture_output=True, text=True, timeout=args.timeout)
    except subprocess.TimeoutExpired:
        print(f"Dependency audit could not run: pip-audit took longer than {args.timeout} s.")
        print(_NOT_CHECKED)
        return 0
    verdict = judge(result.returncode, result.stdout, result.stderr)
    print("\n".join(verdict.lines))
    return verdict.exit_code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
