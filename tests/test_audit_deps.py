"""The dependency audit gate (.ci/audit_deps.py): vulnerabilities fail, accepted ones pass with a note,
an unreachable vulnerability service warns loudly without failing, anything else fails."""
from __future__ import annotations

import importlib.util
import json
import subprocess

import pytest

from .conftest import ROOT


@pytest.fixture
def audit(monkeypatch):
    spec = importlib.util.spec_from_file_location("audit_deps", ROOT / ".ci" / "audit_deps.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)

    def answer(stdout: str = "", stderr: str = "", code: int = 0, accepted: dict | None = None):
        monkeypatch.setattr(module, "ACCEPTED", accepted or {})
        monkeypatch.setattr(module.subprocess, "run",
                            lambda cmd, **kw: subprocess.CompletedProcess(cmd, code, stdout, stderr))
        return module.main()
    return answer


VULN = {"id": "PYSEC-2099-1", "fix_versions": ["9.9"], "aliases": ["CVE-2099-1"], "description": "x"}


def report(*deps) -> str:
    return json.dumps({"dependencies": list(deps), "fixes": []})


def test_a_known_vulnerability_fails(audit, capsys):
    assert audit(report({"name": "flask", "version": "3.0.0", "vulns": [VULN]}), code=1) == 1
    assert "VULNERABLE flask 3.0.0: PYSEC-2099-1 (CVE-2099-1); fixed in: 9.9" in capsys.readouterr().out


def test_an_accepted_vulnerability_passes_and_is_named(audit, capsys):
    rc = audit(report({"name": "flask", "version": "3.0.0", "vulns": [VULN]}), code=1,
               accepted={"PYSEC-2099-1": "not reachable from kb"})
    assert rc == 0 and "accepted: PYSEC-2099-1" in capsys.readouterr().out


def test_clean_report_passes(audit, capsys):
    assert audit(report({"name": "flask", "version": "3.1.0", "vulns": []})) == 0
    assert "1 packages audited, no known vulnerabilities" in capsys.readouterr().out


def test_nothing_audited_is_a_loud_warning_not_a_pass(audit, capsys):
    skipped = {"name": "flask", "version": "3.1.0", "skip_reason": "Dependency not found on PyPI"}
    assert audit(report(skipped)) == 0
    err = capsys.readouterr().err
    assert "WARNING (pip-audit)" in err and "NOT audited" in err


def test_network_error_warns(audit, capsys):
    assert audit("", "requests.exceptions.ConnectionError: Max retries exceeded", code=1) == 0
    assert "could not be reached" in capsys.readouterr().err


def test_other_failures_fail(audit):
    assert audit("", "Traceback: KeyError 'x'", code=1) == 2
