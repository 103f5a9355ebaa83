"""Rule patterns compiled for the engine, and the anchor-word index over them (see `anchors.py`)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType

import regex

from mcpwarden.detect.anchors import max_width, requirements
from mcpwarden.detect.ruleset import Rule
from mcpwarden.errors import RuleError


@dataclass(frozen=True, slots=True)
class Pattern:
    """One compiled pattern, the rule it belongs to, and the words any match must contain."""

    rule: int  # index into Engine._pattern_rules
    regex: regex.Pattern[str]
    clauses: tuple[frozenset[bytes], ...]  # all required, one word of each; () = run on every text
    lines: bool = False  # matched against the text with its line breaks kept (`options: {lines: true}`)
    width: int | None = None  # longest possible match, when bounded: lets long texts be searched in windows


@dataclass(frozen=True, slots=True)
class Index:
    """Patterns keyed by the words of their first (rarest) clause, and those with no clause at all."""

    by_word: Mapping[bytes, tuple[tuple[int, tuple[frozenset[bytes], ...]], ...]]  # → (pattern, other clauses)
    words: frozenset[bytes]
    always: tuple[int, ...]


def compile_rule(rule: Rule, rule_index: int) -> list[Pattern]:
    where = f"{rule.source}:{rule.id}"
    compiled = []
    for number, pattern in enumerate(rule.patterns, start=1):
        try:
            rx = regex.compile(pattern, regex.IGNORECASE | regex.MULTILINE)
        except regex.error as exc:
            raise RuleError(f"pattern {number} does not compile: {exc}", where=where) from None
        if can_match_empty(rx):
            raise RuleError(f"pattern {number} can match empty text, so it would fire everywhere", where=where)
        clauses = tuple(frozenset(w.encode() for w in clause) for clause in requirements(pattern))
        compiled.append(Pattern(rule_index, rx, clauses, bool(rule.options.get("lines")), max_width(pattern)))
    return compiled


def can_match_empty(rx: regex.Pattern[str]) -> bool:
    """Whether a pattern can produce a zero-length match (probed at word edges, spaces and text ends)."""
    return any(m.start() == m.end() for probe in ("", " ", "a", "a b", ". a.", "<a>") for m in rx.finditer(probe))


def build_index(patterns: Sequence[Pattern], selected: Iterable[int]) -> Index:
    by_word: dict[bytes, list[tuple[int, tuple[frozenset[bytes], ...]]]] = {}
    always: list[int] = []
    for index in selected:
        clauses = patterns[index].clauses
        if not clauses:
            always.append(index)
        for word in clauses[0] if clauses else ():
            by_word.setdefault(word, []).append((index, clauses[1:]))
    frozen = {w: tuple(entries) for w, entries in by_word.items()}
    return Index(MappingProxyType(frozen), frozenset(frozen), tuple(always))


def live_patterns(index: Index, words: frozenset[bytes]) -> list[int]:
    """Patterns whose every clause `words` satisfies (plus those with no clause), in pattern order."""
    hits = index.words.intersection(words)
    if not hits:
        return list(index.always)
    live = list(index.always)
    seen: set[int] = set()
    for word in hits:
        for i, rest in index.by_word[word]:
            if i in seen:
                continue
            seen.add(i)
            for clause in rest:
                if clause.isdisjoint(words):
                    break
            else:
                live.append(i)
    live.sort()
    return live
