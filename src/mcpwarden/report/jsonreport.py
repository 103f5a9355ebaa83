"""The JSON report: a documented, versioned document (schema in `schema/scan-report.schema.json`).

Bump `JSON_SCHEMA_VERSION` on any change a consumer could notice: minor for added fields,
major for removed or changed ones. `docs/report-format.md` describes every field.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from importlib import resources
from typing import Any

from mcpwarden.report.common import ToolInfo, known_line, severity_counts, sort_findings, unreachable
from mcpwarden.report.redact import Redactor, SecretScrubber, mask_mapping, redact_args
from mcpwarden.types import (
    DefinitionKind,
    Finding,
    Location,
    ScanResult,
    ServerInventory,
    ToolDef,
    definition_hash,
    max_severity,
)

JSON_SCHEMA_VERSION = "1.0"
SCHEMA_RESOURCE = "scan-report.schema.json"
STDERR_LIMIT = 4000

_KIND_KEYS: tuple[tuple[DefinitionKind, str], ...] = (
    ("tool", "tools"),
    ("prompt", "prompts"),
    ("resource", "resources"),
    ("resource_template", "resource_templates"),
)


def load_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of the report, as shipped in the package."""
    text = resources.files("mcpwarden.report").joinpath("schema", SCHEMA_RESOURCE).read_text(encoding="utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


def _plain(value: Any) -> Any:
    """Server-supplied data as strict JSON: a hostile server must not make the report unwritable."""
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


def _hash(definition: ToolDef) -> str:
    try:
        return definition.hash
    except ValueError:
        # NaN/Infinity (accepted by Python's JSON parser) cannot be canonicalised: hash the
        # report's own strict-JSON form so one odd definition does not cost the whole report.
        return definition_hash(_plain(definition.definition))


def location_to_dict(location: Location) -> dict[str, Any]:
    """Every location field, `null` when not known, so consumers never test for missing keys."""
    return {
        "server": location.server,
        "kind": location.kind,
        "tool": location.tool,
        "pointer": location.pointer,
        "file": location.file,
        "line": known_line(location.line),
        "key": location.key,
    }


def finding_to_dict(finding: Finding) -> dict[str, Any]:
    """One finding as the JSON report writes it."""
    return {
        "rule_id": finding.rule_id,
        "title": finding.title,
        "severity": finding.severity.label,
        "confidence": finding.confidence.label,
        "location": location_to_dict(finding.location),
        "message": finding.message,
        "evidence": finding.evidence,
        "remediation": finding.remediation,
        "refs": list(finding.refs),
        "fingerprint": finding.fingerprint,
    }


def server_to_dict(inventory: ServerInventory, redact: Redactor) -> dict[str, Any]:
    """One server: its configuration with secrets masked, and what it exposed."""
    spec = inventory.spec
    stderr = inventory.stderr
    doc: dict[str, Any] = {
        "name": spec.name,
        "transport": spec.transport,
        "command": redact(spec.command) if spec.command is not None else None,
        "args": redact_args(spec.args, redact),
        "env": mask_mapping(spec.env),
        "cwd": spec.cwd,
        "url": redact(spec.url) if spec.url is not None else None,
        "headers": mask_mapping(spec.headers),
        "sources": [
            {"client": s.client, "path": s.path, "key": s.key, "line": known_line(s.line), "scope": s.scope}
            for s in spec.sources
        ],
        "ok": inventory.ok,
        "error": redact(inventory.error) if inventory.error is not None else None,
        "protocol_version": inventory.protocol_version,
        "server_info": _plain(inventory.server_info),
        "capabilities": _plain(inventory.capabilities),
        "instructions": inventory.instructions,
        "authenticated": inventory.authenticated,
        "duration_s": inventory.duration_s,
    }
    for kind, key in _KIND_KEYS:
        defs = inventory.of_kind(kind)
        doc[key] = [{"name": d.name, "hash": _hash(d), "definition": _plain(d.definition)} for d in defs]
    # The end of stderr is where a crashing server says why.
    doc["stderr"] = redact(stderr[-STDERR_LIMIT:])
    doc["stderr_truncated"] = len(stderr) > STDERR_LIMIT
    return doc


def summary(result: ScanResult) -> dict[str, Any]:
    """Totals a CI job can gate on without walking the findings."""
    worst = max_severity(result.findings)
    doc: dict[str, Any] = {
        "findings": len(result.findings),
        "by_severity": severity_counts(result.findings),
        "max_severity": worst.label if worst is not None else None,
        "servers": len(result.servers),
        "unreachable": unreachable(result.servers, result.static),
    }
    for kind, key in _KIND_KEYS:
        doc[key] = sum(len(s.of_kind(kind)) for s in result.servers)
    return doc


def build_json_report(result: ScanResult, *, tool: ToolInfo, redact: Redactor) -> dict[str, Any]:
    """The whole report as a JSON-ready dict, findings worst first, every known env/header secret
    scrubbed from every string in it."""
    document: dict[str, Any] = {
        "schema_version": JSON_SCHEMA_VERSION,
        "tool": {"name": tool.name, "version": tool.version},
        "started_at": result.started_at,
        "duration_s": result.duration_s,
        "static": result.static,
        "config_files": list(result.config_files),
        "servers": [server_to_dict(s, redact) for s in result.servers],
        "findings": [finding_to_dict(f) for f in sort_findings(result.findings)],
        "summary": summary(result),
    }
    scrubbed: dict[str, Any] = SecretScrubber.for_servers(s.spec for s in result.servers).tree(document)
    return scrubbed
