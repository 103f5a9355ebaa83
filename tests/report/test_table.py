from __future__ import annotations

import io
import re

import pytest
from rich.color import ColorSystem
from rich.console import Console
from rich.style import Style

from mcpwarden.report import findings_only, print_table, render
from mcpwarden.report.table import SEVERITY_STYLES
from mcpwarden.types import ScanResult, Severity

from .factories import config_finding, finding, full_scan, scan, stdio_server

HOSTILE_EVIDENCE = "[bold red]PWNED[/bold red] \x1b[31mEVIL\x1b[0m zero\u200bwidth \u202eflip :smile:"
COLOUR_SGR = re.compile(r"\x1b\[[0-9;]*(?:3[0-9]|9[0-7]|4[0-9])[0-9;]*m")


def _hostile_scan() -> ScanResult:
    server = stdio_server("evil\x1b]0;title\x07[blink]srv[/blink]", error=None)
    return scan(server, findings=(finding(server=server.spec.name, evidence=HOSTILE_EVIDENCE),))


@pytest.mark.parametrize("color", [True, False])
def test_hostile_evidence_is_shown_literally_never_interpreted(color: bool) -> None:
    out = render(_hostile_scan(), "table", color=color, width=200)
    assert "[bold red]PWNED[/bold red]" in out
    assert "[blink]srv[/blink]" in out
    assert ":smile:" in out
    assert "\\u{1B}[31mEVIL" in out
    assert "zero\\u{200B}width" in out
    assert "\\u{202E}flip" in out
    for raw in ("\x1b[31mEVIL", "\u200b", "\u202e", "\x1b]0;", "\x07"):
        assert raw not in out
    if not color:
        assert "\x1b" not in out


def test_recorded_console_exports_the_evidence_as_text() -> None:
    console = Console(record=True, file=io.StringIO(), force_terminal=True, color_system="truecolor", width=160)
    print_table(_hostile_scan(), console)
    exported = console.export_text(styles=False)
    assert "[bold red]PWNED[/bold red]" in exported
    assert "\x1b" not in exported


def test_groups_findings_under_their_server_and_loose_ones_apart() -> None:
    out = render(full_scan(), "table", width=120)
    github, remote, broken = out.index("github  stdio"), out.index("remote  http"), out.index("broken  stdio")
    loose = out.index("Findings not tied to one server")
    assert github < out.index("MW301") < out.index("MW302") < remote
    assert remote < out.index("MW303") < broken
    assert loose < out.index("MW101")
    assert "claude-desktop: /home/u/.config/Claude/claude_desktop_config.json:4" in out
    assert "protocol 2025-06-18" in out
    assert "unreachable" in out[broken:loose]
    assert "error: process exited with code 1" in out


def test_findings_within_a_server_are_worst_first() -> None:
    out = render(full_scan(), "table", width=120)
    assert out.index("CRITICAL") < out.index("HIGH ") < out.index("LOW ")


def test_summary_line() -> None:
    lines = render(full_scan(), "table", width=200).strip().splitlines()
    assert lines[-1] == "3 servers (1 unreachable), 3 tools, 6 findings: 1 critical, 1 high, 2 medium, 1 low, 1 info"


@pytest.mark.parametrize(
    ("result", "summary"),
    [
        (scan(stdio_server("a"), stdio_server("b", tools=("x",))), "2 servers, 3 tools, no findings"),
        (scan(stdio_server("a"), static=True), "1 server (static scan: not contacted), no findings"),
        (findings_only([config_finding()]), "1 finding: 1 medium"),
    ],
)
def test_summary_variants(result: ScanResult, summary: str) -> None:
    assert render(result, "table").strip().splitlines()[-1] == summary


def test_static_scan_says_not_contacted_rather_than_unreachable() -> None:
    out = render(scan(stdio_server("a", ok=False), static=True), "table")
    assert "not contacted" in out
    assert "unreachable" not in out


@pytest.mark.parametrize("width", [40, 60, 100])
def test_narrow_terminals_wrap_within_the_width(width: int) -> None:
    out = render(full_scan(), "table", width=width)
    assert max(len(line) for line in out.splitlines()) <= width
    for rule_id in ("MW301", "MW302", "MW303", "MW201", "MW202", "MW101"):
        assert rule_id in out


@pytest.mark.parametrize("severity", list(Severity))
def test_severity_label_is_coloured(severity: Severity) -> None:
    label = severity.label.upper()
    styled = Style.parse(SEVERITY_STYLES[severity]).render(label, color_system=ColorSystem.STANDARD)
    styled = styled[: styled.index(label) + len(label)]  # the cell pads the label before the reset
    result = findings_only([finding(severity=severity)])
    assert styled in render(result, "table", color=True)
    assert styled not in render(result, "table", color=False)


def test_print_table_honours_no_color(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    buffer = io.StringIO()
    print_table(full_scan(), Console(file=buffer, force_terminal=True, width=100))
    out = buffer.getvalue()
    assert "CRITICAL" in out
    assert not COLOUR_SGR.search(out)


def test_print_table_on_a_pipe_writes_no_escape_codes() -> None:
    buffer = io.StringIO()
    print_table(full_scan(), Console(file=buffer, width=100))
    assert "\x1b" not in buffer.getvalue()
    assert "MW301" in buffer.getvalue()
