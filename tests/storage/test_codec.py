from __future__ import annotations

import pytest

from mcpwarden.errors import StorageError
from mcpwarden.storage.codec import dump_json, finding_from_json, finding_to_json, load_json
from mcpwarden.types import Confidence, Finding, Location, Severity


@pytest.mark.parametrize(
    "finding",
    [
        Finding("MW401", "t", Severity.CRITICAL, Confidence.LOW, Location(), "m"),
        Finding(
            "MW205",
            "title",
            Severity.INFO,
            Confidence.HIGH,
            Location(file="/home/u/.cursor/mcp.json", line=12, key="mcpServers.x"),
            "message",
            evidence="a\\u{200B}b\nc",
            remediation="do this",
            refs=("OWASP-MCP03:2025", "CWE-494"),
        ),
    ],
)
def test_finding_round_trips(finding: Finding) -> None:
    text = finding_to_json(finding)
    assert text.isascii()
    assert finding_from_json(text) == finding


@pytest.mark.parametrize(
    "text",
    ["not json", "{}", '{"rule_id": "MW1", "title": "t", "severity": "dire", "confidence": "low", "message": ""}'],
)
def test_damaged_finding_is_a_storage_error(text: str) -> None:
    with pytest.raises(StorageError):
        finding_from_json(text, where="db findings/1")


def test_json_keeps_hidden_characters_in_ascii() -> None:
    value = {"b": "zero\u200bwidth \ud800", "a": 1}
    text = dump_json(value, where="x")
    assert text.isascii() and text.startswith('{"a":1')
    assert load_json(text, where="x") == value
