from __future__ import annotations

import json
from collections import Counter
from typing import Any

import jsonschema
import pytest

from mcpwarden.report import JSON_SCHEMA_VERSION, findings_only, load_schema, render
from mcpwarden.report.jsonreport import STDERR_LIMIT
from mcpwarden.types import ScanResult, ServerInventory, ServerSpec, ToolDef, mask_secret

from .factories import GITHUB_TOKEN, config_finding, finding, full_scan, scan, stdio_server


def _json(result: ScanResult) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(render(result, "json"))
    return doc


def _validate(doc: dict[str, Any]) -> None:
    schema = load_schema()
    jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker()).validate(doc)


def test_schema_is_valid_2020_12_with_id_and_version() -> None:
    schema = load_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["$id"]
    assert schema["schema_version"] == JSON_SCHEMA_VERSION
    assert schema["properties"]["schema_version"]["const"] == JSON_SCHEMA_VERSION


@pytest.mark.parametrize(
    "result",
    [
        full_scan(),
        scan(),
        scan(stdio_server("a"), static=True),
        findings_only([finding(), config_finding()]),
    ],
    ids=["full", "empty", "static", "findings-only"],
)
def test_report_validates_against_schema(result: ScanResult) -> None:
    doc = _json(result)
    _validate(doc)
    assert doc["schema_version"] == JSON_SCHEMA_VERSION
    assert len(doc["findings"]) == len(result.findings)


def test_schema_rejects_a_report_missing_findings() -> None:
    doc = _json(full_scan())
    del doc["findings"]
    with pytest.raises(jsonschema.ValidationError):
        _validate(doc)


def test_summary_counts_match_the_scan() -> None:
    result = full_scan()
    summary = _json(result)["summary"]
    expected = Counter(f.severity.label for f in result.findings)
    assert {k: v for k, v in summary["by_severity"].items() if v} == dict(expected)
    assert summary["findings"] == len(result.findings)
    assert summary["servers"] == len(result.servers)
    assert summary["unreachable"] == sum(1 for s in result.servers if not s.ok)
    assert summary["tools"] == sum(1 for s in result.servers for d in s.definitions if d.kind == "tool")
    assert summary["max_severity"] == max(f.severity for f in result.findings).label


def test_static_scan_counts_no_server_as_unreachable() -> None:
    summary = _json(scan(stdio_server("a", ok=False), static=True))["summary"]
    assert summary["unreachable"] == 0


def test_findings_are_worst_first_with_their_fingerprint() -> None:
    result = full_scan()
    findings = _json(result)["findings"]
    ranks = ["critical", "high", "medium", "low", "info"]
    assert [ranks.index(f["severity"]) for f in findings] == sorted(ranks.index(f["severity"]) for f in findings)
    assert {f["fingerprint"] for f in findings} == {f.fingerprint for f in result.findings}


def test_server_env_and_headers_keep_names_and_mask_values() -> None:
    result = full_scan()
    servers = {s["name"]: s for s in _json(result)["servers"]}
    github = result.servers[0].spec
    assert servers["github"]["env"] == {k: mask_secret(v) for k, v in github.env.items()}
    remote = result.servers[1].spec
    assert set(servers["remote"]["headers"]) == set(remote.headers)
    assert all(v not in json.dumps(servers["remote"]) for v in remote.headers.values())


def test_definitions_carry_name_hash_and_raw_definition() -> None:
    result = full_scan()
    github = _json(result)["servers"][0]
    expected = [(d.name, d.hash) for d in result.servers[0].definitions if d.kind == "tool"]
    assert [(t["name"], t["hash"]) for t in github["tools"]] == expected
    assert github["tools"][0]["definition"]["inputSchema"]["type"] == "object"


def test_stderr_keeps_the_tail_and_says_it_was_cut() -> None:
    broken = {s["name"]: s for s in _json(full_scan())["servers"]}["broken"]
    assert broken["stderr_truncated"] is True
    assert len(broken["stderr"]) <= STDERR_LIMIT
    assert broken["stderr"].startswith("x")
    assert GITHUB_TOKEN not in broken["stderr"]


def test_hostile_server_data_still_gives_strict_json() -> None:
    inventory = ServerInventory(
        spec=ServerSpec(name="weird\x1b[2J", transport="stdio", command="x"),
        ok=True,
        server_info={"name": "s", "score": float("nan"), "tags": {"a"}},
        definitions=(ToolDef("weird", "tool", "t\u202e", {"name": "t", "description": "hi\u200b", "n": float("inf")}),),
    )
    text = render(scan(inventory), "json")
    doc = json.loads(text, parse_constant=lambda c: pytest.fail(f"non-standard JSON constant {c}"))
    _validate(doc)
    assert doc["servers"][0]["name"] == "weird\x1b[2J"
    assert "\u202e" not in text
    assert "\x1b" not in text
