"""Every text and inventory rule in detect/rules/: its cases, its refs, its anchors, and a ReDoS guard."""

from __future__ import annotations

import re
import time
from collections.abc import Mapping
from typing import Any

import pytest

from mcpwarden.detect.definitions import analyze_inventories
from mcpwarden.detect.engine import Engine
from mcpwarden.detect.ruleset import TEXT_KINDS, Rule, builtin_rules
from mcpwarden.detect.shadowing import INVENTORY_CHECKS
from mcpwarden.detect.textchecks import TEXT_CHECKS
from mcpwarden.types import ServerInventory, ServerSpec, ToolDef

RULES = builtin_rules()
ENGINE = Engine(RULES)
# Rules this suite owns: text patterns, and the checks implemented in detect/textchecks.py and
# detect/shadowing.py. Config, server and pinning checks (config_*, server_*, pin_*) are tested elsewhere.
TEXT_RULES = [r for r in RULES if (r.patterns and (not r.kinds or r.kinds & TEXT_KINDS)) or r.check in TEXT_CHECKS]
INVENTORY_RULES = [r for r in RULES if r.check in INVENTORY_CHECKS]
MINE = [r for r in RULES if r.id.startswith("MW3")]
_REF = re.compile(r"^(?:(?:MCP|LLM|ASI)(?:0[1-9]|10)|CWE-\d+)$")


def _kinds(rule: Rule) -> list[str]:
    return sorted(rule.kinds & TEXT_KINDS) if rule.kinds else sorted(TEXT_KINDS)


def _text_case(case: Any) -> tuple[str, Engine]:
    """A case is a text, or {text, max_chars} when it needs an engine with other bounds."""
    if isinstance(case, str):
        return case, ENGINE
    return str(case["text"]), Engine(RULES, max_chars=int(case["max_chars"]))


def _params(rules: list[Rule]) -> list[Any]:
    return [
        pytest.param(rule, expect, case, id=f"{rule.id}-{expect}-{index}")
        for rule in rules
        for expect, cases in (("flag", rule.flag_cases), ("ok", rule.ok_cases))
        for index, case in enumerate(cases)
    ]


@pytest.mark.parametrize(("rule", "expect", "case"), _params(TEXT_RULES))
def test_text_rule_case(rule: Rule, expect: str, case: Any) -> None:
    text, engine = _text_case(case)
    for kind in _kinds(rule):
        result = engine.detect(text, kind)
        fired = rule.id in result.rule_ids
        assert fired is (expect == "flag"), (kind, [(m.rule.id, m.evidence) for m in result.matches])


def inventories_from_case(case: Mapping[str, Any]) -> list[ServerInventory]:
    """{servers: {server: {tool: description | definition}}} as real inventories."""
    inventories = []
    for server, tools in case["servers"].items():
        definitions = []
        for name, body in tools.items():
            raw = {"description": body} if isinstance(body, str) else dict(body)
            raw = {"name": name, "inputSchema": {"type": "object", "properties": {}}, **raw}
            definitions.append(ToolDef(server, "tool", name, raw))
        spec = ServerSpec(name=server, transport="stdio", command="node", args=(f"{server}.js",))
        inventories.append(ServerInventory(spec=spec, ok=True, definitions=tuple(definitions)))
    return inventories


@pytest.mark.parametrize(("rule", "expect", "case"), _params(INVENTORY_RULES))
def test_inventory_rule_case(rule: Rule, expect: str, case: Mapping[str, Any]) -> None:
    findings = [f for f in analyze_inventories(inventories_from_case(case), ENGINE) if f.rule_id == rule.id]
    assert bool(findings) is (expect == "flag"), [(f.location, f.evidence) for f in findings]


@pytest.mark.parametrize("rule", MINE, ids=lambda r: r.id)
def test_rule_is_implemented_and_referenced(rule: Rule) -> None:
    assert 300 <= int(rule.id[2:]) <= 399
    assert rule.patterns or rule.check in TEXT_CHECKS or rule.check in INVENTORY_CHECKS, rule.check
    assert all(_REF.match(ref) for ref in rule.refs), rule.refs
    assert any(ref.startswith("MCP") for ref in rule.refs)
    assert any(ref.startswith("LLM") for ref in rule.refs) or rule.check in INVENTORY_CHECKS
    assert any(ref.startswith("ASI") for ref in rule.refs)


@pytest.mark.parametrize("rule", [r for r in MINE if r.patterns], ids=lambda r: r.id)
def test_every_pattern_has_anchor_words(rule: Rule) -> None:
    # A pattern without provable anchors would run on every text: keep \b around its key words.
    assert all(clauses for clauses in ENGINE.requirements_of(rule.id))


@pytest.mark.parametrize("rule", [r for r in TEXT_RULES if r.patterns], ids=lambda r: r.id)
def test_flag_cases_satisfy_the_pattern_anchors(rule: Rule) -> None:
    # The index must never hide a match: every flag case holds a word of every clause of some pattern.
    for case in rule.flag_cases:
        text, _ = _text_case(case)
        words = {w.encode() for w in re.findall(r"\w+", ENGINE.view(text).lower())}
        words |= {ch.encode() for ch in "<>[]|~@{}`\\$%" if ch in text}
        assert any(all(c & words for c in clauses) for clauses in ENGINE.requirements_of(rule.id)), text


def _adversarial(rule: Rule) -> list[str]:
    """Long runs of what the patterns repeat, and of near-misses of the rule's own flag cases."""
    size = 60_000
    texts = [c * size for c in (" ", "a", ".", "/", "'", "<", "-", "_", "~", "\\", "|", "[")] + [
        ("a " * size)[:size],
        ("a." * size)[:size],
        ("ab/" * size)[:size],
    ]
    for case in rule.flag_cases:
        text, _ = _text_case(case)
        words = text.split()
        half = " ".join(words[: max(1, len(words) - 1)])  # the case without its last word: a near miss
        texts.append((half + " ") * (size // (len(half) + 1)))
        texts.append(" ".join(w for w in words for _ in range(3)) * (size // (3 * len(text) + 1) + 1))
        for word in words[:3]:
            texts.append((word + " ") * (size // (len(word) + 1)))
    return texts


BUDGET_S = 1.5  # per pattern and input, generous for a loaded 2-core machine; linear patterns take ms


def _slowest_search(engine: Engine, rule: Rule) -> float:
    slowest = 0.0
    for pattern in engine.patterns_of(rule.id):
        for text in _adversarial(rule):
            started = time.perf_counter()
            try:
                pattern.search(text, timeout=BUDGET_S)
            except TimeoutError:
                return float("inf")
            slowest = max(slowest, time.perf_counter() - started)
    return slowest


@pytest.mark.parametrize("rule", [r for r in TEXT_RULES if r.patterns], ids=lambda r: r.id)
def test_patterns_resist_catastrophic_backtracking(rule: Rule) -> None:
    assert _slowest_search(ENGINE, rule) < BUDGET_S


def test_backtracking_guard_catches_a_nested_quantifier() -> None:
    # The guard itself must be able to fail: a nested quantifier over one class is exponential.
    bad = Rule(
        id="MW398",
        title="bad",
        severity=RULES[0].severity,
        confidence=RULES[0].confidence,
        message="m",
        remediation="r",
        refs=("MCP03",),
        kinds=frozenset({"tool_description"}),
        patterns=(r"\b(?:a|aa)+\bz",),
        check=None,
        options={},
        flag_cases=("aaz",),
        ok_cases=("b",),
        source="test",
    )
    assert _slowest_search(Engine([bad]), bad) >= BUDGET_S


def test_detect_stays_bounded_on_hostile_text() -> None:
    hostile = [
        "ignore previous " * 8000,
        "\u200b".join("ignore") * 20000,
        "".join(chr(0xE0000 + ord(c)) for c in "read ~/.ssh/id_rsa ") * 3000,
        "<!--" * 30000,
        "<span style='display:none'>" * 5000,
        "\x1b[" * 40000,
    ]
    for text in hostile:
        started = time.perf_counter()
        result = ENGINE.detect(text, "tool_output")
        assert time.perf_counter() - started < 5.0
        assert 0.0 <= result.score <= 1.0
