"""Report writers (table, JSON, SARIF) and the exit code, shared by scanner, gateway and red team.

Depends only on `mcpwarden.types`. Bare findings (gateway, red team) go through
`render(findings_only(findings), fmt)` or `sarif_log(findings, tool=...)`.
"""

from mcpwarden.report.common import ToolInfo, exit_code, findings_only, sort_findings
from mcpwarden.report.jsonreport import JSON_SCHEMA_VERSION, build_json_report, finding_to_dict, load_schema
from mcpwarden.report.redact import Redactor, default_redact, printable, redact_args
from mcpwarden.report.render import FORMATS, Format, render
from mcpwarden.report.sarif import sarif_log
from mcpwarden.report.table import print_table, render_table, table_renderables

__all__ = [
    "FORMATS",
    "JSON_SCHEMA_VERSION",
    "Format",
    "Redactor",
    "ToolInfo",
    "build_json_report",
    "default_redact",
    "exit_code",
    "finding_to_dict",
    "findings_only",
    "load_schema",
    "print_table",
    "printable",
    "redact_args",
    "render",
    "render_table",
    "sarif_log",
    "sort_findings",
    "table_renderables",
]
