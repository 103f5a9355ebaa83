from __future__ import annotations

import ast
from pathlib import Path

import pytest

import mcpwarden.report
from mcpwarden.report import exit_code, sort_findings
from mcpwarden.types import Confidence, Severity

from .factories import config_finding, finding

C, H, M, L, N = Severity.CRITICAL, Severity.HIGH, Severity.MEDIUM, Severity.LOW, Severity.INFO


@pytest.mark.parametrize(
    ("severities", "fail_on", "expected"),
    [
        ((), H, 0),
        ((), None, 0),
        ((C, H), None, 0),
        ((M, L, N), H, 0),
        ((M, H), H, 1),
        ((C,), H, 1),
        ((N,), N, 1),
        ((L,), M, 0),
        ((M,), M, 1),
        ((H, N), C, 0),
        ((C, N), C, 1),
    ],
)
def test_exit_code(severities: tuple[Severity, ...], fail_on: Severity | None, expected: int) -> None:
    findings = [finding(f"MW3{i:02d}", s) for i, s in enumerate(severities)]
    assert exit_code(findings, fail_on) == expected


def test_sort_findings_puts_worst_first_then_most_confident() -> None:
    unsure_critical = finding("MW310", C, confidence=Confidence.LOW)
    sure_critical = finding("MW311", C)
    findings = [finding("MW300", N), config_finding(severity=M), unsure_critical, finding("MW305", H), sure_critical]
    ordered = sort_findings(findings)
    assert [f.severity for f in ordered] == sorted((f.severity for f in findings), reverse=True)
    assert ordered[:2] == [sure_critical, unsure_critical]


def test_report_imports_only_types_and_errors() -> None:
    allowed = ("mcpwarden.types", "mcpwarden.errors", "mcpwarden.report")
    package = Path(mcpwarden.report.__file__).parent
    for source in package.rglob("*.py"):
        for node in ast.walk(ast.parse(source.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("mcpwarden"):
                name = node.module
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names if a.name.startswith("mcpwarden")]
                assert all(n.startswith(allowed) for n in names), source
                continue
            else:
                continue
            # `from mcpwarden import __version__` reads the package version, nothing more.
            assert name == "mcpwarden" or name.startswith(allowed), f"{source.name} imports {name}"
