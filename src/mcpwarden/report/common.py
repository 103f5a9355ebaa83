"""What every writer shares: who produced the report, finding order, severity counts."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from mcpwarden import __version__
from mcpwarden.types import Finding, ScanResult, ServerInventory, Severity

INFORMATION_URI = "https://github.com/mcpwarden/mcpwarden"


@dataclass(frozen=True)
class ToolInfo:
    """The program that produced a report (scanner, gateway and red team are all `mcpwarden`)."""

    name: str = "mcpwarden"
    version: str = __version__
    information_uri: str = INFORMATION_URI


def sort_findings(findings: Iterable[Finding]) -> list[Finding]:
    """Worst first, then by rule and place, so the same findings always print in the same order."""
    return sorted(
        findings,
        key=lambda f: (
            -int(f.severity),
            -int(f.confidence),
            f.rule_id,
            f.location.server or "",
            f.location.tool or "",
            f.location.pointer or "",
            f.location.file or "",
            f.location.line or 0,
            f.fingerprint,
        ),
    )


def severity_counts(findings: Sequence[Finding]) -> dict[str, int]:
    """Count per severity label, worst first, every severity present (zero included)."""
    counts = {s.label: 0 for s in sorted(Severity, reverse=True)}
    for finding in findings:
        counts[finding.severity.label] += 1
    return counts


def exit_code(findings: Sequence[Finding], fail_on: Severity | None) -> int:
    """1 when a finding at or above `fail_on` exists, else 0; `fail_on=None` never fails.

    Exit code 2 (usage or runtime error) belongs to the CLI, which knows why it stopped.
    """
    if fail_on is None:
        return 0
    return 1 if any(f.severity >= fail_on for f in findings) else 0


def findings_only(findings: Iterable[Finding]) -> ScanResult:
    """Wrap bare findings (gateway, red team) so every writer can take them."""
    return ScanResult(servers=(), findings=tuple(findings))


def known_line(line: int | None) -> int | None:
    """Line numbers are 1-based; 0 or less means a parser did not know it."""
    return line if line is not None and line >= 1 else None


def unreachable(servers: Sequence[ServerInventory], static: bool) -> int:
    """Servers that were meant to be contacted and could not be (none in a static scan)."""
    return 0 if static else sum(1 for s in servers if not s.ok)
