"""SARIF 2.1.0, the format code-scanning services (GitHub, GitLab, Azure DevOps) ingest.

A finding with a config file gets a physical location (file + line). A finding about a server's
definitions gets a logical location (`server/tool`, pointer in its properties) and, when the
server's config file is known, that file as its physical location too: code-scanning services
only show results that point into a file, and the config entry is what the user can fix.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import PurePosixPath, PureWindowsPath
from typing import Any
from urllib.parse import quote

from mcpwarden.report.common import ToolInfo, known_line, sort_findings
from mcpwarden.report.redact import Redactor, SecretScrubber, default_redact
from mcpwarden.types import Confidence, Finding, Location, ServerInventory, ServerSpec, Severity

SARIF_VERSION = "2.1.0"
SARIF_SCHEMA_URI = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
FINGERPRINT_KEY = "mcpwarden/v1"
SRCROOT = "%SRCROOT%"

LEVELS: dict[Severity, str] = {
    Severity.CRITICAL: "error",
    Severity.HIGH: "error",
    Severity.MEDIUM: "warning",
    Severity.LOW: "note",
    Severity.INFO: "note",
}
# GitHub maps security-severity to its own buckets: >= 9.0 critical, >= 7.0 high, >= 4.0 medium.
SECURITY_SEVERITY: dict[Severity, str] = {
    Severity.CRITICAL: "9.5",
    Severity.HIGH: "8.0",
    Severity.MEDIUM: "5.5",
    Severity.LOW: "3.0",
    Severity.INFO: "1.0",
}
PRECISION: dict[Confidence, str] = {Confidence.HIGH: "high", Confidence.MEDIUM: "medium", Confidence.LOW: "low"}


def rule_name(title: str) -> str:
    """SARIF wants a name usable as an identifier: the title in PascalCase."""
    return "".join(word[:1].upper() + word[1:] for word in re.findall(r"[A-Za-z0-9]+", title)) or "Rule"


def artifact_location(path: str, base_dir: str | None) -> dict[str, str]:
    """A relative URI under `%SRCROOT%` when the file is inside `base_dir`, else a `file:` URI."""
    if re.match(r"^[A-Za-z]:[\\/]", path):
        return {"uri": PureWindowsPath(path).as_uri()}
    posix = PurePosixPath(path.replace("\\", "/"))
    if base_dir is not None and posix.is_absolute():
        try:
            relative = posix.relative_to(PurePosixPath(base_dir))
        except ValueError:
            pass
        else:
            return {"uri": quote(relative.as_posix()), "uriBaseId": SRCROOT}
    if posix.is_absolute():
        return {"uri": posix.as_uri()}
    return {"uri": quote(posix.as_posix())}


def _physical(path: str, line: int | None, base_dir: str | None) -> dict[str, Any]:
    physical: dict[str, Any] = {"artifactLocation": artifact_location(path, base_dir)}
    start = known_line(line)
    if start is not None:
        physical["region"] = {"startLine": start}
    return physical


def _logical(location: Location) -> dict[str, Any] | None:
    if not location.server:
        return None
    name = location.tool or location.server
    qualified = f"{location.server}/{location.tool}" if location.tool else location.server
    if location.tool is None:
        kind = "module"
    elif location.kind in ("resource", "resource_template"):
        kind = "resource"
    else:
        kind = "function"
    logical: dict[str, Any] = {"name": name, "fullyQualifiedName": qualified, "kind": kind}
    properties = {k: v for k, v in (("pointer", location.pointer), ("definitionKind", location.kind)) if v}
    if properties:
        logical["properties"] = properties
    return logical


def _location(finding: Finding, specs: dict[str, ServerSpec], base_dir: str | None) -> dict[str, Any] | None:
    loc = finding.location
    sarif: dict[str, Any] = {}
    if loc.file:
        sarif["physicalLocation"] = _physical(loc.file, loc.line, base_dir)
    elif loc.server in specs and specs[loc.server].sources:
        source = specs[loc.server].sources[0]
        sarif["physicalLocation"] = _physical(source.path, source.line, base_dir)
    logical = _logical(loc)
    if logical is not None:
        sarif["logicalLocations"] = [logical]
    return sarif or None


def _message(finding: Finding) -> str:
    loc = finding.location
    if loc.file or not loc.server:
        return finding.message
    # Viewers show the physical location only; say which definition the result is about.
    return f"{finding.message} ({loc.describe()})"


def _rule(rule_id: str, findings: list[Finding]) -> dict[str, Any]:
    first = findings[0]
    worst = max(f.severity for f in findings)
    messages = {f.message for f in findings}
    tags = list(dict.fromkeys(["security", *(ref for f in findings for ref in f.refs)]))
    rule: dict[str, Any] = {
        "id": rule_id,
        "name": rule_name(first.title),
        "shortDescription": {"text": first.title},
        # The message is per finding; it describes the rule only when every instance says the same.
        "fullDescription": {"text": first.message if len(messages) == 1 and first.message else first.title},
        "defaultConfiguration": {"level": LEVELS[worst]},
        "properties": {
            "tags": tags,
            "security-severity": SECURITY_SEVERITY[worst],
            "precision": PRECISION[max(f.confidence for f in findings)],
        },
    }
    remediation = next((f.remediation for f in findings if f.remediation), "")
    if remediation:
        rule["help"] = {"text": remediation}
    return rule


def _start_time(started_at: str) -> str | None:
    try:
        moment = datetime.fromisoformat(started_at)
    except ValueError:
        return None
    if moment.tzinfo is None:
        return None
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def sarif_log(
    findings: Sequence[Finding],
    *,
    tool: ToolInfo | None = None,
    servers: Sequence[ServerInventory] = (),
    base_dir: str | None = None,
    started_at: str = "",
    static: bool = False,
    redact: Redactor = default_redact,
) -> dict[str, Any]:
    """A SARIF 2.1.0 log with one run: one rule per rule id present, one result per finding.

    `servers` (optional) adds config-file locations for server findings, reports unreachable
    servers as tool notifications and scrubs their env/header values from the whole log.
    `base_dir` (absolute) makes config files under it relative (`%SRCROOT%`), as code scanning expects.
    """
    if base_dir is not None and not PurePosixPath(base_dir).is_absolute():
        raise ValueError(f"base_dir must be an absolute path, got {base_dir!r}")
    tool = tool or ToolInfo()
    ordered = sort_findings(findings)
    by_rule: dict[str, list[Finding]] = {}
    for finding in ordered:
        by_rule.setdefault(finding.rule_id, []).append(finding)
    rule_ids = sorted(by_rule)
    index = {rule_id: i for i, rule_id in enumerate(rule_ids)}
    specs: dict[str, ServerSpec] = {}
    for inventory in servers:
        specs.setdefault(inventory.spec.name, inventory.spec)

    results: list[dict[str, Any]] = []
    for finding in ordered:
        result: dict[str, Any] = {
            "ruleId": finding.rule_id,
            "ruleIndex": index[finding.rule_id],
            "level": LEVELS[finding.severity],
            "message": {"text": _message(finding)},
            "partialFingerprints": {FINGERPRINT_KEY: finding.fingerprint},
            "properties": {
                "severity": finding.severity.label,
                "confidence": finding.confidence.label,
                "evidence": finding.evidence,
                "tags": list(finding.refs),
            },
        }
        location = _location(finding, specs, base_dir)
        if location is not None:
            result["locations"] = [location]
        results.append(result)

    invocation: dict[str, Any] = {"executionSuccessful": True}
    start = _start_time(started_at)
    if start is not None:
        invocation["startTimeUtc"] = start
    notifications = [
        {"level": "warning", "message": {"text": f"server {s.spec.name} unreachable: {redact(s.error or 'no error')}"}}
        for s in servers
        if not s.ok and not static
    ]
    if notifications:
        invocation["toolExecutionNotifications"] = notifications

    run: dict[str, Any] = {
        "tool": {
            "driver": {
                "name": tool.name,
                "version": tool.version,
                "semanticVersion": tool.version,
                "informationUri": tool.information_uri,
                "rules": [_rule(rule_id, by_rule[rule_id]) for rule_id in rule_ids],
            }
        },
        "invocations": [invocation],
        "results": results,
    }
    if base_dir is not None:
        run["originalUriBaseIds"] = {SRCROOT: {"uri": PurePosixPath(base_dir).as_uri().rstrip("/") + "/"}}
    log = {"$schema": SARIF_SCHEMA_URI, "version": SARIF_VERSION, "runs": [run]}
    scrubbed: dict[str, Any] = SecretScrubber.for_servers(specs.values()).tree(log)
    return scrubbed
