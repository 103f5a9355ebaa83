"""One entry point for every output format."""

from __future__ import annotations

from typing import Literal

from mcpwarden.report.common import ToolInfo
from mcpwarden.report.jsonreport import build_json_report
from mcpwarden.report.redact import Redactor, default_redact, safe_json_dumps
from mcpwarden.report.sarif import sarif_log
from mcpwarden.report.table import render_table
from mcpwarden.types import ScanResult

Format = Literal["table", "json", "sarif"]
FORMATS: tuple[Format, ...] = ("table", "json", "sarif")


def render(
    result: ScanResult,
    fmt: Format,
    *,
    color: bool | None = None,
    width: int | None = None,
    redact: Redactor | None = None,
    tool: ToolInfo | None = None,
    base_dir: str | None = None,
) -> str:
    """Render a scan (or bare findings wrapped with `findings_only`) as text ending in a newline.

    `redact` masks secrets in single strings (command-line arguments, URLs, errors, stderr); the
    CLI passes the detection engine's masker, the default is a local heuristic. Env and header
    values are masked whatever `redact` does. `color`/`width` apply to `table` only (`color=None`
    means no colour); `base_dir` (absolute) makes SARIF file locations under it relative.
    """
    masker = redact or default_redact
    info = tool or ToolInfo()
    if fmt == "table":
        return render_table(result, color=color, width=width, redact=masker)
    if fmt == "json":
        return safe_json_dumps(build_json_report(result, tool=info, redact=masker))
    if fmt == "sarif":
        log = sarif_log(
            result.findings,
            tool=info,
            servers=result.servers,
            base_dir=base_dir,
            started_at=result.started_at,
            static=result.static,
            redact=masker,
        )
        return safe_json_dumps(log)
    raise ValueError(f"unknown report format {fmt!r} (one of: {', '.join(FORMATS)})")
