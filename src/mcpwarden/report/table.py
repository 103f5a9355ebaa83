"""The terminal report (Rich): one group per server, its findings worst first, then a summary.

Everything a server or config file supplied (names, errors, evidence, even messages that quote
them) is attacker-controlled. It is only ever put in `rich.text.Text` objects, never parsed as
markup, and passed through `printable` first, so neither Rich markup such as `[bold red]` nor raw
escape sequences or invisible characters in a tool description reach the terminal as such.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence

from rich.console import Console, Group, RenderableType
from rich.padding import Padding
from rich.table import Table
from rich.text import Text

from mcpwarden.report.common import known_line, severity_counts, sort_findings, unreachable
from mcpwarden.report.redact import Redactor, SecretScrubber, default_redact, printable
from mcpwarden.types import Confidence, DefinitionKind, Finding, Location, ScanResult, ServerInventory, Severity

SEVERITY_STYLES: dict[Severity, str] = {
    Severity.CRITICAL: "bold red",
    Severity.HIGH: "red",
    Severity.MEDIUM: "yellow",
    Severity.LOW: "cyan",
    Severity.INFO: "dim",
}
DEFAULT_WIDTH = 100

Clean = Callable[[str], str]


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def _location_text(location: Location, *, with_server: bool) -> str:
    parts: list[str] = []
    if with_server and location.server:
        parts.append(f"server {location.server}")
    if location.tool:
        parts.append(f"{(location.kind or 'tool').replace('_', ' ')} {location.tool}")
    if location.pointer:
        parts.append(location.pointer)
    if location.file:
        line = known_line(location.line)
        parts.append(f"{location.file}:{line}" if line else location.file)
    if location.key:
        parts.append(f"key {location.key}")
    return "  ".join(parts)


def _finding_rows(findings: Sequence[Finding], clean: Clean, *, with_server: bool) -> Table:
    grid = Table.grid(padding=(0, 1))
    grid.add_column(no_wrap=True, min_width=8)
    grid.add_column(overflow="fold")
    for i, finding in enumerate(sort_findings(findings)):
        if i:
            grid.add_row("", "")
        style = SEVERITY_STYLES[finding.severity]
        body = Text(overflow="fold")
        body.append(finding.rule_id, style="bold")
        body.append("  ")
        body.append(clean(finding.title), style="bold")
        if finding.confidence is not Confidence.HIGH:
            body.append(f"  (confidence {finding.confidence.label})", style="dim")
        where = _location_text(finding.location, with_server=with_server)
        if where:
            body.append("\n")
            body.append(clean(where), style="dim")
        if finding.message:
            body.append("\n" + clean(finding.message))
        if finding.evidence:
            body.append("\nevidence: ", style="dim")
            body.append(clean(finding.evidence))
        if finding.remediation:
            body.append("\nfix: ", style="dim")
            body.append(clean(finding.remediation))
        if finding.refs:
            body.append("\nrefs: " + clean(", ".join(finding.refs)), style="dim")
        grid.add_row(Text(finding.severity.label.upper(), style=style), body)
    return grid


_KINDS: tuple[tuple[DefinitionKind, str], ...] = (("tool", "tool"), ("prompt", "prompt"), ("resource", "resource"))


def _server_header(inventory: ServerInventory, static: bool, clean: Clean, redact: Redactor) -> Text:
    spec = inventory.spec
    header = Text(overflow="fold")
    header.append(clean(spec.name), style="bold")
    header.append(f"  {spec.transport}", style="dim")
    target = spec.url if spec.transport != "stdio" else spec.command
    if target:
        header.append("  " + clean(redact(target)), style="dim")
    header.append("  ")
    if static:
        header.append("not contacted (static scan)", style="dim")
    elif inventory.ok:
        header.append("ok", style="green")
        if inventory.protocol_version:
            header.append(f"  protocol {clean(inventory.protocol_version)}")
        counts = [_plural(len(inventory.of_kind(kind)), word) for kind, word in _KINDS]
        header.append("  " + ", ".join(counts))
    else:
        header.append("unreachable", style="bold red")
    for source in spec.sources:
        line = known_line(source.line)
        place = f"{source.path}:{line}" if line else source.path
        header.append(f"\n  {clean(source.client)}: {clean(place)}", style="dim")
    if not static and not inventory.ok:
        header.append("\n  error: ", style="red")
        header.append(clean(redact(inventory.error or "unknown error")))
    return header


def _summary(result: ScanResult) -> Text:
    text = Text(overflow="fold")
    parts: list[str] = []
    if result.servers:
        servers = _plural(len(result.servers), "server")
        if result.static:
            servers += " (static scan: not contacted)"
        else:
            down = unreachable(result.servers, result.static)
            if down:
                servers += f" ({down} unreachable)"
            tools = sum(len(s.of_kind("tool")) for s in result.servers)
            servers += ", " + _plural(tools, "tool")
        parts.append(servers)
    text.append(", ".join(parts) + (", " if parts else ""))
    if not result.findings:
        text.append("no findings", style="green")
        return text
    text.append(_plural(len(result.findings), "finding") + ": ")
    counts = [(Severity[label.upper()], n) for label, n in severity_counts(result.findings).items() if n]
    for i, (severity, count) in enumerate(counts):
        if i:
            text.append(", ")
        text.append(f"{count} {severity.label}", style=SEVERITY_STYLES[severity])
    return text


def table_renderables(result: ScanResult, *, redact: Redactor = default_redact) -> list[RenderableType]:
    """The report as Rich renderables, for callers that lay out their own screen."""
    scrub = SecretScrubber.for_servers(s.spec for s in result.servers)

    def clean(text: str) -> str:
        return printable(scrub(text))

    names = {s.spec.name for s in result.servers}
    by_server: dict[str, list[Finding]] = {}
    loose: list[Finding] = []
    for finding in result.findings:
        server = finding.location.server
        if server is not None and server in names:
            by_server.setdefault(server, []).append(finding)
        else:
            loose.append(finding)

    out: list[RenderableType] = []
    shown: set[str] = set()
    for inventory in result.servers:
        parts: list[RenderableType] = [_server_header(inventory, result.static, clean, redact)]
        # Two config entries may share a name; their findings are listed once, under the first.
        findings = [] if inventory.spec.name in shown else by_server.get(inventory.spec.name, [])
        shown.add(inventory.spec.name)
        if findings:
            parts.append(Padding(_finding_rows(findings, clean, with_server=False), (0, 0, 0, 2)))
        else:
            parts.append(Text("  no findings", style="dim"))
        out.append(Group(*parts))
        out.append(Text(""))
    if loose:
        title = "Findings not tied to one server" if result.servers else "Findings"
        out.append(Text(title, style="bold"))
        out.append(Padding(_finding_rows(loose, clean, with_server=True), (0, 0, 0, 2)))
        out.append(Text(""))
    out.append(_summary(result))
    return out


def print_table(result: ScanResult, console: Console, *, redact: Redactor = default_redact) -> None:
    """Print the report on `console`; colour, width and NO_COLOR are the console's business."""
    for renderable in table_renderables(result, redact=redact):
        console.print(renderable, highlight=False, markup=False, emoji=False)


def render_table(
    result: ScanResult, *, color: bool | None = None, width: int | None = None, redact: Redactor = default_redact
) -> str:
    """The table as a string. `color=None` means no colour: a string is headed for a file or a pipe."""
    buffer = io.StringIO()
    console = Console(
        file=buffer,
        width=width or DEFAULT_WIDTH,
        color_system="standard" if color else None,
        force_terminal=bool(color),
        no_color=not color,
        force_jupyter=False,
        force_interactive=False,
        legacy_windows=False,
        highlight=False,
        markup=False,
        emoji=False,
    )
    print_table(result, console, redact=redact)
    # Rich pads cells to the column width; trailing blanks only make diffs and files noisy.
    return "".join(line.rstrip(" ") + "\n" for line in buffer.getvalue().splitlines())
