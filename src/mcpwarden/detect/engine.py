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
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from types import MappingProxyType

import regex

from mcpwarden.detect.anchors import MARKS
from mcpwarden.detect.decoders import default_decoders
from mcpwarden.detect.matching import line_view, make_match, search, windows
from mcpwarden.detect.normalize import MAX_FIELD_CHARS, Decoder, Normalized, Normalizer, Reveal, Segment
from mcpwarden.detect.patterns import Index, Pattern, build_index, compile_rule
from mcpwarden.detect.prefilter import Prefilter
from mcpwarden.detect.results import DetectResult, Match, Screen, score
from mcpwarden.detect.ruleset import TEXT_KINDS, Rule, builtin_rules
from mcpwarden.detect.scoring import Scorer, Thresholds, combine, load_thresholds
from mcpwarden.detect.textchecks import TEXT_CHECKS, CheckFn
from mcpwarden.detect.words import (
    FAST_TABLE,
    GROUP_SEPARATOR,
    GROUP_SEPARATOR_BYTE,
    SCREEN_TABLE,
    SEPARATOR,
    SEPARATOR_BYTE,
    plain_bytes,
    view_words,
    words_of,
)

DEFAULT_TIMEOUT_S = 0.5  # per pattern and text; a timeout is reported (MW399), never fatal
_CONTEXT = 40
_BREAKS = frozenset(b" \x1e")  # what can surround a word in translated bytes
SCREEN_KINDS = frozenset(
    {"tool_description", "parameter_description", "prompt", "resource"}
)  # beyond this many anchor-word occurrences, one search over the whole view is cheaper


@dataclass(frozen=True, slots=True)
class _Plan:
    """What runs on one text kind."""

    index: Index
    checks: tuple[tuple[Rule, CheckFn], ...]
    empty: DetectResult


def _rule_kinds(rule: Rule) -> frozenset[str]:
    return rule.kinds & TEXT_KINDS if rule.kinds else TEXT_KINDS


class Engine:
    """Compiled rules for every text kind; build once per process (see `default_engine`) and share."""

    def __init__(
        self,
        rules: Iterable[Rule],
        *,
        max_chars: int = MAX_FIELD_CHARS,
        timeout_s: float = DEFAULT_TIMEOUT_S,
        decoders: Sequence[Decoder] | None = None,
        thresholds: Thresholds | None = None,
        scorer: Scorer | None = None,
        prefilter: bool = True,
    ) -> None:
        """`decoders` default to base64, hex, URL and HTML-entity decoding (pass `()` for none);
        `thresholds` to the shipped `thresholds.yaml`; `scorer` (a learned classifier) to none;
        `prefilter=False` leaves out the Hyperscan prefilter (same results, slower; for comparison)."""
        self.decoders = tuple(default_decoders() if decoders is None else decoders)
        self.normalizer = Normalizer(max_chars=max_chars, decoders=self.decoders)
        self.max_chars = max_chars
        self.timeout_s = timeout_s
        self.thresholds = thresholds if thresholds is not None else load_thresholds()
        self.scorer = scorer
        self.all_rules = tuple(rules)  # including rules other modules implement (inventory checks)
        pattern_rules: list[Rule] = []
        patterns: list[Pattern] = []
        checks: list[tuple[Rule, CheckFn]] = []
        for rule in self.all_rules:
            if rule.patterns and (not rule.kinds or rule.kinds & TEXT_KINDS):
                patterns += compile_rule(rule, len(pattern_rules))
                pattern_rules.append(rule)
            elif rule.check is not None and rule.check in TEXT_CHECKS:
                checks.append((rule, TEXT_CHECKS[rule.check]))
        self._pattern_rules = tuple(pattern_rules)
        self._patterns = tuple(patterns)
        # `lines` patterns match a different view of the text; the anchor index alone serves them.
        sources = [None if p.lines else p.regex.pattern for p in self._patterns]
        self._prefilter = Prefilter(sources) if prefilter and any(sources) else None
        self.rules = self._pattern_rules + tuple(r for r, _ in checks)
        self._plans = MappingProxyType({kind: self._plan(kind, checks) for kind in sorted(TEXT_KINDS)})
        # Screening serves the scanner, which reads definitions: rules only for tool results stay out of it.
        screened = [i for i, p in enumerate(self._patterns) if _rule_kinds(self._pattern_rules[p.rule]) & SCREEN_KINDS]
        self._any = build_index(self._patterns, screened)
        self._vocabulary = frozenset(w for i in screened for clause in self._patterns[i].clauses for w in clause)
        every_word = frozenset(w for p in self._patterns for clause in p.clauses for w in clause)
        self._marks = tuple(sorted(m for m in every_word if m.decode() in MARKS))
        self._not_marks = bytes(c for c in range(256) if bytes([c]) not in self._marks)  # delete-table

    def _plan(self, kind: str, checks: list[tuple[Rule, CheckFn]]) -> _Plan:
        selected = [i for i, p in enumerate(self._patterns) if kind in _rule_kinds(self._pattern_rules[p.rule])]
        mine = tuple((rule, fn) for rule, fn in checks if kind in _rule_kinds(rule))
        empty = DetectResult(kind, threshold=self.thresholds.threshold(kind))
        return _Plan(build_index(self._patterns, selected), mine, empty)

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

    def _live(self, index: Index, words: frozenset[bytes]) -> list[int]:
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
                and not self.decodable(raw_group)
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
        plain = [i for i in plain if not self.decodable(texts[i].encode("ascii"))]
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
            return any(
                self._patterns[i].regex.search(
                    line_view(text) if self._patterns[i].lines else view, timeout=self.timeout_s
                )
                for i in live
            )
        except TimeoutError:
            return True

    def decodable(self, raw: bytes) -> bool:
        """Whether some decoder may find an encoded segment in these plain ASCII bytes (C-speed test)."""
        return any(decoder.may_apply(raw) for decoder in self.decoders)

    def detect(self, text: str, kind: str, *, normalized: Normalized | None = None) -> DetectResult:
        """Run every rule that applies to `kind` on `text` (of any size; analysis is bounded).

        `normalized` may pass `screen`'s normalisation of this very text, so it is not done twice.
        The result's `score` joins the learned scorer's when the engine has one; `flagged` compares it
        with the kind's threshold.
        """
        plan = self._plans.get(kind)
        if plan is None:
            raise ValueError(f"unknown text kind {kind!r} (one of: {', '.join(sorted(TEXT_KINDS))})")
        plain = plain_bytes(text) if normalized is None and len(text) <= self.max_chars else None
        if plain is not None and not self.decodable(plain[0]):
            live = self._live(plan.index, words_of(*plain, self._marks))
            if not live and self.scorer is None:
                return plan.empty
            norm = Normalized(" ".join(text.split()), text=text)
            translated: bytes | None = plain[1]
        else:
            norm = normalized or self.normalizer.normalize(text)
            live = self._live(plan.index, view_words([norm.view, *(s.text for s in norm.segments)], self._marks))
            translated = None
        matches, extra = self._run_patterns(live, norm, translated is not None)
        if extra:
            norm = dataclasses.replace(norm, reveals=norm.reveals + tuple(extra))
        for rule, check in plan.checks:
            hit = check(norm, rule.options)
            if hit is not None:
                matches.append(Match(rule, hit.evidence, hit.detail, "text", hit.severity))
        ml = self._ml_score(text, kind)
        if not matches and not norm.reveals and ml is None:
            return plan.empty
        matches.sort(key=lambda m: (-m.effective_severity, m.rule.id))
        total = combine(score(matches), ml, kind, self.thresholds)
        threshold = plan.empty.threshold
        return DetectResult(kind, tuple(matches), total, norm.reveals, norm.truncated, threshold, ml)

    def _ml_score(self, text: str, kind: str) -> float | None:
        if self.scorer is None:
            return None
        try:
            return float(self.scorer.score(text[: self.max_chars], kind))
        except Exception:  # a learned layer that fails leaves the rules' verdict standing
            return None

    def _run_patterns(self, live: list[int], norm: Normalized, ascii_view: bool) -> tuple[list[Match], list[Reveal]]:
        matches: list[Match] = []
        extra: list[Reveal] = []
        done: set[int] = set()
        view = norm.view
        sources = (Segment(view, "text"), *norm.segments)
        covered = self._prefilter.covered if self._prefilter is not None and live else frozenset()
        # One linear Hyperscan pass per source tells which live patterns need a `regex` search at all.
        hits = [self._prefilter.hits(s.text) for s in sources] if covered and not covered.isdisjoint(live) else None
        lines: tuple[Segment, ...] | None = None
        # Long ASCII views are searched only near the words a pattern needs (see `windows`).
        spaced = b" " + view.encode("ascii").translate(FAST_TABLE) + b" " if ascii_view and len(view) > 1024 else None
        for index in live:
            pattern = self._patterns[index]
            if pattern.rule in done:
                continue
            rule = self._pattern_rules[pattern.rule]
            if pattern.lines:
                lines = lines if lines is not None else (Segment(line_view(norm.text or view), "text"),)
            for number, source in enumerate(lines if pattern.lines and lines is not None else sources):
                if hits is not None and index in covered and not pattern.lines:
                    may = hits[number]
                    if may is not None and index not in may:
                        continue  # Hyperscan proved the pattern cannot match this source
                spans = windows(pattern, spaced) if spaced is not None and source.text is view else None
                try:
                    found = search(pattern.regex, source.text, spans, self.timeout_s)
                except TimeoutError:
                    extra.append(Reveal("timeout", 1, source.text[:_CONTEXT], note=rule.id))
                    continue
                if found is not None:
                    matches.append(make_match(rule, source, found, norm, pattern.lines))
                    done.add(pattern.rule)
                    break
        return matches, extra


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


@functools.lru_cache(maxsize=2)
def default_engine(learned: bool = False) -> Engine:
    """The engine over every shipped rule, built once per process; with `learned`, joined by the
    optional learned scorer (`mcpwarden.detect.ml`) when it is installed."""
    return Engine(builtin_rules(), scorer=learned_scorer() if learned else None)


def learned_scorer() -> Scorer | None:
    """The learned scorer of the `ml` extra, or None when it is not installed."""
    try:
        from mcpwarden.detect.ml import load_scorer  # an optional package: absent without the extra
    except ImportError:
        return None
    return load_scorer()


def detect(text: str, kind: str, engine: Engine | None = None) -> DetectResult:
    """Detect with `engine`, or with the shipped rules when none is given."""
    return (engine or default_engine()).detect(text, kind)
