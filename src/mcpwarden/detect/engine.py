"""The text detection engine: one entry point, `detect(text, kind)`, for every text mcpwarden inspects.

The scanner runs it on descriptions and schemas; the gateway will run it on arguments and results.
An `Engine` is built once from a rule set, is immutable afterwards, and is shared freely.

How a text is matched:
1. Plain text (see `words.py`) needs no normalisation; anything else is normalised first
   (`normalize.py`), giving a view and hidden segments.
2. One Hyperscan pass over each ASCII view (`prefilter.py`) says which patterns may match it at
   all. On benign text it usually reports none, and the answer is known without more work.
3. Otherwise words come from the text (plain) or from the view and segments. Every pattern is
   indexed by the words it cannot match without (`anchors.py`): a few clauses, each a set of words
   of which one must occur. A pattern runs only when all its clauses are satisfied. A single
   alternation of all patterns would be simpler, but the `regex` module scans such an alternation
   at about 1 MB/s, which cannot serve 10,000 definitions a second; the index can.
4. Live patterns the prefilter did not rule out run (case-insensitive, MULTILINE, time-limited) over
   the view and each hidden segment; the first match per rule becomes a `Match`, attributed to
   where the text was hidden.
5. Code checks (`textchecks.py`) turn what normalisation revealed into matches.
6. The matches are combined into a 0..1 score (`results.score`).

The gateway scans one text for several purposes (arguments, then the same text echoed in a result;
secret masking of both): `analyze` runs the kind-independent pass once, and its `TextAnalysis`
answers `detect` for every kind and says whether `mask_secrets` could find anything (the secret
patterns ride along in the same Hyperscan pass, as probes).
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from types import MappingProxyType

import regex

from mcpwarden.detect.anchors import MARKS
from mcpwarden.detect.decoders import Base64Decoder, HexDecoder, HtmlEntityDecoder, UrlDecoder, default_decoders
from mcpwarden.detect.matching import line_view, make_match, search, windows
from mcpwarden.detect.normalize import MAX_FIELD_CHARS, Decoder, Normalized, Normalizer, Reveal, Segment
from mcpwarden.detect.patterns import Index, Pattern, build_index, compile_rule, live_patterns
from mcpwarden.detect.prefilter import Prefilter
from mcpwarden.detect.results import DetectResult, Match, Screen, score
from mcpwarden.detect.ruleset import TEXT_KINDS, Rule, builtin_rules
from mcpwarden.detect.scoring import Scorer, Thresholds, combine, load_thresholds
from mcpwarden.detect.screening import Screener, TextAnalysis, secret_probes
from mcpwarden.detect.textchecks import TEXT_CHECKS, CheckFn
from mcpwarden.detect.words import FAST_TABLE, ascii_stand_in, ascii_view, plain_bytes, view_words, words_of

_MONOTONE_DECODERS = (Base64Decoder, HexDecoder, UrlDecoder, HtmlEntityDecoder)  # see Screener
DEFAULT_TIMEOUT_S = 0.5  # per pattern and text; a timeout is reported (MW399), never fatal
_CONTEXT = 40
SCREEN_KINDS = frozenset(
    {"tool_description", "parameter_description", "prompt", "resource"}
)  # beyond this many anchor-word occurrences, one search over the whole view is cheaper


@dataclass(frozen=True, slots=True)
class _Hits:
    """The prefilter's answer for one text: per source (view, then segments), and for its line
    view; None where there is no answer."""

    sources: tuple[set[int] | None, ...]
    lines: set[int] | None
    covered: frozenset[int]  # the patterns this answer speaks for

    @property
    def complete(self) -> bool:
        return self.lines is not None and all(found is not None for found in self.sources)


@dataclass(frozen=True, slots=True)
class _Plan:
    """What runs on one text kind."""

    index: Index
    checks: tuple[tuple[Rule, CheckFn], ...]
    empty: DetectResult
    selected: frozenset[int]  # the patterns that apply
    prefilter: Prefilter | None  # the smallest prefilter that answers for them


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
        `prefilter=False` leaves out the Hyperscan prefilter and the normaliser's shortcuts (same
        results, slower: the full path, for comparison)."""
        self.decoders = tuple(default_decoders() if decoders is None else decoders)
        self.normalizer = Normalizer(max_chars=max_chars, decoders=self.decoders, shortcuts=prefilter)
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
        # Decoders' probes ride along in the prefilter's pass over the text as it came (`decodable`).
        probes: list[tuple[int, str]] = []
        for number, decoder in enumerate(self.decoders):
            probe = getattr(decoder, "probe", None)
            if isinstance(probe, str):
                probes.append((number, probe))
        self._probe_ids = {number: len(self._patterns) + k for k, (number, _) in enumerate(probes)}
        # Then the secret patterns: the same pass over a text tells whether it needs `mask_secrets`.
        secret_sources = secret_probes()
        first_secret = len(self._patterns) + len(probes)
        self._secret_ids = frozenset(range(first_secret, first_secret + len(secret_sources)))
        probe_sources = [*(p for _, p in probes), *secret_sources]
        sources = [p.regex.pattern for p in self._patterns]
        lines = [p.lines for p in self._patterns]
        self._prefilter = Prefilter(sources, lines, probe_sources) if prefilter and sources else None
        # Screening serves the scanner, which reads definitions: rules only for tool results stay out of it.
        screened = [i for i, p in enumerate(self._patterns) if _rule_kinds(self._pattern_rules[p.rule]) & SCREEN_KINDS]
        # Definitions and the like need fewer patterns than tool results; a database without the
        # others scans them several times faster (some tool-result rules start on common verbs).
        self._screen_prefilter = self._prefilter
        if self._prefilter is not None and len(screened) < len(sources):
            kept = frozenset(screened)
            subset = [source if i in kept else None for i, source in enumerate(sources)]
            self._screen_prefilter = Prefilter(subset, lines, probe_sources)
        self._covered: dict[int, frozenset[int]] = {}  # by id(prefilter), once compiled (on first use)
        self._unanswered_kinds: frozenset[str] | None = None
        self.rules = self._pattern_rules + tuple(r for r, _ in checks)
        self._screened = frozenset(screened)
        self._plans = MappingProxyType({kind: self._plan(kind, checks) for kind in sorted(TEXT_KINDS)})
        every_word = frozenset(w for p in self._patterns for clause in p.clauses for w in clause)
        self._marks = tuple(sorted(m for m in every_word if m.decode() in MARKS))
        self._screener = Screener(
            self._patterns,
            screened,
            self._marks,
            max_chars=max_chars,
            timeout_s=timeout_s,
            decodable=self.decodable,
            decoders_monotone=all(type(d) in _MONOTONE_DECODERS for d in self.decoders),
            normalize=self.normalizer.normalize,
            prefilter=self._screen_prefilter,
        )

    def _plan(self, kind: str, checks: list[tuple[Rule, CheckFn]]) -> _Plan:
        selected = frozenset(
            i for i, p in enumerate(self._patterns) if kind in _rule_kinds(self._pattern_rules[p.rule])
        )
        mine = tuple((rule, fn) for rule, fn in checks if kind in _rule_kinds(rule))
        empty = DetectResult(kind, threshold=self.thresholds.threshold(kind))
        prefilter = self._screen_prefilter if selected <= self._screened else self._prefilter
        return _Plan(build_index(self._patterns, sorted(selected)), mine, empty, selected, prefilter)

    def _covered_by(self, prefilter: Prefilter) -> frozenset[int]:
        """The patterns (and probes) `prefilter` answers for, compiling it on first use."""
        covered = self._covered.get(id(prefilter))
        if covered is None:
            covered = self._covered[id(prefilter)] = prefilter.covered
        return covered

    def _unanswered(self) -> frozenset[str]:
        """The kinds with a pattern their prefilter does not answer for."""
        if self._unanswered_kinds is None:
            self._unanswered_kinds = frozenset(
                kind
                for kind, plan in self._plans.items()
                if plan.prefilter is None or not plan.selected <= self._covered_by(plan.prefilter)
            )
        return self._unanswered_kinds

    def prepare(self) -> None:
        """Compile (or load from the on-disk cache) the Hyperscan prefilter now: it is otherwise built
        on first use, which then takes from a tenth of a second (cached) to several seconds."""
        for prefilter in {id(p): p for p in (self._prefilter, self._screen_prefilter) if p is not None}.values():
            prefilter.prepare()
        self._unanswered()

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

    @property
    def vocabulary(self) -> frozenset[bytes]:
        """Every word (and mark) some pattern's clauses mention: all that `screen` needs to see."""
        return self._screener.vocabulary

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
        return self._screener.screen_many(groups, self.vocabulary if vocabulary is None else vocabulary)

    def decodable(self, raw: bytes, found: set[int] | frozenset[int] | None = None) -> bool:
        """Whether some decoder may find an encoded segment in these plain ASCII bytes (C-speed test).

        `found`: the prefilter's `line_hits` of these bytes (or of more text around them), whose
        decoder probes spare asking decoders that cannot apply."""
        covered = self._covered_by(self._prefilter) if found is not None and self._prefilter else frozenset()
        for number, decoder in enumerate(self.decoders):
            probe = self._probe_ids.get(number)
            if found is not None and probe in covered and probe not in found:
                continue  # the probe, which every text it applies to contains, is absent
            if decoder.may_apply(raw):
                return True
        return False

    def analyze(self, text: str) -> TextAnalysis:
        """The part of `detect` every kind shares, done once: pass it to `detect(…, analysis=)` for
        each kind this very text is detected as, and read `may_hold_secret` before `mask_secrets`."""
        prefilter = self._prefilter
        plain = plain_bytes(text) if len(text) <= self.max_chars else None
        if plain is None or prefilter is None:
            return TextAnalysis(text, prefilter, None, None, True)  # normalised by `detect`; masked in full
        found = prefilter.line_hits(plain[0])
        view_found = None if self.decodable(plain[0], found) else prefilter.view_hits(ascii_view(plain[0]))
        return TextAnalysis(text, prefilter, found, view_found, self._may_hold_secret(prefilter, found))

    def _may_hold_secret(self, prefilter: Prefilter, found: set[int]) -> bool:
        if not self._secret_ids or not self._secret_ids <= self._covered_by(prefilter):
            return True  # some secret pattern is not in the database: the pass cannot rule secrets out
        return not found.isdisjoint(self._secret_ids)

    def detect(
        self, text: str, kind: str, *, normalized: Normalized | None = None, analysis: TextAnalysis | None = None
    ) -> DetectResult:
        """Run every rule that applies to `kind` on `text` (of any size; analysis is bounded).

        `normalized` may pass `screen`'s normalisation of this very text, so it is not done twice;
        `analysis`, `analyze`'s pass over it. The result's `score` joins the learned scorer's when the
        engine has one; `flagged` compares it with the kind's threshold.
        """
        plan = self._plans.get(kind)
        if plan is None:
            raise ValueError(f"unknown text kind {kind!r} (one of: {', '.join(sorted(TEXT_KINDS))})")
        prefilter = plan.prefilter
        if (
            analysis is not None
            and (analysis.text is text or analysis.text == text)
            and analysis.view_found is not None
            and analysis.found is not None
            and analysis.prefilter is prefilter
            and prefilter is not None
            and normalized is None
            and self.scorer is None
        ):
            hits = _Hits((analysis.view_found,), analysis.found, self._covered_by(prefilter))
            if not self._may_match(plan, hits):
                return plan.empty  # as below, answered by the shared pass
        plain = plain_bytes(text) if normalized is None and len(text) <= self.max_chars else None
        found = prefilter.line_hits(plain[0]) if plain is not None and prefilter is not None else None
        if plain is not None and self.decodable(plain[0], found):
            plain = None  # an encoded segment may hide in it: normalise
        if plain is not None:
            raw, translated = plain
            view: str | None = None
            hits = None
            if prefilter is not None and found is not None:
                view_bytes = ascii_view(raw)
                hits = _Hits((prefilter.view_hits(view_bytes),), found, self._covered_by(prefilter))
                if self.scorer is None and not self._may_match(plan, hits):
                    return plan.empty  # the common case: benign plain text, one Hyperscan pass
                view = view_bytes.decode("ascii")
            live = live_patterns(plan.index, words_of(raw, translated, self._marks))
            if not live and self.scorer is None:
                return plan.empty
            norm = Normalized(" ".join(text.split()) if view is None else view, text=text)
        else:
            norm = normalized or self.normalizer.normalize(text)
            hits = self._source_hits(norm, prefilter)
            if hits is not None and hits.complete and not self._may_match(plan, hits):
                live = []  # every source is ASCII and the prefilter ruled every pattern out
            else:
                live = live_patterns(plan.index, view_words([norm.view, *(s.text for s in norm.segments)], self._marks))
        matches, extra = self._run_patterns(live, norm, plain is not None, hits)
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

    def _may_match(self, plan: _Plan, hits: _Hits) -> bool:
        """Whether some pattern of `plan` may match, as far as the prefilter can tell."""
        if plan.empty.kind in self._unanswered():
            return True  # a pattern the prefilter cannot answer for
        if hits.lines is None or not hits.lines.isdisjoint(plan.selected):
            return True
        return any(found is None or not found.isdisjoint(plan.selected) for found in hits.sources)

    def _source_hits(self, norm: Normalized, prefilter: Prefilter | None) -> _Hits | None:
        """The prefilter's answer for each source of a normalised text, and for its line view (None
        where a text has no ASCII stand-in)."""
        if prefilter is None:
            return None
        sources: list[set[int] | None] = []
        for text in (norm.view, *(s.text for s in norm.segments)):
            if text.isascii():
                sources.append(prefilter.view_hits(text.encode("ascii")))
            else:
                view = ascii_stand_in(text)
                sources.append(None if view is None else prefilter.view_hits(view, stand_in=True))
        lines_text = norm.text or norm.view
        lines: set[int] | None
        if lines_text.isascii():
            lines = prefilter.line_hits(lines_text.encode("ascii"))
        else:
            raw = ascii_stand_in(lines_text)
            lines = None if raw is None else prefilter.line_hits(raw, stand_in=True)
        return _Hits(tuple(sources), lines, self._covered_by(prefilter))

    def _run_patterns(
        self, live: list[int], norm: Normalized, ascii_view: bool, hits: _Hits | None
    ) -> tuple[list[Match], list[Reveal]]:
        matches: list[Match] = []
        extra: list[Reveal] = []
        done: set[int] = set()
        view = norm.view
        sources = (Segment(view, "text"), *norm.segments)
        # What one Hyperscan pass per source proved cannot match needs no `regex` search.
        covered = hits.covered if live and hits is not None else frozenset()
        lines: tuple[Segment, ...] | None = None
        # Long ASCII views are searched only near the words a pattern needs (see `windows`).
        spaced = b" " + view.encode("ascii").translate(FAST_TABLE) + b" " if ascii_view and len(view) > 1024 else None
        for index in live:
            pattern = self._patterns[index]
            if pattern.rule in done:
                continue
            rule = self._pattern_rules[pattern.rule]
            if pattern.lines:
                if hits is not None and hits.lines is not None and index in covered and index not in hits.lines:
                    continue  # Hyperscan proved the pattern cannot match the line view
                lines = lines if lines is not None else (Segment(line_view(norm.text or view), "text"),)
            for number, source in enumerate(lines if pattern.lines and lines is not None else sources):
                if hits is not None and index in covered and not pattern.lines:
                    may = hits.sources[number]
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
