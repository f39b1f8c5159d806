"""pip-audit over the installed dependencies, run by `make security` (part of `make test`).

Known vulnerabilities fail the run, except the accepted ones listed in ACCEPTED (each with its reason;
docs/security.md explains the policy). When PyPI's vulnerability data cannot be reached (no network, or a
mirror that serves packages but not the JSON API), nothing could be checked: that is printed as a loud
warning and the run goes on, so an offline CI run is not failed falsely -- and not reported as clean either.

Usage: .venv/bin/python .ci/audit_deps.py
"""
from __future__ import annotations

import json
import subprocess
import sys

# Vulnerability id (PYSEC-…, GHSA-…, CVE-…) -> why it is accepted for now. Keep it short and dated.
ACCEPTED: dict[str, str] = {}

NETWORK_WORDS = ("connection", "timed out", "timeout", "name resolution", "resolve", "unreachable",
                 "max retries", "ssl", "proxy", "temporary failure", "network")


def warn(message: str) -> None:
    bar = "!" * 78
    print(f"{bar}\nWARNING (pip-audit): {message}\n{bar}", file=sys.stderr)


def main() -> int:
    # Accepted ids are filtered here rather than with --ignore-vuln, so the report can still name them.
    cmd = [sys.executable, "-m", "pip_audit", "--progress-spinner", "off", "--format", "json", "--skip-editable"]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    try:
        report = json.loads(proc.stdout)
    except ValueError:
        err = (proc.stderr or proc.stdout).strip()
        if any(word in err.lower() for word in NETWORK_WORDS):
            warn("PyPI's vulnerability service could not be reached, so the dependencies were NOT audited.\n"
                 + err.splitlines()[-1][:300])
            return 0
        print(f"pip-audit failed (exit {proc.returncode}):\n{err[-2000:]}", file=sys.stderr)
        return 2
    deps = report.get("dependencies", [])
    audited = [d for d in deps if "skip_reason" not in d]
    skipped = [d for d in deps if "skip_reason" in d]
    found = [(d, v) for d in audited for v in d.get("vulns", []) if v.get("id") not in ACCEPTED]
    for dep, vuln in found:
        fixes = ", ".join(vuln.get("fix_versions") or []) or "no fixed release yet"
        aliases = ", ".join(vuln.get("aliases") or [])
        print(f"VULNERABLE {dep['name']} {dep['version']}: {vuln['id']} ({aliases}); fixed in: {fixes}")
    if found:
        print(f"pip-audit: {len(found)} known vulnerabilities in {len({d['name'] for d, _ in found})} packages. "
              "Upgrade them, or accept one with its reason in .ci/audit_deps.py ACCEPTED and docs/security.md.")
        return 1
    if skipped and not audited:
        warn(f"none of the {len(skipped)} installed packages could be looked up in PyPI's vulnerability data "
             f"(first reason: {skipped[0]['skip_reason']}). The dependencies were NOT audited.")
        return 0
    for dep in skipped:
        print(f"pip-audit: not audited: {dep['name']} ({dep['skip_reason']})", file=sys.stderr)
    accepted = [v["id"] for d in audited for v in d.get("vulns", []) if v.get("id") in ACCEPTED]
    print(f"pip-audit: {len(audited)} packages audited, no known vulnerabilities"
          + (f" (accepted: {', '.join(accepted)})" if accepted else "") + ".")
    return 0


if __name__ == "__main__":
    sys.exit(main())
