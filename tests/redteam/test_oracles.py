"""Every red-team rule in redteam.yaml: its cases through the real oracle, its refs, and its attack."""

from __future__ import annotations

import re
from typing import Any

import pytest

from mcpwarden.detect.ruleset import Rule, builtin_rules
from mcpwarden.redteam.oracles import ORACLES, session_id_entropy_bits, weak_session_ids
from mcpwarden.redteam.registry import ATTACKS
from mcpwarden.redteam.suites.auth import authorization_server_severity, no_credentials_severity
from mcpwarden.types import Severity

RULES = [r for r in builtin_rules() if r.id.startswith("MW7")]
_REF = re.compile(r"^(?:(?:MCP|LLM|ASI)(?:0[1-9]|10)|CWE-\d+)$")


def _cases() -> list[Any]:
    return [
        pytest.param(rule, expect, case, id=f"{rule.id}-{expect}-{index}")
        for rule in RULES
        for expect, cases in (("flag", rule.flag_cases), ("ok", rule.ok_cases))
        for index, case in enumerate(cases)
    ]


@pytest.mark.parametrize(("rule", "expect", "case"), _cases())
def test_rule_case_through_its_oracle(rule: Rule, expect: str, case: dict[str, Any]) -> None:
    proof = ORACLES[str(rule.check)](case)
    assert bool(proof) is (expect == "flag"), proof


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.id)
def test_rule_is_in_range_named_and_referenced(rule: Rule) -> None:
    assert 700 <= int(rule.id[2:]) <= 799
    assert rule.check is not None and rule.check.startswith("redteam_") and rule.check in ORACLES
    assert all(_REF.match(ref) for ref in rule.refs), rule.refs
    assert any(ref.startswith("MCP") for ref in rule.refs)


@pytest.mark.parametrize("rule", [r for r in RULES if r.id != "MW790"], ids=lambda r: r.id)
def test_every_rule_is_proved_by_some_attack(rule: Rule) -> None:
    assert any(rule.id in attack.rule_ids for attack in ATTACKS)


def test_attacks_have_unique_ids_and_known_rules() -> None:
    ids = [a.id for a in ATTACKS]
    assert len(ids) == len(set(ids))
    known = {r.id for r in RULES}
    assert all(set(a.rule_ids) <= known and a.sends and a.judged_by for a in ATTACKS)


@pytest.mark.parametrize(
    ("ids", "low", "high"),
    [
        ([f"{n:032x}" for n in (1, 2, 3)], 0, 8),  # only the last hex digits vary
        (["0f" * 16, "a1" * 16, "5c" * 16, "e7" * 16], 120, 128),  # every hex position varies
        (["ab", "ab"], 0, 0),
    ],
)
def test_entropy_estimate_counts_varying_positions(ids: list[str], low: float, high: float) -> None:
    assert low <= session_id_entropy_bits(ids) <= high


def test_uuid4_hex_session_ids_are_only_below_the_128_bit_mark() -> None:
    import uuid

    proof = weak_session_ids({"ids": [uuid.uuid4().hex for _ in range(10)]})
    assert proof is not None and "bits of entropy" in proof
    assert "sequential" not in proof and "repeated" not in proof


HELD = {"transport.origin": "held", "transport.host": "held", "transport.bind": "held"}


@pytest.mark.parametrize(
    ("url", "outcomes", "expected"),
    [
        # mcpwarden's own gateway by default: loopback, browser paths closed, no other address answers.
        ("http://127.0.0.1:8765/mcp", HELD, Severity.LOW),
        ("http://localhost:8765/mcp", {**HELD, "transport.bind": "inconclusive"}, Severity.LOW),
        ("http://127.0.0.1:8765/mcp", {**HELD, "transport.origin": "vulnerable"}, None),
        ("http://127.0.0.1:8765/mcp", {**HELD, "transport.host": "vulnerable"}, None),
        ("http://127.0.0.1:8765/mcp", {**HELD, "transport.bind": "vulnerable"}, None),
        ("http://127.0.0.1:8765/mcp", {}, None),  # `--suite auth` alone proves nothing about the rest
        ("http://192.168.1.5:8765/mcp", HELD, None),
        ("https://mcp.example.com/mcp", HELD, Severity.HIGH),
    ],
)
def test_no_credentials_is_low_only_on_a_proven_local_only_server(
    url: str, outcomes: dict[str, str], expected: Severity | None
) -> None:
    assert no_credentials_severity(url, outcomes) is expected


@pytest.mark.parametrize(
    ("url", "servers", "expected"),
    [
        ("http://127.0.0.1:8765/mcp", ["http://127.0.0.1:9000"], Severity.LOW),
        ("http://127.0.0.1:8765/mcp", ["http://localhost:9000/tenant"], Severity.LOW),
        ("http://127.0.0.1:8765/mcp", ["http://127.0.0.1:9000", "http://10.0.0.5"], None),
        ("http://127.0.0.1:8765/mcp", ["http://169.254.169.254/"], None),
        ("https://mcp.example.com/mcp", ["http://127.0.0.1:9000"], None),
        ("http://127.0.0.1:8765/mcp", [], None),
    ],
)
def test_loopback_authorization_server_is_low_only_behind_a_loopback_server(
    url: str, servers: list[str], expected: Severity | None
) -> None:
    assert authorization_server_severity(url, servers) is expected
    # The oracle still reports it: the severity, not the proof, depends on where the server is.
    if servers:
        assert ORACLES["redteam_risky_authorization_server"]({"authorization_servers": servers})


# --- regressions from the reference servers (docs/redteam.md, "Reference servers")
_PROBE_ID = 952812
_LATE_RESULT = {"jsonrpc": "2.0", "id": 28, "result": {"content": [{"type": "text", "text": "Long running op done"}]}}
_LATE_ERROR = {"jsonrpc": "2.0", "id": 28, "error": {"code": -32603, "message": "late failure"}}


@pytest.mark.parametrize(
    ("messages", "proof"),
    [
        # server-everything over stdio: a timed-out earlier call answered while a malformed line waited for
        # its error. Still no error for the probe, but the proof must not claim the probe got a result.
        ([_LATE_RESULT], "no JSON-RPC error came back"),
        # … and a late *error* for another request does not count as the probe's error either.
        ([_LATE_ERROR], "no JSON-RPC error came back"),
        ([{"jsonrpc": "2.0", "id": _PROBE_ID, "result": {}}], "answered with a result"),
        ([_LATE_RESULT, {"jsonrpc": "2.0", "id": None, "error": {"code": -32700, "message": "Parse error"}}], None),
        ([{"jsonrpc": "2.0", "id": _PROBE_ID, "error": {"code": -32600, "message": "Invalid Request"}}], None),
    ],
)
def test_improper_error_ignores_late_answers_to_other_requests(messages: list[Any], proof: str | None) -> None:
    observation = {"sent": f'{{"jsonrpc": "2.0", "id": {_PROBE_ID}, "method"', "messages": messages, "ids": [_PROBE_ID]}
    found = ORACLES["redteam_improper_error"](observation)
    assert (found is None) if proof is None else (found is not None and found.startswith(proof)), found
