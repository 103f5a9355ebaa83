"""Every red-team rule in redteam.yaml: its cases through the real oracle, its refs, and its attack."""

from __future__ import annotations

import re
from typing import Any

import pytest

from mcpwarden.detect.ruleset import Rule, builtin_rules
from mcpwarden.redteam.oracles import ORACLES, session_id_entropy_bits, weak_session_ids
from mcpwarden.redteam.registry import ATTACKS

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
