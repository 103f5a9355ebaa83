"""The text detection engine: one entry point, `detect(text, kind)`, for every text mcpwarden inspects.

The scanner runs it on descriptions and schemas; the gateway will run it on arguments and results.
An `Engine` is built once from a rule set, is immutable afterwards, and is shared freely.

How a text is matched:
1. Plain text (see `words.py`) is split into words at C speed; anything else is normalised first
   (`normalize.py`) and the words come from the normalised view and the hidden segments.
2. Every pattern is indexed by the words it cannot match without (`anchors.py`): a few clauses, each
   a set of words of which one must occur. A pattern runs only when all its clauses are satisfied.
   A single alternation of all patterns would be simpler, but the `regex` module scans such an
   alternation at about 1 MB/s, which cannot serve 10,000 definitions a second; the index can.
3. Live patterns run (case-insensitive, MULTILINE, time-limited) over the view and each hidden
   segment; the first match per rule becomes a `Match`, attributed to where the text was hidden.
4. Code checks (`textchecks.py`) turn what normalisation revealed into matches.
5. The matches are combined into a 0..1 score (`results.score`).
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType

import regex

from mcpwarden.detect.anchors import MARKS, requirements
from mcpwarden.detect.normalize import MAX_FIELD_CHARS, Decoder, Normalized, Normalizer, Reveal, Segment
from mcpwarden.detect.results import DetectResult, Match, Screen, score
from mcpwarden.detect.ruleset import TEXT_KINDS, Rule, builtin_rules
from mcpwarden.detect.textchecks import TEXT_CHECKS, CheckFn
from mcpwarden.detect.words import (
    GROUP_SEPARATOR,
    GROUP_SEPARATOR_BYTE,
    SCREEN_TABLE,
    SEPARATOR,
    SEPARATOR_BYTE,
    plain_bytes,
    view_words,
    words_of,
)
from mcpwarden.errors import RuleError

DEFAULT_TIMEOUT_S = 0.5  # per pattern and text; a timeout is reported (MW399), never fatal
_CONTEXT = 40
_MAX_SPAN = 160  # evidence shows at most this much of a long match
_BREAKS = frozenset(b" \x1e")  # what can surround a word in translated bytes
_ORIGIN_DETAIL = MappingProxyType(
    {
        "tag_characters": "Found in text hidden with Unicode tag characters.",
        "variation_selectors": "Found in text hidden in variation selectors.",
        "ansi_escape": "Found inside a terminal escape sequence.",
        "html_comment": "Found inside an HTML comment.",
        "hidden_element": "Found inside a hidden HTML element.",
        "markdown_comment": "Found inside a Markdown comment.",
        "markup_attribute": "Found in an HTML attribute or Markdown title.",
    }
)


@dataclass(frozen=True, slots=True)
class _Pattern:
    """One compiled pattern, the rule it belongs to, and the words any match must contain."""

    rule: int  # index into Engine._pattern_rules
    regex: regex.Pattern[str]
    clauses: tuple[frozenset[bytes], ...]  # all required, one word of each; () = run on every text


@dataclass(frozen=True, slots=True)
class _Index:
    """Patterns keyed by the words of their first (rarest) clause, and those with no clause at all."""

    by_word: Mapping[bytes, tuple[tuple[int, tuple[frozenset[bytes], ...]], ...]]  # → (pattern, other clauses)
    words: frozenset[bytes]
    always: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class _Plan:
    """What runs on one text kind."""

    index: _Index
    checks: tuple[tuple[Rule, CheckFn], ...]
    empty: DetectResult


def _rule_kinds(rule: Rule) -> frozenset[str]:
    return rule.kinds & TEXT_KINDS if rule.kinds else TEXT_KINDS


def _compile(rule: Rule, rule_index: int) -> list[_Pattern]:
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
        compiled.append(_Pattern(rule_index, rx, clauses))
    return compiled


def can_match_empty(rx: regex.Pattern[str]) -> bool:
    """Whether a pattern can produce a zero-length match (probed at word edges, spaces and text ends)."""
    return any(m.start() == m.end() for probe in ("", " ", "a", "a b", ". a.", "<a>") for m in rx.finditer(probe))


def _index(patterns: Sequence[_Pattern], selected: Iterable[int]) -> _Index:
    by_word: dict[bytes, list[tuple[int, tuple[frozenset[bytes], ...]]]] = {}
    always: list[int] = []
    for index in selected:
        clauses = patterns[index].clauses
        if not clauses:
            always.append(index)
        for word in clauses[0] if clauses else ():
            by_word.setdefault(word, []).append((index, clauses[1:]))
    frozen = {w: tuple(entries) for w, entries in by_word.items()}
    return _Index(MappingProxyType(frozen), frozenset(frozen), tuple(always))


class Engine:
    """Compiled rules for every text kind; build once per process (see `default_engine`) and share."""

    def __init__(
        self,
        rules: Iterable[Rule],
        *,
        max_chars: int = MAX_FIELD_CHARS,
        timeout_s: float = DEFAULT_TIMEOUT_S,
        decoders: Sequence[Decoder] = (),
    ) -> None:
        self.normalizer = Normalizer(max_chars=max_chars, decoders=decoders)
        self.max_chars = max_chars
        self.timeout_s = timeout_s
        self.all_rules = tuple(rules)  # including rules other modules implement (inventory checks)
        pattern_rules: list[Rule] = []
        patterns: list[_Pattern] = []
        checks: list[tuple[Rule, CheckFn]] = []
        for rule in self.all_rules:
            if rule.patterns and (not rule.kinds or rule.kinds & TEXT_KINDS):
                patterns += _compile(rule, len(pattern_rules))
                pattern_rules.append(rule)
            elif rule.check is not None and rule.check in TEXT_CHECKS:
                checks.append((rule, TEXT_CHECKS[rule.check]))
        self._pattern_rules = tuple(pattern_rules)
        self._patterns = tuple(patterns)
        self.rules = self._pattern_rules + tuple(r for r, _ in checks)
        self._plans = MappingProxyType({kind: self._plan(kind, checks) for kind in sorted(TEXT_KINDS)})
        self._any = _index(self._patterns, range(len(self._patterns)))
        self._vocabulary = frozenset(w for p in self._patterns for clause in p.clauses for w in clause)
        self._marks = tuple(sorted(m for m in self._vocabulary if m.decode() in MARKS))
        self._not_marks = bytes(c for c in range(256) if bytes([c]) not in self._marks)  # delete-table

    def _plan(self, kind: str, checks: list[tuple[Rule, CheckFn]]) -> _Plan:
        selected = [i for i, p in enumerate(self._patterns) if kind in _rule_kinds(self._pattern_rules[p.rule])]
        mine = tuple((rule, fn) for rule, fn in checks if kind in _rule_kinds(rule))
        return _Plan(_index(self._patterns, selected), mine, DetectResult(kind))

    def patterns_of(self, rule_id: str) -> tuple[regex.Pattern[str], ...]:
        """The compiled patterns of a pattern rule (empty for unknown ids and code checks)."""
        return tuple(p.regex for p in self._patterns if self._pattern_rules[p.rule].id == rule_id)

    def requirements_of(self, rule_id: str) -> tuple[tuple[frozenset[bytes], ...], ...]:
        """For each pattern of a rule, the word clauses its matches must satisfy (() = runs on every text)."""
        return tuple(p.clauses for p in self._patterns if self._pattern_rules[p.rule].id == rule_id)

    def view(self, text: str) -> str:
        """The normalised, whitespace-collapsed text that rules match against."""
        if len(text) <= self.max_chars and plain_bytes(text) is not None:
            return " ".join(text.split())
        return self.normalizer.normalize(text).view

    def _live(self, index: _Index, words: frozenset[bytes]) -> list[int]:
        """Patterns whose every clause `words` satisfies (plus those with no clause), in rule order."""
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

    @property
    def vocabulary(self) -> frozenset[bytes]:
        """Every word (and mark) some pattern's clauses mention: all that `screen` needs to see."""
        return self._vocabulary

    def screen(self, texts: Sequence[str], vocabulary: frozenset[bytes] | None = None) -> Screen:
        """Which of several texts need `detect`, and the vocabulary words they contain (see `screen_many`)."""
        return self.screen_many([texts], vocabulary)[0]

    def screen_many(self, groups: Sequence[Sequence[str]], vocabulary: frozenset[bytes] | None = None) -> list[Screen]:
        """`screen` for many groups of texts (say, one group per definition) in one C-speed pass.

        `vocabulary` defaults to the engine's; pass a superset to learn about other words too (the
        shadowing check passes tool names). Plain ASCII is split into words without normalising; a
        text is hot only if some pattern's clauses all hold in it *and* that pattern matches it, so
        a cold text is certainly clean. Texts that need normalisation are always hot.
        """
        vocabulary = self._vocabulary if vocabulary is None else vocabulary
        raw = GROUP_SEPARATOR_BYTE.join(SEPARATOR.join(g).encode("utf-8", "surrogatepass") for g in groups)
        translated = raw.translate(SCREEN_TABLE)
        raw_groups = raw.split(GROUP_SEPARATOR_BYTE)
        if len(raw_groups) != len(groups):  # a text contains the group separator itself
            return [self._screen_each(group, vocabulary) for group in groups]
        word_groups = translated.replace(SEPARATOR_BYTE, b" ").split(GROUP_SEPARATOR_BYTE)
        results = []
        for group, raw_group, translated_group, word_group in zip(
            groups, raw_groups, translated.split(GROUP_SEPARATOR_BYTE), word_groups, strict=True
        ):
            plain = (
                b"\x01" not in translated_group
                and b"]:" not in raw_group
                and translated_group.count(SEPARATOR_BYTE) == max(0, len(group) - 1)
                and len(raw_group) <= self.max_chars
            )
            if plain:
                results.append(self._screen_plain(group, raw_group, translated_group, word_group, vocabulary))
            else:
                results.append(self._screen_each(group, vocabulary))
        return results

    def _screen_plain(
        self, texts: Sequence[str], raw: bytes, translated: bytes, spaced: bytes, vocabulary: frozenset[bytes]
    ) -> Screen:
        present = raw.translate(None, self._not_marks) if self._marks else b""
        marks = [m for m in self._marks if m in present] if present else []
        words = vocabulary.intersection(spaced.split())
        words = words.union(marks) if marks else words
        candidates = self._live(self._any, words)
        if not candidates:
            return Screen(words, ())
        # Some pattern's words all occur somewhere. Find the texts holding a word of a candidate's first
        # clause (byte search: the translated text has only word bytes, spaces and separators), then
        # check those texts alone.
        clauses = [self._patterns[i].clauses[0] for i in candidates if self._patterns[i].clauses]
        first = words.intersection(frozenset().union(*clauses))
        positions = set(range(len(texts))) if self._any.always else _texts_holding(first, raw, translated)
        hot = []
        parts = translated.split(SEPARATOR_BYTE)
        raw_parts = raw.split(SEPARATOR_BYTE) if marks else []
        for index in sorted(positions):
            own_marks = [m for m in marks if m in raw_parts[index]] if marks else []
            if self._text_matches(texts[index], candidates, frozenset(parts[index].split()).union(own_marks)):
                hot.append(index)
        return Screen(words, tuple(hot))

    def _screen_each(self, texts: Sequence[str], vocabulary: frozenset[bytes]) -> Screen:
        """Screen plain texts together and normalise the rest, which are hot."""
        plain = [i for i, t in enumerate(texts) if len(t) <= self.max_chars and plain_bytes(t) is not None]
        plain = [i for i in plain if SEPARATOR not in texts[i] and GROUP_SEPARATOR not in texts[i]]
        words: set[bytes] = set()
        hot: list[int] = []
        if plain:
            group = [texts[i] for i in plain]
            raw = SEPARATOR.join(group).encode("ascii")
            translated = raw.translate(SCREEN_TABLE)
            sub = self._screen_plain(group, raw, translated, translated.replace(SEPARATOR_BYTE, b" "), vocabulary)
            words |= sub.words
            hot += [plain[i] for i in sub.hot]
        normalized: dict[int, Normalized] = {}
        for index in sorted(set(range(len(texts))) - set(plain)):
            norm = normalized[index] = self.normalizer.normalize(texts[index])
            words |= vocabulary.intersection(view_words([norm.view, *(s.text for s in norm.segments)], self._marks))
            hot.append(index)
        return Screen(frozenset(words), tuple(sorted(hot)), MappingProxyType(normalized))

    def _text_matches(self, text: str, candidates: list[int], words: frozenset[bytes]) -> bool:
        live = [i for i in candidates if all(not c.isdisjoint(words) for c in self._patterns[i].clauses)]
        if not live:
            return False
        view = " ".join(text.split())
        try:
            return any(self._patterns[i].regex.search(view, timeout=self.timeout_s) for i in live)
        except TimeoutError:
            return True

    def detect(self, text: str, kind: str, *, normalized: Normalized | None = None) -> DetectResult:
        """Run every rule that applies to `kind` on `text` (of any size; analysis is bounded).

        `normalized` may pass `screen`'s normalisation of this very text, so it is not done twice.
        """
        plan = self._plans.get(kind)
        if plan is None:
            raise ValueError(f"unknown text kind {kind!r} (one of: {', '.join(sorted(TEXT_KINDS))})")
        plain = plain_bytes(text) if normalized is None and len(text) <= self.max_chars else None
        if plain is not None:
            live = self._live(plan.index, words_of(*plain, self._marks))
            if not live:
                return plan.empty
            norm = Normalized(" ".join(text.split()))
        else:
            norm = normalized or self.normalizer.normalize(text)
            live = self._live(plan.index, view_words([norm.view, *(s.text for s in norm.segments)], self._marks))
        matches, extra = self._run_patterns(live, norm)
        if extra:
            norm = dataclasses.replace(norm, reveals=norm.reveals + tuple(extra))
        for rule, check in plan.checks:
            hit = check(norm, rule.options)
            if hit is not None:
                matches.append(Match(rule, hit.evidence, hit.detail, "text", hit.severity))
        if not matches and not norm.reveals:
            return plan.empty
        matches.sort(key=lambda m: (-m.effective_severity, m.rule.id))
        return DetectResult(kind, tuple(matches), score(matches), norm.reveals, norm.truncated)

    def _run_patterns(self, live: list[int], norm: Normalized) -> tuple[list[Match], list[Reveal]]:
        matches: list[Match] = []
        extra: list[Reveal] = []
        done: set[int] = set()
        sources = (Segment(norm.view, "text"), *norm.segments)
        for index in live:
            pattern = self._patterns[index]
            if pattern.rule in done:
                continue
            rule = self._pattern_rules[pattern.rule]
            for source in sources:
                try:
                    found = pattern.regex.search(source.text, timeout=self.timeout_s)
                except TimeoutError:
                    extra.append(Reveal("timeout", 1, source.text[:_CONTEXT], note=rule.id))
                    continue
                if found is not None:
                    matches.append(_match(rule, source, found, norm))
                    done.add(pattern.rule)
                    break
        return matches, extra


def _match(rule: Rule, source: Segment, found: regex.Match[str], norm: Normalized) -> Match:
    origin = source.origin
    if origin == "text":
        inside = [r for r in norm.regions() if r.span and r.span[0] <= found.start() < r.span[1]]
        origin = inside[0].kind if inside else "text"
    text = source.text
    start, end = max(0, found.start() - _CONTEXT), min(found.end(), found.start() + _MAX_SPAN) + _CONTEXT
    evidence = ("…" if start else "") + text[start:end] + ("…" if end < len(text) else "")
    return Match(rule, evidence, _ORIGIN_DETAIL.get(origin, ""), origin)


def _texts_holding(words: Iterable[bytes], raw: bytes, translated: bytes) -> set[int]:
    """Indices of the separator-joined texts that contain one of `words` (whole) or of the marks."""
    found: set[int] = set()
    end = len(translated)
    for word in words:
        is_mark = len(word) == 1 and not word.isalnum() and word != b"_"
        haystack = raw if is_mark else translated
        start = haystack.find(word)
        while start >= 0:
            stop = start + len(word)
            if is_mark or (
                (start == 0 or translated[start - 1] in _BREAKS) and (stop == end or translated[stop] in _BREAKS)
            ):
                found.add(translated.count(SEPARATOR_BYTE, 0, start))
            start = haystack.find(word, stop)
    return found


@functools.lru_cache(maxsize=1)
def default_engine() -> Engine:
    """The engine over every shipped rule, built once per process."""
    return Engine(builtin_rules())


def detect(text: str, kind: str, engine: Engine | None = None) -> DetectResult:
    """Detect with `engine`, or with the shipped rules when none is given."""
    return (engine or default_engine()).detect(text, kind)
