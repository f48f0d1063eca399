"""The verdict of deploy/audit-deps.sh on one pip-audit run (its JSON report, its stderr, its status).

pip-audit without --strict reports "No known vulnerabilities found" and exits 0 even when the
service answered for none of the packages (each then carries a `skip_reason`): that must not read
as a pass, so the verdict counts what was really checked.
  python deploy/audit_verdict.py REPORT.json STDERR.txt PIP_AUDIT_STATUS
Exit status: 0 all checked and clean, 1 a known vulnerability or a pip-audit failure, 75 the
vulnerability service could not be asked for some or all packages.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

EX_UNAVAILABLE = 75
#: Words of a failure to reach the service (requests/urllib3 errors in pip-audit's traceback).
UNREACHABLE_MARKERS = ("ConnectionError", "NameResolutionError", "ConnectTimeout", "ReadTimeout",
                       "Max retries exceeded", "SSLError", "ServiceError")


def verdict(report_text: str, stderr: str, status: int) -> tuple[int, list[str]]:
    try:
        report = json.loads(report_text)
        dependencies = report["dependencies"]
    except (ValueError, KeyError, TypeError):
        tail = [line for line in stderr.splitlines() if line.strip()][-1:] or [f"pip-audit exited {status}"]
        if any(marker in stderr for marker in UNREACHABLE_MARKERS):
            return EX_UNAVAILABLE, [f"ci: dependency audit skipped: vulnerability service unreachable ({tail[0][:300]})"]
        return 1, [f"ci: dependency audit FAILED: pip-audit gave no report ({tail[0][:300]})"]

    lines = []
    vulnerable = [d for d in dependencies if d.get("vulns")]
    for dep in vulnerable:
        for vuln in dep["vulns"]:
            fix = ", ".join(vuln.get("fix_versions") or []) or "no fixed release yet"
            lines.append(f"ci: dependency audit: {dep['name']} {dep.get('version', '?')}: {vuln['id']} "
                         f"(fixed in: {fix})")
    if vulnerable:
        lines.append("ci: dependency audit FAILED: raise the lock (README \"Dependency audit\"), or accept "
                     "the vulnerability in deploy/pip-audit-ignore.txt with its reason")
        return 1, lines
    skipped = [d for d in dependencies if d.get("skip_reason")]
    if skipped or not dependencies:
        example = skipped[0]["skip_reason"] if skipped else "no package in the report"
        return EX_UNAVAILABLE, [f"ci: dependency audit incomplete: {len(skipped)} of {len(dependencies)} locked "
                                f"packages could not be checked by the vulnerability service (e.g. {example})"]
    if status != 0:
        return 1, [f"ci: dependency audit FAILED: pip-audit exited {status} without naming a vulnerability"]
    return 0, [f"ci: dependency audit: {len(dependencies)} locked packages, no known vulnerability"]


def main(argv: list[str]) -> int:
    report_path, stderr_path, status = argv[1], argv[2], int(argv[3])
    report = Path(report_path).read_text() if Path(report_path).exists() else ""
    code, lines = verdict(report, Path(stderr_path).read_text(), status)
    for line in lines:
        print(line, flush=True)
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv))
