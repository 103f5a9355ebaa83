"""Every shipped rule maps to the OWASP lists the reports promise, in one spelling."""

from __future__ import annotations

import re

import pytest

from mcpwarden.detect.ruleset import Rule, builtin_rules

REF = re.compile(r"^(?:(?:MCP|LLM|ASI)(?:0[1-9]|10)|CWE-[1-9][0-9]*)$")
RULES = builtin_rules()


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.id)
def test_refs_are_owasp_or_cwe_ids(rule: Rule) -> None:
    bad = [ref for ref in rule.refs if not REF.match(ref)]
    assert not bad, f"{rule.id} in {rule.source}: refs {bad} are not MCPnn/LLMnn/ASInn/CWE-n"
    assert any(not ref.startswith("CWE-") for ref in rule.refs), f"{rule.id} needs at least one OWASP ref"


def test_rule_ids_are_unique_and_well_formed() -> None:
    ids = [rule.id for rule in RULES]
    assert len(ids) == len(set(ids))
    assert all(re.fullmatch(r"MW[1-9][0-9]{2}", rule_id) for rule_id in ids)
