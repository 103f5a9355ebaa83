"""Results: escaping identical to escape_evidence, scores, findings."""

from __future__ import annotations

import random

import pytest

from mcpwarden.detect.results import DetectResult, Match, escape, score
from mcpwarden.detect.ruleset import rules_by_id
from mcpwarden.types import Location, Severity, escape_evidence

RULES = rules_by_id()


@pytest.mark.parametrize("seed", range(5))
def test_escape_is_exactly_escape_evidence(seed: int) -> None:
    rng = random.Random(seed)
    alphabet = "ab \n\t\x1b\u2026\u00e9\u200b\u202e\U000e0041\u00a0\u2028\ufe0f\ue000<>"
    for _ in range(300):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 900)))
        assert escape(text) == escape_evidence(text)


def test_score_combines_independent_matches() -> None:
    high, low = RULES["MW300"], RULES["MW305"]
    one = score([Match(high, "x")])
    two = score([Match(high, "x"), Match(low, "y")])
    assert 0 < score([Match(low, "y")]) < one < two < 1
    assert score([]) == 0.0


def test_severity_override_reaches_the_finding() -> None:
    match = Match(RULES["MW323"], "\x1b[31m", severity=Severity.LOW)
    finding = match.finding(Location(server="s"))
    assert finding.severity == Severity.LOW
    assert finding.evidence == "\\u{1B}[31m"
    result = DetectResult("tool_output", (match,), score([match]))
    assert not result.flagged
    assert result.findings(Location(server="s")) == [finding]
