"""Anchor words: what a pattern cannot match without. They must never hide a real match."""

from __future__ import annotations

import random

import pytest
import regex

from mcpwarden.detect.anchors import MARKS, requirements, word_cost
from mcpwarden.detect.ruleset import builtin_rules


@pytest.mark.parametrize(
    ("pattern", "clause"),
    [
        (r"\bignore (?:all )?previous instructions\b", {"ignore", "previous", "instructions"}),
        (r"\bid_(?:rsa|dsa)\b", {"id_rsa", "id_dsa"}),
        (r"~/\.ssh\b", {"ssh", "~"}),
        (r"<\s*/?\s*(?:important|system)\s*>", {"important", "system", "<", ">"}),
        (r"\b(?:seed|recovery|mnemonic) phrases?\b", {"seed", "recovery", "mnemonic", "phrase", "phrases"}),
    ],
)
def test_clauses_use_only_words_the_pattern_requires(pattern: str, clause: set[str]) -> None:
    clauses = requirements(pattern)
    assert clauses
    assert all(c <= clause for c in clauses), clauses


@pytest.mark.parametrize(
    "pattern",
    [
        r"foo",  # no \b: it also matches inside "xfoox", so "foo" is not a whole word there
        r"\bfoo",  # right edge open
        r"\b(?:a|b)+c\b",  # unbounded repetition of a finite language
        r"(?P<x>a)(?P=x)",  # backreferences are beyond the analysis
        r"\p{Lu}+",  # syntax only the regex module has
    ],
)
def test_patterns_without_provable_words_get_no_anchor(pattern: str) -> None:
    assert requirements(pattern) == ()


def test_common_words_are_expensive_anchors() -> None:
    assert word_cost("the") > word_cost("tool") > word_cost("exfiltrate")
    # With a rare word available the common one is never chosen first.
    assert requirements(r"\bthe secret\b")[0] == frozenset({"secret"})


def _words(text: str) -> set[str]:
    found = set(regex.findall(r"\w+", text.lower()))
    return found | {ch for ch in MARKS if ch in text}


def _mutations(seed: str, rng: random.Random, vocabulary: list[str]) -> list[str]:
    words = seed.split()
    out = [seed]
    for _ in range(25):
        mutated = list(words)
        for _ in range(rng.randint(1, 3)):
            choice = rng.random()
            position = rng.randrange(len(mutated) + 1)
            if choice < 0.4 and mutated:
                mutated.pop(min(position, len(mutated) - 1))
            elif choice < 0.8:
                mutated.insert(position, rng.choice(vocabulary))
            else:
                rng.shuffle(mutated)
        out.append(" ".join(mutated))
    return out


def test_a_pattern_never_matches_a_text_lacking_its_clauses() -> None:
    # Soundness over thousands of near-miss texts built from every rule's own flag cases: whenever a
    # pattern matches, each of its clauses has a word in the text.
    rng = random.Random(20260501)
    rules = [r for r in builtin_rules() if r.patterns]
    texts = [c for r in rules for c in (*r.flag_cases, *r.ok_cases) if isinstance(c, str)]
    vocabulary = sorted({w for t in texts for w in t.split()})
    corpus = [m for t in texts for m in _mutations(t, rng, vocabulary)]
    checked = 0
    for rule in rules:
        for pattern in rule.patterns:
            compiled = regex.compile(pattern, regex.IGNORECASE)
            clauses = requirements(pattern)
            for text in corpus:
                view = " ".join(text.split())
                if compiled.search(view):
                    checked += 1
                    words = _words(view)
                    assert all(c & words for c in clauses), (rule.id, pattern[:60], view)
    assert checked > 100  # the corpus does exercise the patterns
